import { InvalidInputError } from "@agent-sessions/core";
import { type AliasableExpression, CompiledQuery, type Expression, expressionBuilder, type Kysely } from "kysely";
import type { Database } from "./database.js";

/** The SQL databases the store speaks to: PostgreSQL, MySQL 8 or MariaDB 10.6+, and SQLite. */
export type SqlDialect = "postgres" | "mysql" | "sqlite";

const DIALECTS: readonly SqlDialect[] = ["postgres", "mysql", "sqlite"];

/**
 * A Kysely instance of any database type, as the store and `migrate` take it: the store queries
 * it as a `Kysely<Database>`, its tables named with the prefix and schema given.
 */
export type AnyKysely = Kysely<any>;

/** A connection or transaction queries run on. */
export type Executor = Kysely<Database>;

/** Throws a clear error unless `dialect` is one the store supports. */
export function assertDialect(dialect: unknown): asserts dialect is SqlDialect {
  if (!DIALECTS.includes(dialect as SqlDialect)) {
    throw new InvalidInputError("dialect", `must be one of ${DIALECTS.map((d) => `"${d}"`).join(", ")}, got ${JSON.stringify(dialect)}`);
  }
}

/**
 * A JSON column read back as text, so every driver hands over a string whatever its own JSON
 * handling is (pg parses jsonb, mysql2 parses MySQL's JSON but not MariaDB's LONGTEXT alias).
 */
export function jsonText(dialect: SqlDialect, column: "data" | "payload" | "response"): AliasableExpression<string> {
  if (dialect === "postgres") return eb.cast<string>(column, "text");
  if (dialect === "mysql") return eb.cast<string>(column, "char");
  return eb.ref(column).$castTo<string>();
}

/** JSON text (see `jsonString`) as the value of a JSON column. */
export function jsonValue(dialect: SqlDialect, text: string): Expression<string> {
  return dialect === "postgres" ? eb.cast<string>(eb.val(text), "jsonb") : eb.val(text);
}

/** A value as the JSON text a JSON column is written with. */
export function jsonString(value: unknown): string {
  return JSON.stringify(value ?? null);
}

const eb = expressionBuilder<Database, keyof Database>();

/** Whether `error` is the driver's report of a duplicate primary or unique key. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // PostgreSQL 23505, mysql2 ER_DUP_ENTRY, better-sqlite3 SQLITE_CONSTRAINT_{PRIMARYKEY,UNIQUE}.
  return code === "23505" || code === "ER_DUP_ENTRY" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/** Whether `error` is a deadlock or serialization failure, after which the whole transaction may simply run again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // PostgreSQL 40P01 deadlock / 40001 serialization; MySQL deadlock; SQLite busy past busy_timeout.
  return code === "40P01" || code === "40001" || code === "ER_LOCK_DEADLOCK" || code === "SQLITE_BUSY";
}

/**
 * Runs `work` in one transaction. SQLite gets `BEGIN IMMEDIATE`, which takes the single write
 * lock up front: a deferred transaction that reads and then writes can fail with SQLITE_BUSY
 * when another process wrote in between, and SQLite allows only one writer anyway.
 */
export async function inTransaction<T>(db: Executor, dialect: SqlDialect, work: (trx: Executor) => Promise<T>): Promise<T> {
  if (dialect !== "sqlite") return db.transaction().execute(work);
  return inTurn(db, () => sqliteTransaction(db, work));
}

/**
 * The last SQLite transaction queued per Kysely instance. Kysely guards SQLite's one connection
 * with a lock that wakes every waiter each time it is released; with many writers in flight that
 * costs more than the writes. Queuing the transactions here first means each waits for the one
 * before it only, and Kysely's lock sees one waiter at a time.
 */
const sqliteQueues = new WeakMap<Executor, Promise<unknown>>();

function inTurn<T>(db: Executor, work: () => Promise<T>): Promise<T> {
  const previous = sqliteQueues.get(db) ?? Promise.resolve();
  const turn = previous.then(work, work);
  sqliteQueues.set(
    db,
    turn.catch(() => {}),
  );
  return turn;
}

// Compiled once: these run on every SQLite transaction.
// raw: kysely's transactions begin with a plain BEGIN, and its builder has no transaction statements.
const BEGIN_IMMEDIATE = CompiledQuery.raw("BEGIN IMMEDIATE");
const COMMIT = CompiledQuery.raw("COMMIT");
const ROLLBACK = CompiledQuery.raw("ROLLBACK");

function sqliteTransaction<T>(db: Executor, work: (trx: Executor) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await connection.executeQuery(BEGIN_IMMEDIATE);
    let result: T;
    try {
      result = await work(connection);
    } catch (error) {
      await connection.executeQuery(ROLLBACK);
      throw error;
    }
    await connection.executeQuery(COMMIT);
    return result;
  });
}
