import {
  assertRecordLimit,
  type ClaimOptions,
  type DeliveryLogEntry,
  type DeliveryLogPage,
  type DeliveryLogQuery,
  type DueClaim,
  type IdempotencyEntry,
  type InsertResult,
  InvalidInputError,
  type LimitedInsertResult,
  type ListRecordsQuery,
  type OutboxEntry,
  type OutboxLease,
  type PurgeOptions,
  type PurgeResult,
  type RecordKind,
  type RecordLimit,
  type RecordPage,
  type RecordWrite,
  type RenewOptions,
  type SessionEvent,
  type Store,
  type StoredRecord,
} from "@agent-sessions/core";
import { claimDue, claimOutbox, finishedSettles, listDue, outboxLeases, renewOutbox, settleOutbox } from "./claims.js";
import { SqlContext } from "./context.js";
import { deliveryLog, logDeliveries } from "./delivery-log.js";
import { type AnyKysely, assertDialect, isRetryable, isUniqueViolation, type SqlDialect } from "./dialect.js";
import { completeIdempotencyKey, purgeIdempotencyKeys, releaseIdempotencyKey, reserveIdempotencyKey } from "./idempotency.js";
import { assertSchemaVersion, type MigrationResult, migrate, schemaVersion } from "./migrations.js";
import { purgeRecords } from "./purge.js";
import { getRecord, listRecords, resolveAlias, timeline } from "./reads.js";
import { type TableOptions, Tables } from "./tables.js";
import { aliasOwners, compareAndSetInTransaction, type InsertOutcome, insertInTransaction, insertWithinLimitInTransaction } from "./writes.js";
import { compareAndSetGroups, compareAndSetPostgres, insertPostgres } from "./writes-postgres.js";

/** How a `SqlStore` reaches its tables. */
export interface SqlStoreOptions extends TableOptions {
  /** Which SQL the Kysely instance speaks. */
  readonly dialect: SqlDialect;
  /** Whether `close()` destroys the Kysely instance (ending its pool). Default: false; `openSqlStore` sets it. */
  readonly destroyOnClose?: boolean;
}

/** How many times a write that met a deadlock or a concurrently taken alias runs again. */
const WRITE_ATTEMPTS = 5;

/**
 * The Store on PostgreSQL, MySQL/MariaDB or SQLite through Kysely. Every transition is one
 * transaction (one statement on PostgreSQL); claims use `FOR UPDATE SKIP LOCKED` where the
 * database has it. The first operation checks the schema version and refuses a database
 * migrated by a newer release of this package, or one not migrated yet.
 */
export class SqlStore implements Store {
  /** No notifier of its own: PostgreSQL's is `createPostgresNotifier`, over a `pg` pool this store does not hold. */
  readonly capabilities = { unscopedReads: true, idempotency: true, notifier: false } as const;
  /** The Kysely instance the store queries. */
  readonly db: AnyKysely;
  readonly dialect: SqlDialect;
  readonly options: SqlStoreOptions;
  private readonly context: SqlContext;
  /** PostgreSQL: finishing settles written with group commit. */
  private readonly finishedSettles: ReturnType<typeof finishedSettles> | null;
  /** PostgreSQL: compare-and-sets without aliases written with group commit. */
  private readonly compareAndSets: ReturnType<typeof compareAndSetGroups> | null;
  private schemaChecked = false;
  private schemaCheck: Promise<number> | null = null;

  constructor(db: AnyKysely, options: SqlStoreOptions) {
    assertDialect(options?.dialect);
    this.db = db;
    this.dialect = options.dialect;
    this.options = options;
    this.context = new SqlContext(db, options.dialect, new Tables(options.dialect, options));
    this.finishedSettles = options.dialect === "postgres" ? finishedSettles(this.context) : null;
    this.compareAndSets = options.dialect === "postgres" ? compareAndSetGroups(this.context, (write) => this.compareAndSetAlone(write)) : null;
  }

  /** Applies pending migrations to this store's tables; see `migrate`. */
  migrate(): Promise<MigrationResult> {
    return migrate(this.db, this.dialect, this.options);
  }

  /** The schema version the database records now, asked afresh each time (a readiness probe's question). */
  schemaVersion(): Promise<number> {
    return schemaVersion(this.db, this.dialect, this.options);
  }

  /**
   * Resolves with the schema version once it is the one this package needs; rejects with
   * `SchemaVersionError` otherwise. Every operation awaits it before its first query.
   */
  checkSchema(): Promise<number> {
    this.schemaCheck ??= assertSchemaVersion(this.db, this.dialect, this.options).then(
      (version) => {
        this.schemaChecked = true;
        return version;
      },
      (error: unknown) => {
        this.schemaCheck = null; // checked again next time: the database may be migrated meanwhile
        throw error;
      },
    );
    return this.schemaCheck;
  }

