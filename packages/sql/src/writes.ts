import type { RecordLimit, RecordWrite } from "@agent-sessions/core";
import type { QueryCreator } from "kysely";
import type { SqlContext } from "./context.js";
import type { Database } from "./database.js";
import { type Executor, inTransaction, isUniqueViolation, jsonValue, type SqlDialect } from "./dialect.js";
import { countWithStatus, inLimitTransaction } from "./limits.js";
import { statement } from "./statement.js";
import {
  type AliasValues,
  aliasValues,
  type EventValues,
  type OutboxValues,
  type RecordValues,
  recordRow,
  type WriteValues,
  writeValues,
} from "./values.js";

// MySQL/MariaDB and SQLite write a transition as one transaction of a few statements (PostgreSQL
// writes it as one statement: see writes-postgres.ts): the record's INSERT or compare-and-set
// UPDATE first (which locks the row, or on SQLite holds the one write lock), then multi-row
// INSERTs of events, aliases and outbox messages. A capped insert is such a transaction on every
// dialect, PostgreSQL included: it counts before it inserts. A value that cannot be serialized
// throws while the write's values are made, before any statement runs.

/** The compare-and-set UPDATE, on every dialect: the record's new state, where it still has `expectedVersion`. */
export function compareAndSetUpdate(
  db: QueryCreator<Database>,
  dialect: SqlDialect,
  { record, expectedVersion }: { record: RecordValues; expectedVersion: number },
) {
  return db
    .updateTable("records")
    .set({
      status: record.status,
      version: record.version,
      updated_at: record.updated_at,
      due_at: record.due_at,
      event_count: record.event_count,
      data: jsonValue(dialect, record.data),
      lease_owner: null,
      lease_until: 0,
    })
    .where("id", "=", record.id)
    .where("org_id", "=", record.org_id)
    .where("version", "=", expectedVersion);
}

const INSERT_RECORD = statement((db, record: RecordValues, dialect) => db.insertInto("records").values(recordRow(dialect, record)));

const COMPARE_AND_SET = statement((db, values: { record: RecordValues; expectedVersion: number }, dialect) =>
  compareAndSetUpdate(db, dialect, values),
);

const INSERT_EVENTS = statement((db, { rows }: { rows: readonly EventValues[] }, dialect) =>
  db.insertInto("events").values(rows.map((row) => ({ ...row, payload: jsonValue(dialect, row.payload) }))),
);

const INSERT_ALIASES = statement((db, { rows }: { rows: readonly AliasValues[] }) => db.insertInto("aliases").values(rows));

/** A message id already queued is kept as it is, as every store does. */
const INSERT_OUTBOX = statement((db, { rows }: { rows: readonly OutboxValues[] }, dialect) => {
  const insert = db.insertInto("outbox").values(rows.map((row) => ({ ...row, payload: jsonValue(dialect, row.payload) })));
  return dialect === "mysql" ? insert.onDuplicateKeyUpdate(({ ref }) => ({ id: ref("id") })) : insert.onConflict((oc) => oc.column("id").doNothing());
});

const ALIAS_OWNERS = statement((db, { orgId, aliases }: { orgId: string; aliases: readonly string[] }) =>
  db.selectFrom("aliases").select(["alias", "record_id"]).where("org_id", "=", orgId).where("alias", "in", aliases),
);

/** The aliases among `aliases` that name some record in the organization, with the record each names. */
export async function aliasOwners(context: SqlContext, orgId: string, aliases: readonly string[], executor?: Executor): Promise<Map<string, string>> {
  const { rows } = await context.run(ALIAS_OWNERS, { orgId, aliases }, executor);
  return new Map(rows.map((row) => [row.alias, row.record_id]));
}

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

async function insertFollowers(trx: Executor, context: SqlContext, values: WriteValues): Promise<void> {
  if (values.events.length > 0) await context.run(INSERT_EVENTS, { rows: values.events }, trx);
  if (values.aliases.length > 0) await context.run(INSERT_ALIASES, { rows: aliasValues(values.record, values.aliases) }, trx);
  if (values.outbox.length > 0) await context.run(INSERT_OUTBOX, { rows: values.outbox }, trx);
}

/** What an insert in a transaction answers: `null` when written, else why not. */
export type InsertOutcome = { taken: string } | null | "retry";

/**
 * The statements of an insert, inside `trx`: rolls back with the id or alias that is taken. A
 * unique violation on an alias taken by a concurrent insert after our check rolls back with
 * `retry`, so the caller runs it again and the check then names the alias.
 */
async function insertStatements(trx: Executor, context: SqlContext, values: WriteValues): Promise<null> {
  const { record, aliases } = values;
  try {
    await context.run(INSERT_RECORD, record, trx);
  } catch (error) {
    if (isUniqueViolation(error)) throw new Rollback({ taken: record.id });
    throw error;
  }
  if (aliases.length > 0) {
    const owners = await aliasOwners(context, record.org_id, aliases, trx);
    const taken = aliases.find((alias) => owners.has(alias));
    if (taken !== undefined) throw new Rollback({ taken });
  }
  try {
    await insertFollowers(trx, context, values);
  } catch (error) {
    if (isUniqueViolation(error)) throw new Rollback("retry" as const);
    throw error;
  }
  return null;
}

/** Inserts a record with everything it comes with, as one transaction. */
export function insertInTransaction(context: SqlContext, write: RecordWrite): Promise<InsertOutcome> {
  const values = writeValues(write);
  return transact(inTransaction(context.db, context.dialect, (trx) => insertStatements(trx, context, values)));
}

/**
 * Inserts a record unless the organization already has `limit.max` records of its kind with
 * `limit.status` (`full`), counting and inserting under the pair's lock (see `limits.ts`).
 */
export function insertWithinLimitInTransaction(context: SqlContext, write: RecordWrite, limit: RecordLimit): Promise<InsertOutcome | "full"> {
  const { orgId, kind } = write.record;
  const values = writeValues(write);
  return transact(
    inLimitTransaction(context, orgId, kind, async (trx) => {
      if ((await countWithStatus(trx, context, orgId, kind, limit)) >= limit.max) throw new Rollback("full" as const);
      return insertStatements(trx, context, values);
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
  const values = writeValues(write);
  const { record, aliases } = values;
  return transact(
    inTransaction(context.db, context.dialect, async (trx) => {
      const result = await context.run(COMPARE_AND_SET, { record, expectedVersion: write.expectedVersion }, trx);
      if (Number(result.numAffectedRows ?? 0) !== 1) throw new Rollback(false);
      let fresh = aliases;
      if (aliases.length > 0) {
        const owners = await aliasOwners(context, record.org_id, aliases, trx);
        if (aliases.some((alias) => owners.has(alias) && owners.get(alias) !== record.id)) throw new Rollback(false);
        fresh = aliases.filter((alias) => !owners.has(alias));
      }
      try {
        await insertFollowers(trx, context, { ...values, aliases: fresh });
      } catch (error) {
        // An alias taken by a concurrent insert after our check: this write loses, and writes nothing.
        if (isUniqueViolation(error)) throw new Rollback(false);
        throw error;
      }
      return true;
    }),
  );
}
