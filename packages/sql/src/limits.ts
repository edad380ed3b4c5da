import type { RecordKind, RecordLimit } from "@agent-sessions/core";
import type { ExpressionBuilder } from "kysely";
import type { SqlContext } from "./context.js";
import type { Database } from "./database.js";
import { type Executor, inTransaction } from "./dialect.js";
import { statement } from "./statement.js";

// A limit that spans records (at most 20 live webhook endpoints an organization) is a count
// followed by an insert. Two callers that count at once both see room, so each capped insert of
// one organization and kind first takes a lock that only capped inserts of that pair take, then
// counts in a READ COMMITTED transaction, whose every statement sees what the previous holder
// committed before it let go:
// - PostgreSQL: `pg_advisory_xact_lock`, released by the transaction's end; no table needed.
// - MySQL/MariaDB: a named lock (`GET_LOCK`) on the transaction's connection, released after the
//   commit. A named lock is held by a session, not a transaction, hence the `finally`.
// - SQLite: `BEGIN IMMEDIATE` already lets one writer at a time in, from its count to its commit.
// Plain inserts and compare-and-sets take no lock: they never add a record the limit counts,
// save a write that moves an existing record into the counted status, which no caller does.

/** How long a capped insert waits for another one of the same organization and kind on MySQL. */
const LOCK_SECONDS = 30;

const COUNT_WITH_STATUS = statement((db, { orgId, kind, status }: { orgId: string; kind: string; status: string }) =>
  db
    .selectFrom("records")
    .select((eb) => eb.fn.countAll().as("total"))
    .where("org_id", "=", orgId)
    .where("kind", "=", kind)
    .where("status", "=", status),
);

/** The number of the organization's records of `kind` with `status`, read inside the lock. */
export async function countWithStatus(trx: Executor, context: SqlContext, orgId: string, kind: RecordKind, limit: RecordLimit): Promise<number> {
  const { rows } = await context.run(COUNT_WITH_STATUS, { orgId, kind, status: limit.status }, trx);
  return Number(rows[0]?.total ?? 0);
}

/**
 * PostgreSQL: waits for the transaction lock of two 32-bit keys, the table (so stores in other
 * schemas or prefixes do not wait on each other) and the pair. A hash collision only makes two
 * pairs take turns.
 */
const ADVISORY_LOCK = statement((db, { table, pair }: { table: string; pair: string }) =>
  db.selectNoFrom(({ fn, val }) => fn("pg_advisory_xact_lock", [fn("hashtext", [val(table)]), fn("hashtext", [val(pair)])]).as("locked")),
);

/** A MySQL named lock of one organization and kind in one store's tables. */
interface NamedLock {
  readonly schema: string | null;
  readonly prefix: string;
  readonly orgId: string;
  readonly kind: string;
}

/** Names are server-wide and at most 64 characters: a digest of the database, prefix and pair. */
function lockName({ fn, val }: ExpressionBuilder<Database, never>, lock: NamedLock) {
  const scope = fn("concat_ws", [val(":"), fn.coalesce(val(lock.schema), fn("database", [])), val(lock.prefix), val(lock.orgId), val(lock.kind)]);
  return fn("concat", [val("agent-sessions:"), fn("sha1", [scope])]);
}

/** `locked` is 1 once the lock is taken, 0 after `seconds` without it. */
const GET_LOCK = statement((db, values: NamedLock & { seconds: number }) =>
  db.selectNoFrom((eb) => eb.fn<number | string | null>("get_lock", [lockName(eb, values), eb.val(values.seconds)]).as("locked")),
);

const RELEASE_LOCK = statement((db, values: NamedLock) => db.selectNoFrom((eb) => eb.fn("release_lock", [lockName(eb, values)]).as("released")));

/**
 * Runs `work` in a transaction that holds the lock of the organization's records of `kind`:
 * capped inserts of one organization and kind run one after another, each seeing the last one's
 * commit.
 */
export function inLimitTransaction<T>(context: SqlContext, orgId: string, kind: RecordKind, work: (trx: Executor) => Promise<T>): Promise<T> {
  const { db, dialect, tables } = context;
  if (dialect === "sqlite") return inTransaction(db, dialect, work);
  if (dialect === "postgres") {
    return db
      .transaction()
      .setIsolationLevel("read committed")
      .execute(async (trx) => {
        await context.run(ADVISORY_LOCK, { table: tables.name("records"), pair: `${orgId}:${kind}` }, trx);
        return work(trx);
      });
  }
  const lock: NamedLock = { schema: tables.schema ?? null, prefix: tables.prefix, orgId, kind };
  return db.connection().execute(async (connection) => {
    const { rows } = await context.run(GET_LOCK, { ...lock, seconds: LOCK_SECONDS }, connection);
    if (Number(rows[0]?.locked) !== 1) {
      throw new Error(`insertWithinLimit: another insert of ${kind} records of ${orgId} held the lock for ${LOCK_SECONDS} seconds`);
    }
    try {
      return await connection.transaction().setIsolationLevel("read committed").execute(work);
    } finally {
      // The transaction is over whichever way it went; a release that fails means the connection
      // broke, and the server drops a broken session's locks itself.
      await context.run(RELEASE_LOCK, lock, connection).catch(() => {});
    }
  });
}
