import type { SessionEvent } from "../schemas/event.js";
import type { Store } from "../store.js";

/** Hears of a record that changed somewhere: its organization, its id, and its last `seq` when known. */
export type NotificationListener = (orgId: string, recordId: string, seq?: number) => void;

/**
 * Tells every instance sharing a store that a record changed, so long-polls and event streams
 * held on one instance wake for a write made on another (Redis pub/sub, PostgreSQL
 * LISTEN/NOTIFY). A notification is only a hint: the receiving engine reads what changed from
 * the store, so a lost or repeated one costs a wake-up, never an event.
 */
export interface Notifier {
  /** Announces a write; `seq` is the record's last event sequence number after it. */
  publish(orgId: string, recordId: string, seq?: number): Promise<void> | void;
  /** Listens to every instance's announcements (this one's included); returns the unsubscribe function. */
  subscribe(listener: NotificationListener): () => void;
}

/**
 * A notifier for engines in one process (tests, or several engines over one store): each
 * announcement reaches every subscriber on a later microtask, as a network one would.
 */
export function createMemoryNotifier(): Notifier {
  const listeners = new Set<NotificationListener>();
  return {
    publish(orgId, recordId, seq) {
      for (const listener of [...listeners]) queueMicrotask(() => listener(orgId, recordId, seq));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const MAX_TRACKED_RECORDS = 50_000;

/**
 * Turns notifications into local events: for each notified record it reads the timeline after
 * the last `seq` this engine emitted and emits what follows, one read at a time per record. A
 * record this engine never saw has no such `seq`: then only the notified write's last event is
 * emitted (enough to wake a waiter, which reads its state again anyway).
 */
export class NotificationRelay {
  /** The last emitted `seq` per record, oldest first, bounded. */
  private readonly seen = new Map<string, number>();
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly emit: (events: readonly SessionEvent[]) => void,
    private readonly report: (error: unknown) => void,
  ) {}

  /** Notes a write made here, so its echo from the notifier is not read again. */
  wrote(recordId: string, seq: number): void {
    this.remember(recordId, seq);
  }

  /** Handles one notification; never rejects (failures go to `report`). */
  receive(orgId: string, recordId: string, seq?: number): Promise<void> {
    const known = this.seen.get(recordId);
    if (seq !== undefined && known !== undefined && known >= seq) return Promise.resolve();
    const previous = this.reading.get(recordId) ?? Promise.resolve();
    const next = previous.then(() => this.read(orgId, recordId, seq)).catch(this.report);
    this.reading.set(recordId, next);
    void next.finally(() => {
      if (this.reading.get(recordId) === next) this.reading.delete(recordId);
    });
    return next;
  }

  private async read(orgId: string, recordId: string, seq: number | undefined): Promise<void> {
    let after = this.seen.get(recordId);
    if (after !== undefined && seq !== undefined && after >= seq) return;
    if (after === undefined) {
      const last = seq ?? (await this.store.get(orgId, recordId))?.eventCount;
      if (last === undefined || last < 1) return;
      after = last - 1;
    }
    const events = await this.store.timeline(orgId, recordId, { afterSeq: after });
    if (events.length === 0) return;
    this.remember(recordId, events[events.length - 1]!.seq);
    this.emit(events);
  }

  private remember(recordId: string, seq: number): void {
    const known = this.seen.get(recordId);
    if (known !== undefined && known >= seq) return;
    this.seen.delete(recordId); // re-inserted last: the map stays in order of use
    this.seen.set(recordId, seq);
    if (this.seen.size > MAX_TRACKED_RECORDS) this.seen.delete(this.seen.keys().next().value!);
  }
}

/** A notification as networked notifiers send it: `[orgId, recordId, seq]` as JSON. */
export function encodeNotification(orgId: string, recordId: string, seq?: number): string {
  return JSON.stringify(seq === undefined ? [orgId, recordId] : [orgId, recordId, seq]);
}

/** Reads what `encodeNotification` wrote; `null` for anything else (a stranger on the channel). */
export function decodeNotification(text: string): [orgId: string, recordId: string, seq: number | undefined] | null {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || typeof value[0] !== "string" || typeof value[1] !== "string") return null;
    return [value[0], value[1], typeof value[2] === "number" ? value[2] : undefined];
  } catch {
    return null;
  }
}
