import type { Emitter } from "mitt";
import { InvalidInputError } from "../errors.js";
import { isRecordId } from "../ids.js";
import type { SessionEvent } from "../schemas/event.js";
import type { Store, StoredRecord } from "../store.js";
import { type EngineEvents, notFoundAny } from "./records.js";

/** Where `engine.watch` starts and when it ends. */
export interface WatchOptions {
  /** Yields the events after this sequence number. Default: 0, the whole timeline. */
  readonly afterSeq?: number;
  /**
   * Ends the watch: once aborted, the iteration finishes. A signal aborted from the start reads
   * once, yields what is there and ends, as a long-poll without a timeout answers.
   */
  readonly signal?: AbortSignal;
}

/** A record's events as they are written: `for await (const event of engine.watch(orgId, id, { signal }))`. */
export interface EventWatch extends AsyncIterable<SessionEvent> {
  /**
   * The same events, in the batches each read of the store found together (never an empty one),
   * for a caller that answers with whatever is there: a long-poll, a stream that sends a batch
   * at a time.
   */
  batches(): AsyncIterable<readonly SessionEvent[]>;
}

/** What a watch reads and how long it may sleep. */
export interface WatchContext {
  readonly store: Store;
  readonly clock: () => number;
  readonly watchers: Watchers;
  /** Without a notifier, the longest sleep between reads, so other instances' writes are seen; else `null`. */
  readonly pollIntervalMs: number | null;
  /** Persists what time did to a record by `now`; the number of events written. */
  settle(record: StoredRecord, now: number): Promise<number>;
}

/**
 * The watches in progress, by record id, woken by one listener on the engine's emitter that is
 * there only while some watch is: every write of this engine and every write another instance's
 * notification relays is emitted there. A watch leaves as soon as its signal aborts, even while
 * its consumer holds it unread, so abandoned watches keep no listener.
 */
export class Watchers {
  private readonly byRecord = new Map<string, Set<() => void>>();
  private readonly listener = (_type: string, event: SessionEvent): void => {
    const wakes = this.byRecord.get(event.recordId);
    if (wakes) for (const wake of wakes) wake();
  };

  constructor(private readonly emitter: Emitter<EngineEvents>) {}

  /** How many records are watched: none once every watch ended. */
  get size(): number {
    return this.byRecord.size;
  }

  /** Calls `wake` after each event of `recordId` is emitted; returns the function that stops it (safe to call twice). */
  add(recordId: string, wake: () => void): () => void {
    if (this.byRecord.size === 0) this.emitter.on("*", this.listener);
    let wakes = this.byRecord.get(recordId);
    if (!wakes) this.byRecord.set(recordId, (wakes = new Set()));
    wakes.add(wake);
    const set = wakes;
    return () => {
      set.delete(wake);
      if (set.size > 0 || this.byRecord.get(recordId) !== set) return;
      this.byRecord.delete(recordId);
      if (this.byRecord.size === 0) this.emitter.off("*", this.listener);
    };
  }
}

/** A watch's sleep between reads, ended early by a write of its record (heard while awake too) or by its signal. */
class Doze {
  private rung = false;
  private end: (() => void) | null = null;

  readonly ring = (): void => {
    this.rung = true;
    this.end?.();
  };

  /** Resolves after `ms` (never, for `null`) or at the next ring; at once if one came since the last sleep. */
  sleep(ms: number | null): Promise<void> {
    if (this.rung) {
      this.rung = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        this.end = null;
        this.rung = false;
        resolve();
      };
      this.end = done;
      if (ms !== null) timer = setTimeout(done, Math.max(ms, 0));
    });
  }
}

/** How long a watch sleeps: until the record's next deadline (a little after, so it has passed), at most `pollIntervalMs`. */
function sleepMs(context: WatchContext, dueAt: number | null): number | null {
  const untilDue = dueAt === null ? null : Math.max(dueAt - context.clock(), 0) + 5;
  if (context.pollIntervalMs === null) return untilDue;
  return untilDue === null ? context.pollIntervalMs : Math.min(untilDue, context.pollIntervalMs);
}

/**
 * Reads a record's events after `afterSeq` in batches, sleeping between reads until a write of
 * the record, its next deadline (which it then persists, so an expiry's event shows) or the poll
 * interval. It listens before its first read, so a write made while it reads wakes it again.
 */
async function* readBatches(context: WatchContext, orgId: string, id: string, options: WatchOptions): AsyncGenerator<readonly SessionEvent[], void> {
  const { signal } = options;
  let seq = options.afterSeq ?? 0;
  if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidInputError("afterSeq", "must be a whole number from 0");
  if (!isRecordId(id)) throw notFoundAny(id);
  const doze = new Doze();
  const leave = context.watchers.add(id, doze.ring);
  const stop = () => {
    leave();
    doze.ring();
  };
  signal?.addEventListener("abort", stop, { once: true });
  try {
    for (let first = true; ; first = false) {
      let record = await context.store.get(orgId, id);
      if (!record) {
        if (first) throw notFoundAny(id);
        return;
      }
      const now = context.clock();
      if (record.dueAt !== null && record.dueAt <= now && (await context.settle(record, now)) > 0) {
        record = (await context.store.get(orgId, id)) ?? record;
      }
      if (record.eventCount > seq) {
        const events = await context.store.timeline(orgId, id, { afterSeq: seq });
        if (events.length > 0) {
          seq = events[events.length - 1]!.seq;
          yield events;
        }
      }
      if (signal?.aborted) return;
      await doze.sleep(sleepMs(context, record.dueAt));
      if (signal?.aborted) return;
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    leave();
  }
}

/** The watch `engine.watch` returns: nothing is read or listened to until it is iterated. */
export function watchRecord(context: WatchContext, orgId: string, id: string, options: WatchOptions = {}): EventWatch {
  return {
    batches: () => ({ [Symbol.asyncIterator]: () => readBatches(context, orgId, id, options) }),
    async *[Symbol.asyncIterator]() {
      for await (const batch of readBatches(context, orgId, id, options)) yield* batch;
    },
  };
}
