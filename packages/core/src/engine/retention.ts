import { parseDuration } from "../durations.js";
import { InvalidInputError } from "../errors.js";
import { KINDS, RECORD_KINDS, type RecordKind } from "../kinds/index.js";
import type { PurgeCounts, Store } from "../store.js";

/** How long records stay once they are terminal: `createEngine({ retention })`. */
export interface RetentionOptions {
  /**
   * How long a record stays after its last write left it terminal (a workflow `completed` or
   * `failed`, a thread `closed`, a form session `submitted` or `expired`, a webhook endpoint
   * `deleted`): `"30d"`, `"12h"`, `"90m"`, or milliseconds. The worker then removes it with its
   * timeline, aliases, idempotency entries, delivery log and waiting outbox messages.
   */
  readonly terminalAfter: string | number;
  /**
   * How many records of each kind one worker round removes at most. Default: 100. A round that
   * removed a full batch of some kind is followed by another at the next round; otherwise the
   * worker looks again a minute later, so an idle store is not asked every second.
   */
  readonly batch?: number;
}

/** What `engine.purge` takes. */
export interface PurgeRequest {
  /** Removes records terminal for longer than this: `"30d"`, or milliseconds. Default: the engine's `retention.terminalAfter`. */
  readonly olderThan?: string | number;
  /** Counts what would go, and removes nothing. Default: false. */
  readonly dryRun?: boolean;
  /** Records of one kind per store call. Default: the engine's `retention.batch`, else 100. */
  readonly batch?: number;
}

/** What `engine.purge` removed, or (dry) would remove. */
export interface PurgeReport {
  readonly dryRun: boolean;
  /** Records last written before this moment (ms) were candidates. */
  readonly before: number;
  /**
   * Totals over every kind; `deliveries` counts the delivery logs of deleted webhook endpoints,
   * with the attempts an earlier release kept among the endpoints' `events`.
   */
  readonly removed: PurgeCounts;
  /** The same per kind, for the kinds that had something to remove. */
  readonly byKind: Readonly<Partial<Record<RecordKind, PurgeCounts>>>;
}

/** The kinds whose records can become terminal, with those statuses: what retention may remove. */
export const PURGEABLE_KINDS: readonly { readonly kind: RecordKind; readonly statuses: readonly string[] }[] = RECORD_KINDS.filter(
  (kind) => KINDS[kind].terminal.length > 0,
).map((kind) => ({ kind, statuses: KINDS[kind].terminal as readonly string[] }));

/** How long the worker waits before looking again when its last round left nothing behind. */
const IDLE_MS = 60_000;

const ZERO: PurgeCounts = { records: 0, events: 0, deliveries: 0, aliases: 0, idempotency: 0, outbox: 0 };
const DEFAULT_BATCH = 100;

function add(total: PurgeCounts, more: PurgeCounts): PurgeCounts {
  return {
    records: total.records + more.records,
    events: total.events + more.events,
    deliveries: total.deliveries + more.deliveries,
    aliases: total.aliases + more.aliases,
    idempotency: total.idempotency + more.idempotency,
    outbox: total.outbox + more.outbox,
  };
}

function batchSize(value: number | undefined, field: string): number {
  if (value === undefined) return DEFAULT_BATCH;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidInputError(field, `must be a whole number ≥ 1, got ${value}`);
  return value;
}

/**
 * Removes terminal records past their retention through `Store.purge`. Which statuses are
 * terminal comes from the kinds, and the cut-off from the engine's clock: the store decides
 * nothing. A record is judged by its last write, since a terminal record is not written again
 * (a deleted webhook endpoint's log may still get the attempts in flight when it was deleted,
 * which only keeps it longer).
 */
export class Retention {
  /** Milliseconds a terminal record is kept, or `null` when the engine has no retention (the worker then purges nothing). */
  readonly terminalAfterMs: number | null;
  readonly batch: number;
  /** The worker's next look: now again after a full batch, a minute on otherwise. */
  private nextRoundAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    options: RetentionOptions | undefined,
  ) {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new InvalidInputError("retention", 'must be an object such as { terminalAfter: "30d" }');
    }
    this.terminalAfterMs = options === undefined ? null : parseDuration(options.terminalAfter, "retention.terminalAfter");
    this.batch = batchSize(options?.batch, "retention.batch");
  }

  /**
   * One worker round's share: at most one batch of each kind, so a round stays short, and none
   * within a minute of a round that left nothing behind. Returns the records removed.
   */
  async round(now: number): Promise<number> {
    if (this.terminalAfterMs === null || now < this.nextRoundAt) return 0;
    this.nextRoundAt = now + IDLE_MS; // also while this round runs, and after one that failed
    let removed = 0;
    let backlog = false;
    for (const { kind, statuses } of PURGEABLE_KINDS) {
      const result = await this.store.purge({ kind, statuses, before: now - this.terminalAfterMs, limit: this.batch });
      removed += result.records;
      backlog ||= result.nextCursor !== null;
    }
    if (backlog) this.nextRoundAt = now;
    return removed;
  }

  /** Removes (or counts, dry) every record past `olderThan`, batch after batch, kind after kind. */
  async purge(request: PurgeRequest = {}): Promise<PurgeReport> {
    const olderThan = request.olderThan === undefined ? this.terminalAfterMs : parseDuration(request.olderThan, "olderThan");
    if (olderThan === null) throw new InvalidInputError("olderThan", 'is required when the engine has no retention, e.g. "30d"');
    const limit = request.batch === undefined ? this.batch : batchSize(request.batch, "batch");
    const dryRun = request.dryRun ?? false;
    const before = this.clock() - olderThan;
    let removed = ZERO;
    const byKind: Partial<Record<RecordKind, PurgeCounts>> = {};
    for (const { kind, statuses } of PURGEABLE_KINDS) {
      let counts = ZERO;
      let cursor: string | undefined;
      for (;;) {
        const { nextCursor, ...result } = await this.store.purge({
          kind,
          statuses,
          before,
          limit,
          dryRun,
          ...(cursor === undefined ? {} : { cursor }),
        });
        counts = add(counts, result);
        if (nextCursor === null) break;
        cursor = nextCursor;
      }
      if (counts.records > 0) byKind[kind] = counts;
      removed = add(removed, counts);
    }
    // A deleted endpoint's timeline is its `webhook.created` and its `webhook.deleted`, with the
    // delivery attempts an earlier release logged there in between.
    const webhooks = byKind.webhook ?? ZERO;
    const logged = Math.max(0, webhooks.events - 2 * webhooks.records);
    return { dryRun, before, removed: { ...removed, deliveries: removed.deliveries + logged }, byKind };
  }
}
