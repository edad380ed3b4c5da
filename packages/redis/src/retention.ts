import { type RecordKind, type StoredRecord, TERMINAL_STATUSES } from "@agent-sessions/core";

/** How long terminal records are kept. */
export interface RetentionOptions {
  /** Seconds a record stays after a write leaves it terminal (its kind's `terminal` statuses) with no deadline ahead. */
  readonly terminalTtlSeconds: number;
}

/**
 * The TTL in milliseconds a write gives its record: the retention for a terminal record with no
 * deadline ahead, else 0 (kept). A record with a `dueAt` still has work that time will do, so it
 * is live whatever its status.
 */
export function terminalTtlMs(retention: RetentionOptions | undefined, record: StoredRecord): number {
  if (retention === undefined || record.dueAt !== null) return 0;
  return TERMINAL_STATUSES[record.kind]?.includes(record.status) ? retention.terminalTtlSeconds * 1000 : 0;
}

/**
 * Whether a write must remember its record's aliases (in `{P:07}:o:<org>:n:<id>`): only a store with
 * retention can remove a record, and only records of a kind with terminal statuses, so only those
 * pay for the set that lets retention remove their aliases with them.
 */
export function remembersAliases(retention: RetentionOptions | undefined, kind: RecordKind): boolean {
  return retention !== undefined && TERMINAL_STATUSES[kind] !== undefined;
}
