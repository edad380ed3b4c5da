import { InvalidInputError } from "../errors.js";
import { eventId } from "../ids.js";
import { ID_PREFIXES } from "../kinds/index.js";
import { CreateWebhookInput, type DeliveryAttempt, LIVE_WEBHOOK_STATUS, type WebhookEndpoint, webhookKind } from "../kinds/webhook.js";
import { iso } from "../machine.js";
import { deliveryAttemptOf, isDeliveryEvent, matchesFilter, webhookMachine } from "../machines/webhook.js";
import { ListQuery } from "../schemas/common.js";
import type { SessionEvent } from "../schemas/event.js";
import type { DeliveryLogEntry, OutboxMessage, Store, StoredRecord } from "../store.js";
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
  /**
   * Enqueues a `webhook.test` event for this endpoint alone, whatever its filter, delivered and
   * logged as any other; answers the event's id. Nothing is appended to a timeline.
   */
  sendTest(orgId: string, id: string): Promise<{ eventId: string }>;
}

/** The type of the event `sendTest` delivers. */
export const TEST_EVENT_TYPE = "webhook.test";

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
      return deliveryPage(records, record, { limit, offset, cursor });
    },
    async sendTest(orgId, id) {
      await live(orgId, id);
      const event = { id: newId(ID_PREFIXES.event), at: records.now };
      const payload: DeliveryPayload = {
        webhook_id: id,
        event_id: event.id,
        type: TEST_EVENT_TYPE,
        timestamp: iso(event.at),
        data: { message: "A test event sent from the console", webhook_id: id },
      };
      const delivery: OutboxMessage = { id: deliveryId(id, event), orgId, topic: DELIVERY_TOPIC, payload: { ...payload }, availableAt: event.at };
      await records.mutate(orgId, "webhook", id, webhookMachine, { type: "send_test", delivery });
      return { eventId: event.id };
    },
  };
}

/** The nextCursor of a page that ends among the store's log entries, told from a legacy one (digits). */
const STORE_CURSOR = "l";

/**
 * One page of an endpoint's delivery log, latest first: the store's log, then the attempts an
 * earlier release appended to the endpoint's timeline (seq 2 onward: seq 1 is `webhook.created`).
 * An attempt logged as started whose message is no longer leased by its sender for that attempt
 * shows as `unknown`: the sender stopped before logging how it ended.
 */
async function deliveryPage(
  records: Records,
  record: StoredRecord,
  query: { limit: number; offset: number; cursor: string | undefined },
): Promise<DeliveryPage> {
  const { store } = records;
  const { limit, cursor } = query;
  const legacyTotal = Math.max(0, record.eventCount - 1);
  let data: DeliveryAttempt[] = [];
  let total: number;
  let nextCursor: string | null = null;
  // The seq the legacy part of the page starts from, counting down; `null` while the store's entries go on.
  let legacyTop: number | null = null;
  if (cursor !== undefined && /^\d+$/.test(cursor)) {
    total = (await store.deliveryLog(record.orgId, record.id, { limit: 1 })).total + legacyTotal;
    legacyTop = Math.min(record.eventCount, Number(cursor) - 1);
  } else {
    if (cursor !== undefined && !cursor.startsWith(STORE_CURSOR)) throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
    const page = await store.deliveryLog(
      record.orgId,
      record.id,
      cursor === undefined ? { limit, offset: query.offset } : { limit, cursor: cursor.slice(STORE_CURSOR.length) },
    );
    total = page.total + legacyTotal;
    data = await attemptsOf(records, page.entries);
    if (page.nextCursor !== null) nextCursor = STORE_CURSOR + page.nextCursor;
    else legacyTop = record.eventCount - (cursor === undefined ? Math.max(0, query.offset - page.total) : 0);
  }
  // The legacy part: from `legacyTop` down to seq 2, as much as the page has room for.
  if (legacyTop !== null && legacyTop >= 2) {
    const room = limit - data.length;
    const bottom = Math.max(2, legacyTop - room + 1);
    if (room > 0) {
      const events = await store.timeline(record.orgId, record.id, { afterSeq: bottom - 1, limit: legacyTop - bottom + 1 });
      data = data.concat(
        events
          .filter((event) => isDeliveryEvent(event.type))
          .reverse()
          .map(deliveryAttemptOf),
      );
    }
    nextCursor = room === 0 ? String(legacyTop + 1) : bottom > 2 ? String(bottom) : null;
  }
  return { data, total, limit, offset: cursor !== undefined ? 0 : query.offset, nextCursor };
}

/** The attempts of log entries, those still `started` checked against their message's lease. */
async function attemptsOf(records: Records, entries: readonly DeliveryLogEntry[]): Promise<DeliveryAttempt[]> {
  const attempts = entries.map((entry) => entry.data as DeliveryAttempt);
  const started = attempts.filter((attempt) => attempt.outcome === "started");
  if (started.length === 0) return attempts;
  const now = records.now;
  const leases = new Map((await records.store.outboxLeases(started.map((attempt) => attempt.deliveryId))).map((lease) => [lease.id, lease]));
  return attempts.map((attempt) => {
    if (attempt.outcome !== "started") return attempt;
    const lease = leases.get(attempt.deliveryId);
    const inHand = lease !== undefined && lease.leaseOwner === attempt.instance && lease.attempts === attempt.attempt && lease.leaseUntil > now;
    return inHand ? attempt : { ...attempt, outcome: "unknown" };
  });
}
