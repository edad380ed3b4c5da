import type { Notifier } from "./engine/notifier.js";
import { InvalidInputError } from "./errors.js";
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
  /**
   * How many times the message was claimed, this claim included: 1 on its first claim. A claim
   * whose holder died before settling counts as well, so every attempt has its own number.
   */
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
  /**
   * The record as it was when it was claimed, from a store that reads it in the claim's own step:
   * the worker then settles it without reading it again. Optional; the settling write is a
   * compare-and-set either way, so a record changed since is read afresh.
   */
  readonly record?: StoredRecord;
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

/** What `renewOutbox` extends: the leases one worker holds on the messages it is still working on. */
export interface RenewOptions {
  /** The messages' ids. */
  readonly ids: readonly string[];
  /** The worker that claimed them. */
  readonly owner: string;
  /** The renewing worker's clock: each renewed lease runs until `now + leaseMs`. */
  readonly now: number;
  readonly leaseMs: number;
}

/** Who holds an outbox message's lease, as `outboxLeases` reads it. */
export interface OutboxLease {
  readonly id: string;
  /** Claims so far, as `OutboxEntry.attempts`. */
  readonly attempts: number;
  /** `null` while nobody holds it (never claimed, or rescheduled). */
  readonly leaseOwner: string | null;
  readonly leaseUntil: number;
}

/**
 * One attempt of a webhook endpoint's delivery log, as a store keeps it: written when the
 * attempt starts and written again, under the same `id`, when it ends.
 */
export interface DeliveryLogEntry {
  readonly orgId: string;
  /** The endpoint whose log holds it. */
  readonly webhookId: string;
  /** Unique within the organization: one attempt of one delivery. */
  readonly id: string;
  /** When the attempt started: the log's order (then `id`). Kept from the first write. */
  readonly startedAt: number;
  /** The attempt as core keeps it: JSON the store treats as opaque, replaced by a later write. */
  readonly data: unknown;
}

