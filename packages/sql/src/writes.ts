import type { RecordLimit, RecordWrite } from "@agent-sessions/core";
import { type RawBuilder, sql } from "kysely";
import type { SqlContext } from "./context.js";
import { type Executor, inTransaction, isUniqueViolation, jsonParam } from "./dialect.js";
import { countWithStatus, inLimitTransaction } from "./limits.js";
import type { Tables } from "./tables.js";
import {
  ALIAS_COLUMNS,
  aliasesOf,
  aliasRows,
  EVENT_COLUMNS,
  eventRows,
  OUTBOX_COLUMNS,
  outboxRows,
  RECORD_COLUMNS,
  recordRow,
} from "./values.js";

// On PostgreSQL a whole write is one statement: data-modifying CTEs (WITH … INSERT/UPDATE) run
// in the statement's single implicit transaction, so the record, its events, aliases and outbox
// rows are written together or not at all, in one round trip. Each INSERT runs only when the
// `changed` CTE wrote the record (WHERE EXISTS), which is how a lost compare-and-set writes nothing.

/** The INSERT CTEs that follow the record's own write, each gated on `changed` having a row. */
function followers(tables: Tables, write: RecordWrite, aliasGuard: boolean): RawBuilder<unknown>[] {
  const parts: RawBuilder<unknown>[] = [];
  const wrote = sql`EXISTS (SELECT 1 FROM changed)`;
  if (write.events.length > 0) {
    parts.push(sql`new_events AS (INSERT INTO ${tables.events} (${EVENT_COLUMNS})
      SELECT * FROM (VALUES ${eventRows("postgres", write)}) AS v WHERE ${wrote})`);
  }
  const aliases = aliasesOf(write);
  if (aliases.length > 0) {
    // No ON CONFLICT: an alias another writer took meanwhile fails the statement, undoing all of it.
    const fresh = aliasGuard
      ? sql` AND NOT EXISTS (SELECT 1 FROM ${tables.aliases} AS a WHERE a.org_id = v.org_id AND a.alias = v.alias)`
      : sql``;
    parts.push(sql`new_aliases AS (INSERT INTO ${tables.aliases} (${ALIAS_COLUMNS})
      SELECT v.org_id, v.alias, v.record_id FROM (VALUES ${aliasRows(write, aliases)}) AS v (org_id, alias, record_id)
      WHERE ${wrote}${fresh})`);
  }
  if (write.outbox && write.outbox.length > 0) {
    parts.push(sql`new_outbox AS (INSERT INTO ${tables.outbox} (${OUTBOX_COLUMNS})
      SELECT * FROM (VALUES ${outboxRows("postgres", write.outbox)}) AS v WHERE ${wrote}
      ON CONFLICT (id) DO NOTHING)`);
  }
  return parts;
}

async function run({ db }: SqlContext, changed: RawBuilder<unknown>, rest: RawBuilder<unknown>[]): Promise<boolean> {
  const ctes = sql.join([sql`changed AS (${changed})`, ...rest], sql`, `);
  const { rows } = await sql<{ written: string | number }>`WITH ${ctes} SELECT COUNT(*) AS written FROM changed`.execute(db);
  return Number(rows[0]?.written) === 1;
}

/**
 * Inserts a record with everything it comes with in one statement; false when the id exists.
 * A taken alias raises the driver's unique violation, which the caller turns into `taken`.
 */
export function insertPostgres(context: SqlContext, write: RecordWrite): Promise<boolean> {
  const { tables } = context;
  const changed = sql`INSERT INTO ${tables.records} (${RECORD_COLUMNS}) VALUES ${recordRow("postgres", write.record)}
    ON CONFLICT (id) DO NOTHING RETURNING id`;
  return run(context, changed, followers(tables, write, false));
}

/**
 * The compare-and-set in one statement. Concurrent writers of one version queue on the row lock
 * of the UPDATE; when the winner commits, PostgreSQL re-checks `version = expected` on the new row
 * for the others, which then update nothing and so insert nothing.
 */
export function compareAndSetPostgres(context: SqlContext, write: RecordWrite & { expectedVersion: number }): Promise<boolean> {
  const { tables } = context;
  const { record } = write;
  const aliases = aliasesOf(write);
  const ownedElsewhere =
    aliases.length > 0
      ? sql` AND NOT EXISTS (SELECT 1 FROM ${tables.aliases} WHERE org_id = ${record.orgId}
          AND alias IN (${sql.join(aliases)}) AND record_id <> ${record.id})`
      : sql``;
  const changed = sql`UPDATE ${tables.records} SET status = ${record.status}, version = ${record.version},
    updated_at = ${record.updatedAt}, due_at = ${record.dueAt}, event_count = ${record.eventCount},
    data = ${jsonParam("postgres", record.data)}, lease_owner = NULL, lease_until = 0
    WHERE id = ${record.id} AND org_id = ${record.orgId} AND version = ${write.expectedVersion}${ownedElsewhere}
    RETURNING id`;
  return run(context, changed, followers(tables, write, true));
}

// MySQL/MariaDB and SQLite write a transition as one transaction of a few statements: the
// record's INSERT or compare-and-set UPDATE first (which locks the row, or on SQLite holds the one
// write lock), then multi-row INSERTs of events, aliases and outbox messages. A capped insert is
// such a transaction on every dialect, PostgreSQL included: it counts before it inserts. A value
// that cannot be serialized throws while a statement is built, which rolls back what ran before.

/** Thrown inside a transaction to roll it back and hand `outcome` to the caller. */
class Rollback<T> {
  constructor(readonly outcome: T) {}
}

