import { GroupCommit } from "../group-commit.js";
import { type DeliveryAttempt, LIVE_WEBHOOK_STATUS, type WebhookEndpoint } from "../kinds/webhook.js";
import type { DeliveryLogEntry, OutboxEntry, Store, StoredRecord } from "../store.js";
import { targetRefusal } from "../webhooks/addresses.js";
import { webhookRequest } from "../webhooks/signing.js";
import type { KeyedLimiter } from "./limiter.js";
import type { Records } from "./records.js";
import { TELEMETRY_ATTRIBUTES as A, type Telemetry, type TracedDelivery } from "./telemetry.js";
import type { DeliveryPayload, TargetPolicy } from "./webhooks.js";

/** Delays before each retry of a failed delivery: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];

/** A `fetch` as the global one: injectable for tests and for runtimes that proxy requests. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Sends one webhook POST and resolves the receiver's status, or rejects when there is none (a
 * rejection named `TimeoutError` once `timeoutMs` passed). A leaner contract than `fetch` for a
 * sender that keeps the time limit itself: no AbortSignal is made per delivery, whose abort
 * listener costs Node more than the request's own bytes. `serve`'s is `createWebhookSender()`
 * of `@agent-sessions/cli`; no redirect may be followed.
 */
export type WebhookSender = (
  url: URL,
  request: { readonly headers: Readonly<Record<string, string>>; readonly body: string; readonly timeoutMs: number },
) => Promise<number>;

