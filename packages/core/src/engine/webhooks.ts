import { InvalidInputError } from "../errors.js";
import { eventId } from "../ids.js";
import { ID_PREFIXES } from "../kinds/index.js";
import { CreateWebhookInput, type DeliveryAttempt, LIVE_WEBHOOK_STATUS, type WebhookEndpoint, webhookKind } from "../kinds/webhook.js";
import { iso } from "../machine.js";
import { deliveryAttemptOf, isDeliveryEvent, matchesFilter, webhookMachine } from "../machines/webhook.js";
import { ListQuery } from "../schemas/common.js";
import type { SessionEvent } from "../schemas/event.js";
import type { OutboxMessage, Store, StoredRecord } from "../store.js";
import { parseInput } from "../validate.js";
import { checkWebhookUrl, type ResolveHost, targetRefusal } from "../webhooks/addresses.js";
import { createWebhookSecret } from "../webhooks/signing.js";
import { type ListOptions, notFound, type Page, type Records } from "./records.js";

/** The outbox topic of webhook deliveries: one message per event and endpoint. */
export const DELIVERY_TOPIC = "delivery";

/** What a delivery message carries: enough to sign and send without reading the event again. */
export interface DeliveryPayload {
  readonly webhook_id: string;
  readonly event_id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Where webhook targets may point, shared by endpoint creation and delivery. */
export interface TargetPolicy {
  readonly allowPrivateAddresses: boolean;
  readonly resolveHost: ResolveHost | undefined;
}

/**
 * The id of the delivery of one event to one endpoint: the same every time it is computed, so a
 * write retried after a conflict enqueues the same message, and the log groups its attempts.
 */
export function deliveryId(webhookId: string, event: Pick<SessionEvent, "id" | "at">): string {
  return `${ID_PREFIXES.delivery}_${eventId(`${webhookId}/${event.id}`, 1, event.at).slice(4)}`;
}

interface CachedEndpoints {
  readonly until: number;
  readonly endpoints: readonly { readonly id: string; readonly events: readonly string[] }[];
}

const NONE: readonly OutboxMessage[] = [];
const { liveEndpoints } = webhookKind.limits;
const ENDPOINT_LIMIT_REFUSAL = `an organization keeps at most ${liveEndpoints} webhook endpoints; delete one first`;
const MAX_CACHED_ORGANIZATIONS = 10_000;

/**
 * Turns written events into webhook deliveries, in the same atomic write as the events.
 *
 * Why not one "event" message fanned out later: the Store writes outbox messages only together
 * with a record, so a fan-out stage would have to write some record again just to enqueue the
 * deliveries. Knowing the organization's endpoints at write time instead costs one cached list
 * read per organization every `cacheMs`; an organization without endpoints then pays a map
 * lookup per write and nothing in the store (measured on the memory store: thread updates of an
 * organization without endpoints ran within noise of the engine without this hook, about 5%;
 * with an endpoint taking every event, each write also enqueues a delivery and runs at about half
 * that rate). The price is staleness across instances: another instance learns of a new endpoint
 * within `cacheMs` (at once with a `Notifier`, which drops the entry), and deliveries to an
 * endpoint deleted meanwhile are dropped when they are sent.
 */
export class EndpointDirectory {
  private readonly cache = new Map<string, CachedEndpoints>();
  private readonly loading = new Map<string, Promise<CachedEndpoints>>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly cacheMs: number,
  ) {}

  /** The deliveries of `events` to the organization's matching endpoints; synchronous on a cache hit. */
  outboxFor(record: StoredRecord, events: readonly SessionEvent[]): readonly OutboxMessage[] | Promise<readonly OutboxMessage[]> {
    // An endpoint's own timeline (its delivery log) is never delivered: it would feed itself.
    if (record.kind === "webhook") return NONE;
    const cached = this.cache.get(record.orgId);
    if (cached && cached.until > this.clock()) return deliveries(cached, record.orgId, events);
    return this.load(record.orgId).then((loaded) => deliveries(loaded, record.orgId, events));
  }

  /** Forgets an organization's endpoints, after one was created or deleted (here or elsewhere). */
  forget(orgId: string): void {
    this.cache.delete(orgId);
  }

  private load(orgId: string): Promise<CachedEndpoints> {
    let loading = this.loading.get(orgId);
    if (!loading) {
      loading = this.store
        .list(orgId, { kind: "webhook", status: LIVE_WEBHOOK_STATUS, limit: liveEndpoints * 2 })
        .then((page) => {
          const entry: CachedEndpoints = {
            until: this.clock() + this.cacheMs,
            endpoints: page.records.map((r) => ({ id: r.id, events: (r.data as WebhookEndpoint).events })),
          };
          if (this.cache.size >= MAX_CACHED_ORGANIZATIONS) this.cache.delete(this.cache.keys().next().value!);
          this.cache.set(orgId, entry);
          return entry;
        })
        .finally(() => this.loading.delete(orgId));
      this.loading.set(orgId, loading);
    }
    return loading;
  }
}

