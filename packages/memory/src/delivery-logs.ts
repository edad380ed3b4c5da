import { type DeliveryLogEntry, type DeliveryLogPage, type DeliveryLogQuery, InvalidInputError } from "@agent-sessions/core";
import { deepFreeze } from "./deep-freeze.js";

/** Earliest start first, then id: the order each endpoint's entries are kept in (pages read it backwards). */
function before(a: { startedAt: number; id: string }, b: { startedAt: number; id: string }): boolean {
  return a.startedAt < b.startedAt || (a.startedAt === b.startedAt && a.id < b.id);
}

/** The first position in `entries` (kept in order) whose entry is not before `at`. */
function positionOf(entries: readonly DeliveryLogEntry[], at: { startedAt: number; id: string }): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (before(entries[middle]!, at)) low = middle + 1;
    else high = middle;
  }
  return low;
}

const CURSOR = /^(-?\d+):(.+)$/s;

/**
 * The delivery logs of the memory store: per organization and endpoint, the entries in start
 * order (new attempts start last, so adding one is a push), and per organization where each id
 * lives, so ending an attempt replaces its entry in place.
 */
export class DeliveryLogs {
  /** `orgId \0 webhookId` → the endpoint's entries in start order. */
  private readonly logs = new Map<string, DeliveryLogEntry[]>();
  private readonly byId = new Map<string, Map<string, DeliveryLogEntry>>();

  /** Adds or replaces every entry, or (one value that is not JSON) none. */
  write(entries: readonly DeliveryLogEntry[]): void {
    // Everything that can throw runs before the first change.
    const frozen = entries.map((entry) => deepFreeze({ ...entry }));
    for (const entry of frozen) {
      const ids = this.byId.get(entry.orgId) ?? new Map<string, DeliveryLogEntry>();
      this.byId.set(entry.orgId, ids);
      const previous = ids.get(entry.id);
      const log = this.log(entry.orgId, previous?.webhookId ?? entry.webhookId);
      if (previous) {
        const replaced = Object.freeze({ ...previous, data: entry.data });
        log[positionOf(log, previous)] = replaced;
        ids.set(entry.id, replaced);
        continue;
      }
      const at = positionOf(log, entry);
      if (at === log.length) log.push(entry);
      else log.splice(at, 0, entry);
      ids.set(entry.id, entry);
    }
  }

  /** One page, latest start first. */
  page(orgId: string, webhookId: string, query: DeliveryLogQuery): DeliveryLogPage {
    const log = this.logs.get(logKey(orgId, webhookId)) ?? [];
    // Positions counted from the end: `end` is one past the newest entry the page may show.
    let end = log.length - (query.offset ?? 0);
    if (query.cursor !== undefined) {
      const match = CURSOR.exec(query.cursor);
      if (!match) throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
      end = positionOf(log, { startedAt: Number(match[1]), id: match[2]! });
    }
    const start = Math.max(0, end - query.limit);
    const entries = end <= 0 ? [] : log.slice(start, end).reverse();
    const last = entries.at(-1);
    return { entries, total: log.length, nextCursor: start > 0 && last ? `${last.startedAt}:${last.id}` : null };
  }

  /** Removes (or, dry, counts) the logs of these endpoints of one organization; returns how many entries. */
  forget(orgId: string, webhookIds: Iterable<string>, dryRun: boolean): number {
    let count = 0;
    for (const webhookId of webhookIds) {
      const key = logKey(orgId, webhookId);
      const log = this.logs.get(key);
      if (!log) continue;
      count += log.length;
      if (dryRun) continue;
      this.logs.delete(key);
      const ids = this.byId.get(orgId)!;
      for (const entry of log) ids.delete(entry.id);
    }
    return count;
  }

  private log(orgId: string, webhookId: string): DeliveryLogEntry[] {
    const key = logKey(orgId, webhookId);
    let log = this.logs.get(key);
    if (!log) {
      log = [];
      this.logs.set(key, log);
    }
    return log;
  }
}

function logKey(orgId: string, webhookId: string): string {
  return `${orgId}\u0000${webhookId}`;
}
