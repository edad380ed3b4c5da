import type { RecordKind } from "./kinds/index.js";
import type { SessionEvent } from "./schemas/event.js";

/**
 * One record as a store keeps it: an index header the store reads, and the machine's state in
 * `data`, which the store treats as opaque JSON. Times are absolute milliseconds; the store never
 * decides what is expired, core does.
 */
export interface StoredRecord {
  readonly id: string;
  readonly orgId: string;
  readonly kind: RecordKind;
  readonly status: string;
  /** 1 when inserted, one more on every write: the compare-and-set token. */
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The next moment time alone changes this record; indexed for `claimDue` and `listDue`. */
  readonly dueAt: number | null;
  /** The `seq` of the record's last event (0 before any). */
  readonly eventCount: number;
  readonly data: unknown;
}

/** A message for later, asynchronous work (webhook deliveries, action executions). */
export interface OutboxMessage {
  readonly id: string;
  readonly orgId: string;
  readonly topic: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Not handed out by `claimOutbox` before this moment. */
  readonly availableAt: number;
}

/** An outbox message as `claimOutbox` hands it out, with its attempts so far. */
export interface OutboxEntry extends OutboxMessage {
  readonly attempts: number;
  readonly lastError: string | null;
  readonly leaseOwner: string;
  readonly leaseUntil: number;
}

/**
 * Everything one transition writes, applied all together or not at all: a write that throws
 * half-way (a value that cannot be serialized or copied, a failed statement) leaves the record,
 * its events, aliases, indexes and the outbox exactly as they were.
 */
export interface RecordWrite {
  readonly record: StoredRecord;
  /** Appended to the record's timeline; their `seq` follow the previous `eventCount`. */
  readonly events: readonly SessionEvent[];
  /** Extra names that resolve to `record.id` within its organization; unique there. */
  readonly aliases?: readonly string[];
  readonly outbox?: readonly OutboxMessage[];
}

/** The outcome of `insert`: `taken` names the id or alias that already existed. */
export type InsertResult = { readonly ok: true } | { readonly ok: false; readonly taken: string };

/** A cap on how many of one organization's records of one kind may have one status at once. */
export interface RecordLimit {
  readonly status: string;
  /** A whole number ≥ 0. */
  readonly max: number;
}

/** The outcome of `insertWithinLimit`: as `insert`'s, or `full` when the limit left no room. */
export type LimitedInsertResult = InsertResult | { readonly ok: false; readonly full: true };

/** What `list` filters by. `cursor` and `offset` are two ways to page; give one. */
export interface ListRecordsQuery {
  readonly kind: RecordKind;
  readonly status?: string;
  readonly limit: number;
  readonly offset?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of records, newest id first, with the exact number matching the filter. */
export interface RecordPage {
  readonly records: readonly StoredRecord[];
  readonly total: number;
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}

/** A due deadline handed to one worker until `leaseUntil`. */
export interface DueClaim {
  readonly orgId: string;
  readonly id: string;
  readonly kind: RecordKind;
  readonly dueAt: number;
  readonly leaseUntil: number;
}

/** Options of the two claim operations. */
export interface ClaimOptions {
  /** The claimer's clock: what is due, and which leases have run out. */
  readonly now: number;
  readonly limit: number;
  readonly leaseMs: number;
  /** Who holds the lease: one id per worker. */
  readonly owner: string;
}

/** A remembered request made with an `Idempotency-Key`. */
export interface IdempotencyEntry {
  /** A digest of the request the key was first used with. */
  readonly fingerprint: string;
  readonly expiresAt: number;
  /** The first response, once there is one; `null` while the first request runs. */
  readonly response: unknown;
}

/**
 * The storage contract of agent-sessions. Every method is scoped to one organization where it
 * takes an `orgId`: a record of another organization is absent. The conformance suite in
 * `@agent-sessions/core/testing` proves each guarantee below for an adapter.
 */
export interface Store {
  /** Inserts a new record with its events, aliases and outbox messages; exactly one concurrent insert of the same id or alias succeeds. */
  insert(write: RecordWrite): Promise<InsertResult>;
  /** Inserts like `insert` only while fewer than `limit.max` of the organization's records of the record's kind have `limit.status`; concurrent capped inserts never pass the limit, and a refused one (`full`) writes nothing. */
  insertWithinLimit(write: RecordWrite, limit: RecordLimit): Promise<LimitedInsertResult>;
  /** Replaces the record and appends its events iff the stored version is `expectedVersion`; exactly one concurrent caller per version wins, and a loser writes nothing. Clears the record's due lease. */
  compareAndSet(write: RecordWrite & { readonly expectedVersion: number }): Promise<boolean>;
  /** Reads one record of one organization. */
  get(orgId: string, id: string): Promise<StoredRecord | null>;
  /** Reads a record by its id alone, for capability URLs (the hosted form page); never for tenant-facing reads. */
  getUnscoped(id: string): Promise<StoredRecord | null>;
  /** The record id an alias names within one organization. */
  resolveAlias(orgId: string, alias: string): Promise<string | null>;
  /** One page of an organization's records of one kind, newest id first; the order is stable and `total` exact. */
  list(orgId: string, query: ListRecordsQuery): Promise<RecordPage>;
  /** A record's events in `seq` order, after `afterSeq` when given. */
  timeline(orgId: string, id: string, options?: { afterSeq?: number; limit?: number }): Promise<SessionEvent[]>;
  /** Ids of the organization's records of `kind` whose `dueAt` is at or before `now`, earliest first, at most `limit`, leased or not. */
  listDue(orgId: string, kind: RecordKind, now: number, limit: number): Promise<string[]>;
  /** Leases records whose `dueAt` has come and whose lease is free or ran out; no two claimers ever hold one record at once. */
  claimDue(options: ClaimOptions): Promise<DueClaim[]>;
  /** Leases available outbox messages not leased by anyone else; no two claimers ever hold one message at once. */
  claimOutbox(options: ClaimOptions & { readonly topic?: string }): Promise<OutboxEntry[]>;
  /** Finishes (`retryAt` absent) or reschedules an outbox message; only the lease holder succeeds. */
  settleOutbox(
    id: string,
    owner: string,
    outcome: { readonly retryAt?: number; readonly error?: string },
  ): Promise<boolean>;
  /** Stores `entry` under the key unless a live one (`expiresAt > now`) is there; exactly one concurrent caller stores it, the others get the live entry. */
  reserveIdempotencyKey(orgId: string, key: string, entry: IdempotencyEntry, now: number): Promise<IdempotencyEntry | null>;
  /** Records the response of the request that reserved the key. */
  completeIdempotencyKey(orgId: string, key: string, response: unknown): Promise<void>;
  /** Forgets a key, so a retry runs the request again (after a failure that wrote nothing). */
  releaseIdempotencyKey(orgId: string, key: string): Promise<void>;
  /** Releases connections and timers the store holds. */
  close?(): Promise<void>;
}