/** A `WebhookSender` over a `fetch`: an AbortController and a timer keep the time limit. */
export function senderOverFetch(fetch: FetchFunction): WebhookSender {
  return async (url, { headers, body, timeoutMs }) => {
    // A plain controller and timer: `AbortSignal.timeout` costs several times more per request on Node.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: controller.signal });
      await response.body?.cancel().catch(() => {});
      return response.status;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** How deliveries are sent, from `createEngine`'s options. */
export interface DeliverySettings extends TargetPolicy {
  readonly send: WebhookSender;
  readonly retrySchedule: readonly number[];
  readonly timeoutMs: number;
  readonly clock: () => number;
}

/** Milliseconds from a monotonic clock where the runtime has one: durations, not times of day. */
const elapsedNow = (): number => globalThis.performance?.now() ?? Date.now();

const MAX_ERROR_CHARS = 500;

/**
 * Reads of endpoint records shared by the deliveries that ask at the same moment: a burst of
 * deliveries to one endpoint reads it once while that read is in flight, not once each. Each
 * delivery still reads after it was claimed, so an endpoint deleted before that is not sent to.
 */
export class SharedReads {
  private readonly inFlight = new Map<string, Promise<StoredRecord | null>>();

  constructor(private readonly store: Store) {}

  get(orgId: string, id: string): Promise<StoredRecord | null> {
    const key = `${orgId}\n${id}`;
    let read = this.inFlight.get(key);
    if (!read) {
      read = this.store.get(orgId, id).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, read);
    }
    return read;
  }
}

/**
 * The delivery log, written with group commit: the entries logged while the previous write is in
 * flight go to the store together in the next one, whichever endpoints they belong to. A burst of
 * deliveries costs a few writes, not two per attempt.
 */
export class DeliveryLog {
  private readonly writes: GroupCommit<DeliveryLogEntry>;

  constructor(store: Store) {
    this.writes = new GroupCommit(async (entries) => {
      try {
        await store.logDeliveries(entries);
      } catch (error) {
        throw error ?? new Error("the delivery log could not be written");
      }
      return [];
    });
  }

  /** Writes one entry (a new attempt, or the end of one); resolves once it is stored, rejects when it could not be. */
  write(entry: DeliveryLogEntry): Promise<void> {
    return this.writes.add(entry);
  }
}

/** The log entry of one attempt: the same id when it starts and when it ends. */
function logEntry(entry: OutboxEntry, webhookId: string, attempt: DeliveryAttempt): DeliveryLogEntry {
  return { orgId: entry.orgId, webhookId, id: `${entry.id}/${attempt.attempt}`, startedAt: attempt.at, data: attempt };
}

/**
 * Sends one claimed delivery: logs the attempt as started, signs it with the endpoint's secret,
 * POSTs it (no redirects followed, `timeoutMs` at most), logs how it ended, then settles the
 * outbox message: done on a 2xx, rescheduled on the retry schedule otherwise, done and failed
 * once the schedule is spent. Nothing is sent before its attempt is in the log, so an attempt
 * whose sender dies shows there (as `unknown` once its lease is gone) rather than vanishing; and
 * the log is written before the message settles, so a crash in between sends it again (at least
 * once) rather than losing the record of an attempt. The target guard resolves the host just
 * before the request, which resolves it again: a name that changes its answer in between (DNS
 * rebinding) slips through unless `fetch` checks the address it connects to, as `serve`'s does,
 * or sends through an egress proxy. With telemetry, each attempt is a client span continuing the
 * trace of the write that enqueued it, and the request carries that span's `traceparent` (not
 * signed: Standard Webhooks signs the id, the timestamp and the body only).
 */
export async function deliver(
  entry: OutboxEntry,
  now: number,
  context: {
    records: Records;
    settings: DeliverySettings;
    log: DeliveryLog;
    owner: string;
    endpoints: SharedReads;
    endpointSlots: KeyedLimiter;
    telemetry?: Telemetry;
  },
): Promise<void> {
  const { records, settings, log } = context;
  const payload = entry.payload as unknown as DeliveryPayload & Partial<TracedDelivery>;
  const endpointRecord = await context.endpoints.get(entry.orgId, payload.webhook_id);
  const endpoint = endpointRecord?.data as WebhookEndpoint | undefined;
  if (!endpoint || endpoint.status !== LIVE_WEBHOOK_STATUS) {
    await records.store.settleOutbox(entry.id, context.owner, {}); // deleted meanwhile: nothing to send
    return;
  }

  const attempt = entry.attempts;
  const started: DeliveryAttempt = {
    deliveryId: entry.id,
    eventId: payload.event_id,
    eventType: payload.type,
    attempt,
    outcome: "started",
    statusCode: null,
    error: null,
    durationMs: 0,
    at: settings.clock(),
    nextAttemptAt: null,
    instance: context.owner,
  };
  // Not logged, not sent: the message's lease runs out and the attempt is made again.
  await log.write(logEntry(entry, endpoint.id, started));
  // Only the request takes one of the endpoint's slots (`maxConcurrentPerEndpoint`): logging and
  // settling the attempt take none, so a slow store never idles a slot.
  const { statusCode, error, durationMs, span } = await context.endpointSlots.run(endpoint.id, () => {
    const traceHeaders: Record<string, string> = {};
    const span = context.telemetry?.deliverySpan(payload, deliveryAttributes(entry, payload, endpoint, attempt), traceHeaders) ?? null;
    return send(endpoint, payload, settings, traceHeaders).then((sent) => ({ ...sent, span }));
  });

  const final = error !== null && attempt > settings.retrySchedule.length;
  const retryAt = error === null || final ? null : Math.max(now, settings.clock()) + settings.retrySchedule[attempt - 1]!;
  const outcome = error === null ? "succeeded" : final ? "failed" : "retrying";
  context.telemetry?.delivered(span, outcome, statusCode, error, durationMs);
  await log.write(logEntry(entry, endpoint.id, { ...started, outcome, statusCode, error, durationMs, nextAttemptAt: retryAt }));
  await records.store.settleOutbox(entry.id, context.owner, retryAt === null ? {} : { retryAt, error: error! });
}

/** One signed POST of a delivery: the receiver's status, or why there is none, and how long it took. */
async function send(
  endpoint: WebhookEndpoint,
  payload: DeliveryPayload,
  settings: DeliverySettings,
  traceHeaders: Record<string, string>,
): Promise<{ statusCode: number | null; error: string | null; durationMs: number }> {
  const started = elapsedNow();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const url = new URL(endpoint.url);
    const refusal = settings.allowPrivateAddresses ? null : await targetRefusal(url.hostname, settings.resolveHost, "delivery");
    if (refusal !== null) {
      error = `refused: ${refusal}`;
    } else {
      const request = await webhookRequest(
        endpoint.secret,
        { id: payload.event_id, type: payload.type, timestamp: payload.timestamp, data: payload.data },
        settings.clock(),
      );
      statusCode = await settings.send(url, {
        headers: { ...request.headers, ...traceHeaders, "user-agent": "agent-sessions-webhooks" },
        body: request.body,
        timeoutMs: settings.timeoutMs,
      });
      if (statusCode < 200 || statusCode > 299) error = `the endpoint answered HTTP ${statusCode}`;
    }
  } catch (caught) {
    error = describeFailure(caught, settings.timeoutMs);
  }
  return { statusCode, error, durationMs: Math.max(0, Math.round(elapsedNow() - started)) };
}

/** What a delivery span tells of its attempt; a function, so nothing is built when no span records. */
function deliveryAttributes(entry: OutboxEntry, payload: DeliveryPayload & Partial<TracedDelivery>, endpoint: WebhookEndpoint, attempt: number) {
  return () => {
    const url = URL.canParse(endpoint.url) ? new URL(endpoint.url) : null;
    return {
      "http.request.method": "POST",
      // The path and query of a receiver's URL may hold its own secret: the span names the host only.
      ...(url ? { "server.address": url.hostname } : {}),
      ...(url?.port ? { "server.port": Number(url.port) } : {}),
      [A.org]: entry.orgId,
      [A.webhookId]: endpoint.id,
      [A.deliveryId]: entry.id,
      [A.eventType]: payload.type,
      [A.attempt]: attempt,
      ...(typeof payload.record_id === "string" ? { [A.sessionId]: payload.record_id } : {}),
    };
  };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : null;
  const message = error instanceof Error ? error.message : String(error);
  const text = detail ? `${message} (${detail})` : message;
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