  async insert(write: RecordWrite): Promise<InsertResult> {
    if (!this.schemaChecked) await this.checkSchema();
    if (this.dialect !== "postgres") return this.insertRetried(write, () => insertInTransaction(this.context, write));
    let lastError: unknown;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      try {
        return (await insertPostgres(this.context, write)) ? { ok: true } : { ok: false, taken: write.record.id };
      } catch (error) {
        if (!isUniqueViolation(error) && !isRetryable(error)) throw error;
        lastError = error;
        // The statement failed whole; name the alias that was taken, unless its taker rolled back.
        const taken = await this.takenAlias(write);
        if (taken !== null) return { ok: false, taken };
      }
    }
    throw stillConflicting(write, lastError);
  }

  async insertWithinLimit(write: RecordWrite, limit: RecordLimit): Promise<LimitedInsertResult> {
    assertRecordLimit(limit);
    if (!this.schemaChecked) await this.checkSchema();
    return this.insertRetried(write, () => insertWithinLimitInTransaction(this.context, write, limit));
  }

  async compareAndSet(write: RecordWrite & { readonly expectedVersion: number }): Promise<boolean> {
    if (write.record.version !== write.expectedVersion + 1) {
      throw new InvalidInputError("record.version", `must be expectedVersion + 1 (${write.expectedVersion + 1}), got ${write.record.version}`);
    }
    if (!this.schemaChecked) await this.checkSchema();
    if (this.compareAndSets !== null && (write.aliases ?? []).length === 0) {
      const outcome = await this.compareAndSets.add(write);
      if ("error" in outcome) throw outcome.error;
      return outcome.saved;
    }
    return this.compareAndSetAlone(write);
  }

  /** One compare-and-set in a statement (PostgreSQL) or a transaction of its own. */
  private async compareAndSetAlone(write: RecordWrite & { readonly expectedVersion: number }): Promise<boolean> {
    try {
      return this.dialect === "postgres" ? await compareAndSetPostgres(this.context, write) : await compareAndSetInTransaction(this.context, write);
    } catch (error) {
      // A deadlock victim or a writer beaten to an alias wrote nothing: it lost, like any loser.
      if (isUniqueViolation(error) || isRetryable(error)) return false;
      throw error;
    }
  }

  async get(orgId: string, id: string): Promise<StoredRecord | null> {
    if (!this.schemaChecked) await this.checkSchema();
    return getRecord(this.context, id, orgId);
  }

  async getUnscoped(id: string): Promise<StoredRecord | null> {
    if (!this.schemaChecked) await this.checkSchema();
    return getRecord(this.context, id);
  }

  async resolveAlias(orgId: string, alias: string): Promise<string | null> {
    if (!this.schemaChecked) await this.checkSchema();
    return resolveAlias(this.context, orgId, alias);
  }

  /**
   * Newest id first through the (org, kind[, status], id) indexes. `total` is a COUNT over the
   * same index: exact, and cheaper overall than a counts table, whose few rows every write would
   * update and so serialize on.
   */
  async list(orgId: string, query: ListRecordsQuery): Promise<RecordPage> {
    assertCount("limit", query.limit, 1);
    if (query.offset !== undefined) assertCount("offset", query.offset, 0);
    if (!this.schemaChecked) await this.checkSchema();
    return listRecords(this.context, orgId, query);
  }

  async timeline(orgId: string, id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<SessionEvent[]> {
    if (options.limit !== undefined) assertCount("limit", options.limit, 0);
    if (!this.schemaChecked) await this.checkSchema();
    return timeline(this.context, orgId, id, options);
  }

  async claimDue(options: ClaimOptions): Promise<DueClaim[]> {
    assertClaim(options);
    if (!this.schemaChecked) await this.checkSchema();
    return claimDue(this.context, options);
  }

  async listDue(orgId: string, kind: RecordKind, now: number, limit: number): Promise<string[]> {
    assertCount("limit", limit, 1);
    if (!Number.isSafeInteger(now)) throw new InvalidInputError("now", `must be milliseconds since the epoch, got ${now}`);
    if (!this.schemaChecked) await this.checkSchema();
    return listDue(this.context, orgId, kind, now, limit);
  }

  async claimOutbox(options: ClaimOptions & { readonly topic?: string }): Promise<OutboxEntry[]> {
    assertClaim(options);
    if (!this.schemaChecked) await this.checkSchema();
    return claimOutbox(this.context, options);
  }

  async settleOutbox(id: string, owner: string, outcome: { readonly retryAt?: number; readonly error?: string }): Promise<boolean> {
    if (!this.schemaChecked) await this.checkSchema();
    if (outcome.retryAt === undefined && this.finishedSettles) return this.finishedSettles.add({ id, owner });
    return settleOutbox(this.context, id, owner, outcome);
  }

  async renewOutbox(options: RenewOptions): Promise<string[]> {
    assertLease(options);
    assertIds(options.ids);
    if (!this.schemaChecked) await this.checkSchema();
    return renewOutbox(this.context, options);
  }

  async outboxLeases(ids: readonly string[]): Promise<OutboxLease[]> {
    assertIds(ids);
    if (!this.schemaChecked) await this.checkSchema();
    return outboxLeases(this.context, ids);
  }

  async logDeliveries(entries: readonly DeliveryLogEntry[]): Promise<void> {
    if (!Array.isArray(entries)) throw new InvalidInputError("entries", "must be an array of delivery log entries");
    if (!this.schemaChecked) await this.checkSchema();
    // A deadlock with a concurrent writer of the same entries rolled the whole batch back: it runs again.
    await this.retried(() => logDeliveries(this.context, entries));
  }

  async deliveryLog(orgId: string, webhookId: string, query: DeliveryLogQuery): Promise<DeliveryLogPage> {
    assertCount("limit", query.limit, 1);
    if (query.offset !== undefined) assertCount("offset", query.offset, 0);
    if (!this.schemaChecked) await this.checkSchema();
    return deliveryLog(this.context, orgId, webhookId, query);
  }

  async reserveIdempotencyKey(orgId: string, key: string, entry: IdempotencyEntry, now: number): Promise<IdempotencyEntry | null> {
    if (!this.schemaChecked) await this.checkSchema();
    return reserveIdempotencyKey(this.context, { orgId, key }, entry, now);
  }

  async completeIdempotencyKey(orgId: string, key: string, response: unknown, recordId?: string): Promise<void> {
    if (!this.schemaChecked) await this.checkSchema();
    await completeIdempotencyKey(this.context, { orgId, key }, response, recordId);
  }

  async purge(options: PurgeOptions): Promise<PurgeResult> {
    if (!this.schemaChecked) await this.checkSchema();
    // A deadlock with a concurrent write rolled the whole batch back: it simply runs again.
    return this.retried(() => purgeRecords(this.context, options));
  }

  async releaseIdempotencyKey(orgId: string, key: string): Promise<void> {
    if (!this.schemaChecked) await this.checkSchema();
    await releaseIdempotencyKey(this.context, { orgId, key });
  }

  /** Deletes idempotency records expired by `now` and returns how many; they are ignored anyway, this reclaims space. */
  async purgeExpiredIdempotencyKeys(now: number): Promise<number> {
    if (!this.schemaChecked) await this.checkSchema();
    return purgeIdempotencyKeys(this.context, now);
  }

  /** Destroys the Kysely instance when the store owns it (`destroyOnClose`), ending its connections. */
  async close(): Promise<void> {
    if (this.options.destroyOnClose) await this.db.destroy();
  }

  /** Runs an insert transaction until it answers, again after a deadlock or an alias taken under it. */
  private async insertRetried<R extends InsertOutcome | "full">(
    write: RecordWrite,
    transaction: () => Promise<R>,
  ): Promise<R extends "full" ? LimitedInsertResult : InsertResult> {
    type Result = R extends "full" ? LimitedInsertResult : InsertResult;
    let lastError: unknown;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      try {
        const outcome = await transaction();
        if (outcome === null) return { ok: true } as Result;
        if (outcome === "full") return { ok: false, full: true } as Result;
        if (outcome !== "retry") return { ok: false, taken: outcome.taken } as Result;
      } catch (error) {
        if (!isRetryable(error)) throw error;
        lastError = error;
      }
    }
    throw stillConflicting(write, lastError);
  }

  /** Runs a transaction again after a deadlock or serialization failure, up to `WRITE_ATTEMPTS` times in all. */
  private async retried<T>(transaction: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await transaction();
      } catch (error) {
        if (!isRetryable(error) || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }

  /** The first of the write's aliases that names a record in its organization, or null. */
  private async takenAlias(write: RecordWrite): Promise<string | null> {
    const aliases = write.aliases ?? [];
    if (aliases.length === 0) return null;
    const owners = await aliasOwners(this.context, write.record.orgId, aliases);
    return aliases.find((alias) => owners.has(alias)) ?? null;
  }
}

function stillConflicting(write: RecordWrite, cause: unknown): Error {
  return new Error(`insert of ${write.record.id}: still conflicting with concurrent writes after ${WRITE_ATTEMPTS} attempts`, { cause });
}

function assertCount(field: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) throw new InvalidInputError(field, `must be a whole number ≥ ${minimum}, got ${value}`);
}

function assertClaim(options: ClaimOptions): void {
  assertCount("limit", options.limit, 1);
  assertLease(options);
}

/** A lease's holder, start and length, as claims and renewals take them. */
function assertLease(options: Pick<ClaimOptions, "now" | "leaseMs" | "owner">): void {
  assertCount("leaseMs", options.leaseMs, 1);
  if (!Number.isSafeInteger(options.now)) throw new InvalidInputError("now", `must be milliseconds since the epoch, got ${options.now}`);
  if (typeof options.owner !== "string" || options.owner === "") throw new InvalidInputError("owner", "must be a non-empty string");
}

function assertIds(ids: readonly string[]): void {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw new InvalidInputError("ids", "must be an array of outbox message ids");
}