/** What `deliveryLog` pages by. `cursor` and `offset` are two ways to page; give one. */
export interface DeliveryLogQuery {
  readonly limit: number;
  readonly offset?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of an endpoint's delivery log, latest start first, with the exact number of entries. */
export interface DeliveryLogPage {
  readonly entries: readonly DeliveryLogEntry[];
  readonly total: number;
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null;
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
 * Requests made with an `Idempotency-Key`, per organization, each remembered until its
 * `expiresAt` (judged by the `now` callers pass). A store that declares
 * `capabilities.idempotency` implements these three methods beside its own, so every instance
 * sharing the store sees a key once; without one the router keeps keys in its process's memory
 * (`MemoryIdempotencyStore`). `runIdempotencyConformance` proves an implementation.
 */
export interface IdempotencyStore {
  /** Stores `entry` under the key unless a live one (`expiresAt > now`) is there; exactly one concurrent caller stores it, the others get the live entry. */
  reserveIdempotencyKey(orgId: string, key: string, entry: IdempotencyEntry, now: number): Promise<IdempotencyEntry | null>;
  /**
   * Records the response of the request that reserved the key, and the id of the record that
   * request created when it created one: `purge` removes the entry together with that record.
   */
  completeIdempotencyKey(orgId: string, key: string, response: unknown, recordId?: string): Promise<void>;
  /** Forgets a key, so a retry runs the request again (after a failure that wrote nothing). */
  releaseIdempotencyKey(orgId: string, key: string): Promise<void>;
}

/**
 * What `purge` removes: records of one kind whose status is one of `statuses`, with no deadline
 * ahead (`dueAt` null: time still has work to do on one that has), and whose last write
 * (`updatedAt`) is before `before`, across every organization. Core says which statuses are
 * terminal and computes `before` from its clock; the store decides nothing.
 */
export interface PurgeOptions {
  readonly kind: RecordKind;
  /** The kind's terminal statuses: a record in another status is never touched. */
  readonly statuses: readonly string[];
  /** Records last written before this moment (ms) go; a record written at or after it stays. */
  readonly before: number;
  /** At most this many records in one call (a whole number ≥ 1): one bounded batch. */
  readonly limit: number;
  /** Counts what the call would remove, and removes nothing. */
  readonly dryRun?: boolean;
  /** The `nextCursor` of the previous call: continues after the records that call visited. */
  readonly cursor?: string;
}

/** How many of each thing `purge` removed (or, dry, would remove). */
export interface PurgeCounts {
  readonly records: number;
  /** Timeline events of those records. */
  readonly events: number;
  /** Delivery log entries of those records (webhook endpoints). */
  readonly deliveries: number;
  readonly aliases: number;
  /** Idempotency entries whose request created one of those records. */
  readonly idempotency: number;
  /** Outbox messages the records' writes enqueued and that were not settled yet. */
  readonly outbox: number;
}

/** The outcome of one `purge` call. */
export interface PurgeResult extends PurgeCounts {
  /** Pass as `cursor` for the next batch; `null` when this call matched fewer than `limit` records (nothing more to visit). */
  readonly nextCursor: string | null;
}

/** A notifier a store made over its own connection; the caller closes it (after the engines that use it). */
export interface StoreNotifier extends Notifier {
  close(): Promise<void>;
}

/**
 * What a store offers beyond the required methods, as flags (an absent flag is `false`). The
 * engine and the router read them, never the presence of a method; the conformance suite runs the
 * block of every declared capability (a store that declares one must pass it) and skips the
 * others under a title naming the flag.
 */
export interface StoreCapabilities {
  /**
   * `getUnscoped(id)`. The hosted form page and the operations that take a form session's id
   * alone (`formSessions.hosted`, `hostedOpen`, `hostedSubmit`, `open`, `submit`) find the session
   * by it; without this they fail.
   */
  readonly unscopedReads?: boolean;
  /**
   * The `IdempotencyStore` methods, on the store's own storage. Without it the router remembers
   * `Idempotency-Key`s in its process's memory, which several instances do not share.
   */
  readonly idempotency?: boolean;
  /**
   * `createNotifier()`: a `Notifier` over the store's own connection and namespace, reaching every
   * instance on the same store, to pass to `createEngine({ notifier })`. Without it, pass a
   * notifier of your own, or `pollIntervalMs`, when several instances share the store.
   */
  readonly notifier?: boolean;
}

/**
 * The storage contract of agent-sessions: the required methods below, and the optional
 * capabilities a store declares in `capabilities`. Every method is scoped to one organization
 * where it takes an `orgId`: a record of another organization is absent. The conformance suite in
 * `@agent-sessions/core/testing` proves each guarantee below for an adapter.
 *
 * `insertWithinLimit` is required, not a capability: the engine's caps across records (webhook
 * endpoints per organization) hold only when the count and the insert are one atomic step, which
 * no caller can build from `insert` and `list`.
 */
export interface Store extends Partial<IdempotencyStore> {
  /** The optional capabilities this store offers; see `StoreCapabilities`. */
  readonly capabilities: StoreCapabilities;
  /** Inserts a new record with its events, aliases and outbox messages; exactly one concurrent insert of the same id or alias succeeds. */
  insert(write: RecordWrite): Promise<InsertResult>;
  /** Inserts like `insert` only while fewer than `limit.max` of the organization's records of the record's kind have `limit.status`; concurrent capped inserts never pass the limit, and a refused one (`full`) writes nothing. */
  insertWithinLimit(write: RecordWrite, limit: RecordLimit): Promise<LimitedInsertResult>;
  /** Replaces the record and appends its events iff the stored version is `expectedVersion`; exactly one concurrent caller per version wins, and a loser writes nothing. Clears the record's due lease. */
  compareAndSet(write: RecordWrite & { readonly expectedVersion: number }): Promise<boolean>;
  /** Reads one record of one organization. */
  get(orgId: string, id: string): Promise<StoredRecord | null>;
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
  /**
   * Leases available outbox messages not leased by anyone else (their lease free or run out); no
   * two claimers ever hold one message at once. Each claim adds one to the message's `attempts`.
   */
  claimOutbox(options: ClaimOptions & { readonly topic?: string }): Promise<OutboxEntry[]>;
  /**
   * Extends to `now + leaseMs` the leases `owner` still holds among `ids` (a lease that ran out
   * and that nobody took over since is still held), and returns the ids it extended: the
   * heartbeat of a worker still working on them. A message settled, or claimed by another, is
   * left as it is.
   */
  renewOutbox(options: RenewOptions): Promise<string[]>;
  /** Finishes (`retryAt` absent) or reschedules an outbox message; only the lease holder succeeds. */
  settleOutbox(id: string, owner: string, outcome: { readonly retryAt?: number; readonly error?: string }): Promise<boolean>;
  /** The leases of those of `ids` still in the outbox (not finished), in any order. */
  outboxLeases(ids: readonly string[]): Promise<OutboxLease[]>;
  /**
   * Writes delivery log entries, each organization's all or none (a store spread over several
   * servers may write different organizations' apart): an entry with a new `id` is added, one
   * whose `id` is already there in its organization gets the new `data` (its `startedAt` and
   * `webhookId` stay).
   */
  logDeliveries(entries: readonly DeliveryLogEntry[]): Promise<void>;
  /** One page of an endpoint's delivery log, latest `startedAt` first (then `id`, descending); `total` exact. */
  deliveryLog(orgId: string, webhookId: string, query: DeliveryLogQuery): Promise<DeliveryLogPage>;
  /**
   * Removes up to `limit` records matching `options` (see `PurgeOptions`) with everything that
   * belongs to them: their events, their delivery log (a webhook endpoint's), the aliases that
   * name them, the idempotency entries completed with their id, and the outbox messages their
   * writes enqueued that are still waiting. Each
   * record goes whole or not at all, and nothing else changes; a record written meanwhile (so no
   * longer matching) stays. `dryRun` counts the same things without removing them.
   */
  purge(options: PurgeOptions): Promise<PurgeResult>;
  /** Capability `unscopedReads`: reads a record by its id alone, for capability URLs (the hosted form page); never for tenant-facing reads. */
  getUnscoped?(id: string): Promise<StoredRecord | null>;
  /** Capability `notifier`: a new notifier whose announcements reach the notifiers of every instance on this store's namespace. */
  createNotifier?(): StoreNotifier;
  /** Releases connections and timers the store holds. */
  close?(): Promise<void>;
}

/** The methods each capability needs. */
const CAPABILITY_METHODS = {
  unscopedReads: ["getUnscoped"],
  idempotency: ["reserveIdempotencyKey", "completeIdempotencyKey", "releaseIdempotencyKey"],
  notifier: ["createNotifier"],
} as const satisfies Record<keyof StoreCapabilities, readonly (keyof Store)[]>;

/** Every capability flag, in a stable order. */
export const STORE_CAPABILITIES = Object.keys(CAPABILITY_METHODS) as readonly (keyof StoreCapabilities)[];

/**
 * The capabilities `store` declares, every flag present; throws a `TypeError` naming the method
 * a declared capability lacks, or when the store declares none at all.
 */
export function storeCapabilities(store: Store): Required<StoreCapabilities> {
  const declared = (store as { capabilities?: unknown }).capabilities;
  if (typeof declared !== "object" || declared === null) {
    throw new TypeError("store: must declare its capabilities, e.g. { unscopedReads: true, idempotency: false, notifier: false }");
  }
  const flags = {} as Record<keyof StoreCapabilities, boolean>;
  for (const name of STORE_CAPABILITIES) {
    const value = (declared as StoreCapabilities)[name] ?? false;
    if (typeof value !== "boolean") throw new TypeError(`store: capabilities.${name} must be a boolean`);
    const missing = value ? CAPABILITY_METHODS[name].find((method) => typeof store[method] !== "function") : undefined;
    if (missing) throw new TypeError(`store: declares capabilities.${name} but has no ${missing}()`);
    flags[name] = value;
  }
  return flags;
}

/** Throws an `InvalidInputError` naming the field unless `options` is a purge a store can run. */
export function assertPurgeOptions(options: PurgeOptions): void {
  if (!Number.isSafeInteger(options.limit) || options.limit < 1)
    throw new InvalidInputError("limit", `must be a whole number ≥ 1, got ${options.limit}`);
  if (!Number.isSafeInteger(options.before)) throw new InvalidInputError("before", `must be milliseconds since the epoch, got ${options.before}`);
  if (!Array.isArray(options.statuses) || options.statuses.length === 0 || options.statuses.some((status) => typeof status !== "string")) {
    throw new InvalidInputError("statuses", "must be a non-empty list of statuses");
  }
}

/** The store as an `IdempotencyStore` when it declares `capabilities.idempotency`, else `null`. */
export function storeIdempotency(store: Store): IdempotencyStore | null {
  return store.capabilities.idempotency ? (store as Store & IdempotencyStore) : null;
}