function deliveries(cached: CachedEndpoints, orgId: string, events: readonly SessionEvent[]): readonly OutboxMessage[] {
  if (cached.endpoints.length === 0) return NONE;
  const messages: OutboxMessage[] = [];
  for (const event of events) {
    for (const endpoint of cached.endpoints) {
      if (!matchesFilter(endpoint.events, event.type)) continue;
      const payload: DeliveryPayload = {
        webhook_id: endpoint.id,
        event_id: event.id,
        type: event.type,
        timestamp: iso(event.at),
        data: event.payload,
      };
      messages.push({ id: deliveryId(endpoint.id, event), orgId, topic: DELIVERY_TOPIC, payload: { ...payload }, availableAt: event.at });
    }
  }
  return messages;
}

/** One page of an endpoint's delivery log, newest attempt first. */
export interface DeliveryPage extends Page<DeliveryAttempt> {}

/** Webhook endpoints of an organization: create, read, list, delete, and read the delivery log. */
export interface WebhookOperations {
  /**
   * Creates an endpoint with a new `whsec_` secret; a target that is or resolves to a
   * special-purpose address is refused unless allowed, and so is a create past the organization's
   * `webhookKind.limits.liveEndpoints`.
   */
  create(orgId: string, input: CreateWebhookInput): Promise<WebhookEndpoint>;
  /** Reads a live endpoint (its secret included: callers decide what to show). */
  get(orgId: string, id: string): Promise<WebhookEndpoint>;
  /** Lists an organization's live endpoints, newest first. */
  list(orgId: string, query?: ListOptions<never>): Promise<Page<WebhookEndpoint>>;
  /** Deletes an endpoint: nothing more is delivered to it; its delivery log stays in the store. */
  delete(orgId: string, id: string): Promise<WebhookEndpoint>;
  /**
   * One page of an endpoint's delivery log, newest attempt first: every attempt with its event,
   * number, status code or error, and duration. Pages by `offset` or by the `nextCursor` given.
   */
  deliveries(orgId: string, id: string, query?: ListOptions<never>): Promise<DeliveryPage>;
}

export function webhookOperations(
  records: Records,
  newId: (prefix: string) => string,
  policy: TargetPolicy,
  directory: EndpointDirectory,
): WebhookOperations {
  async function live(orgId: string, id: string): Promise<StoredRecord> {
    const record = await records.load(orgId, "webhook", id);
    if (record.status !== LIVE_WEBHOOK_STATUS) throw notFound("webhook", id);
    return record;
  }

  return {
    async create(orgId, input) {
      const body = parseInput(CreateWebhookInput, input);
      const url = checkWebhookUrl(body.url, { allowPrivate: policy.allowPrivateAddresses });
      if (!policy.allowPrivateAddresses) {
        const refusal = await targetRefusal(url.hostname, policy.resolveHost, "creation");
        if (refusal !== null) throw new InvalidInputError("url", refusal);
      }
      const now = records.now;
      const endpoint: WebhookEndpoint = {
        id: newId(ID_PREFIXES.webhook),
        orgId,
        url: url.href,
        events: body.events ?? [],
        description: body.description ?? null,
        secret: createWebhookSecret(),
        status: LIVE_WEBHOOK_STATUS,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
      };
      const created = { type: "webhook.created", at: now, payload: { webhook_id: endpoint.id, url: endpoint.url, events: endpoint.events } };
      // Counted and inserted in one atomic step of the store: concurrent creates never pass the limit.
      await records.insert("webhook", endpoint, [created], {
        status: endpoint.status,
        limit: { status: LIVE_WEBHOOK_STATUS, max: liveEndpoints, refusal: ENDPOINT_LIMIT_REFUSAL },
      });
      directory.forget(orgId);
      return endpoint;
    },
    async get(orgId, id) {
      return (await live(orgId, id)).data as WebhookEndpoint;
    },
    async list(orgId, query = {}) {
      const { status: _ignored, ...page } = parseInput(ListQuery, query);
      return records.list<WebhookEndpoint>(orgId, "webhook", { ...page, status: LIVE_WEBHOOK_STATUS });
    },
    async delete(orgId, id) {
      await live(orgId, id);
      const deleted = await records.mutate(orgId, "webhook", id, webhookMachine, { type: "delete" });
      directory.forget(orgId);
      return deleted;
    },
    async deliveries(orgId, id, query = {}) {
      const { limit = 20, offset = 0, cursor } = parseInput(ListQuery, query);
      const record = await live(orgId, id);
      // Seq 1 is `webhook.created`; every later event of a live endpoint is a delivery attempt.
      const newest = record.eventCount;
      let top = newest - offset;
      if (cursor !== undefined) {
        if (!/^\d+$/.test(cursor)) throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
        top = Math.min(newest, Number(cursor) - 1);
      }
      const bottom = Math.max(2, top - limit + 1);
      const events = top < 2 ? [] : await records.store.timeline(orgId, id, { afterSeq: bottom - 1, limit: top - bottom + 1 });
      const data = events
        .filter((event) => isDeliveryEvent(event.type))
        .reverse()
        .map(deliveryAttemptOf);
      return {
        data,
        total: Math.max(0, newest - 1),
        limit,
        offset: cursor !== undefined ? 0 : offset,
        nextCursor: top >= 2 && bottom > 2 ? String(bottom) : null,
      };
    },
  };
}
