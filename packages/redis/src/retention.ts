import { KINDS, type RecordKind, type StoredRecord, TERMINAL_STATUSES } from "@agent-sessions/core";

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
 * Whether a write must remember its record's aliases (in `{P:07}:o:<org>:n:<id>`): only records
 * of a kind with terminal statuses can be removed (by `purge`, or this store's own retention), so
 * only those pay for the set that lets their aliases be removed with them.
 */
export function remembersAliases(kind: RecordKind): boolean {
  return KINDS[kind].terminal.length > 0;
}

/**
 * The score of the record in its bucket's `f:<kind>` index, which `purge` visits: its `updatedAt`
 * while it is in one of its kind's terminal statuses (core's kinds say which) with no deadline
 * ahead, else '' (not indexed).
 */
export function terminalSince(record: StoredRecord): number | "" {
  const terminal: readonly string[] = KINDS[record.kind].terminal;
  return record.dueAt === null && terminal.includes(record.status) ? record.updatedAt : "";
}