/** The outcome of a transaction, or the one a `Rollback` carried. */
async function transact<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (error) {
    if (error instanceof Rollback) return error.outcome as T;
    throw error;
  }
}

/** The aliases among `aliases` that name some record in the organization, with the record each names. */
async function aliasOwners(db: Executor, tables: Tables, orgId: string, aliases: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await sql<{ alias: string; record_id: string }>`SELECT alias, record_id FROM ${tables.aliases}
    WHERE org_id = ${orgId} AND alias IN (${sql.join(aliases)})`.execute(db);
  return new Map(rows.map((row) => [row.alias, row.record_id]));
}

async function insertFollowers(db: Executor, { dialect, tables }: SqlContext, write: RecordWrite, aliases: readonly string[]): Promise<void> {
  if (write.events.length > 0) {
    await sql`INSERT INTO ${tables.events} (${EVENT_COLUMNS}) VALUES ${eventRows(dialect, write)}`.execute(db);
  }
  if (aliases.length > 0) {
    await sql`INSERT INTO ${tables.aliases} (${ALIAS_COLUMNS}) VALUES ${aliasRows(write, aliases)}`.execute(db);
  }
  if (write.outbox && write.outbox.length > 0) {
    // A message id already queued is kept as it is, as every store does.
    const keep = dialect === "mysql" ? sql`ON DUPLICATE KEY UPDATE id = id` : sql`ON CONFLICT (id) DO NOTHING`;
    await sql`INSERT INTO ${tables.outbox} (${OUTBOX_COLUMNS}) VALUES ${outboxRows(dialect, write.outbox)} ${keep}`.execute(db);
  }
}

/** What an insert in a transaction answers: `null` when written, else why not. */
export type InsertOutcome = { taken: string } | null | "retry";

/**
 * The statements of an insert, inside `trx`: rolls back with the id or alias that is taken. A
 * unique violation on an alias taken by a concurrent insert after our check rolls back with
 * `retry`, so the caller runs it again and the check then names the alias.
 */
async function insertStatements(trx: Executor, context: SqlContext, write: RecordWrite): Promise<null> {
  const { dialect, tables } = context;
  const { record } = write;
  const aliases = aliasesOf(write);
  try {
    await sql`INSERT INTO ${tables.records} (${RECORD_COLUMNS}) VALUES ${recordRow(dialect, record)}`.execute(trx);
  } catch (error) {
    if (isUniqueViolation(error)) throw new Rollback({ taken: record.id });
    throw error;
  }
  if (aliases.length > 0) {
    const owners = await aliasOwners(trx, tables, record.orgId, aliases);
    const taken = aliases.find((alias) => owners.has(alias));
    if (taken !== undefined) throw new Rollback({ taken });
  }
  try {
    await insertFollowers(trx, context, write, aliases);
  } catch (error) {
    if (isUniqueViolation(error)) throw new Rollback("retry" as const);
    throw error;
  }
  return null;
}

/** Inserts a record with everything it comes with, as one transaction. */
export function insertInTransaction(context: SqlContext, write: RecordWrite): Promise<InsertOutcome> {
  return transact(inTransaction(context.db, context.dialect, (trx) => insertStatements(trx, context, write)));
}

/**
 * Inserts a record unless the organization already has `limit.max` records of its kind with
 * `limit.status` (`full`), counting and inserting under the pair's lock (see `limits.ts`).
 */
export function insertWithinLimitInTransaction(context: SqlContext, write: RecordWrite, limit: RecordLimit): Promise<InsertOutcome | "full"> {
  const { orgId, kind } = write.record;
  return transact(
    inLimitTransaction(context, orgId, kind, async (trx) => {
      if ((await countWithStatus(trx, context, orgId, kind, limit)) >= limit.max) throw new Rollback("full" as const);
      return insertStatements(trx, context, write);
    }),
  );
}

/**
 * The compare-and-set as one transaction. The UPDATE's `version = expected` decides the winner:
 * concurrent writers queue on its row lock and, once the winner commits, match nothing. It always
 * changes `version`, so MySQL reports the row as affected whether or not the connection counts
 * found rows (CLIENT_FOUND_ROWS) or changed rows.
 */
export function compareAndSetInTransaction(context: SqlContext, write: RecordWrite & { expectedVersion: number }): Promise<boolean> {
  const { dialect, tables } = context;
  const { record } = write;
  const aliases = aliasesOf(write);
  return transact(inTransaction(context.db, dialect, async (trx) => {
    const result = await sql`UPDATE ${tables.records} SET status = ${record.status}, version = ${record.version},
      updated_at = ${record.updatedAt}, due_at = ${record.dueAt}, event_count = ${record.eventCount},
      data = ${jsonParam(dialect, record.data)}, lease_owner = NULL, lease_until = 0
      WHERE id = ${record.id} AND org_id = ${record.orgId} AND version = ${write.expectedVersion}`.execute(trx);
    if (Number(result.numAffectedRows ?? 0) !== 1) throw new Rollback(false);
    let fresh = aliases;
    if (aliases.length > 0) {
      const owners = await aliasOwners(trx, tables, record.orgId, aliases);
      if (aliases.some((alias) => owners.has(alias) && owners.get(alias) !== record.id)) throw new Rollback(false);
      fresh = aliases.filter((alias) => !owners.has(alias));
    }
    try {
      await insertFollowers(trx, context, write, fresh);
    } catch (error) {
      // An alias taken by a concurrent insert after our check: this write loses, and writes nothing.
      if (isUniqueViolation(error)) throw new Rollback(false);
      throw error;
    }
    return true;
  }));
}
