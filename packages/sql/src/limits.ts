import type { RecordKind, RecordLimit } from "@agent-sessions/core";
import { sql } from "kysely";
import type { SqlContext } from "./context.js";
import { type Executor, inTransaction } from "./dialect.js";

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

/** The number of the organization's records of `kind` with `status`, read inside the lock. */
export async function countWithStatus(trx: Executor, { tables }: SqlContext, orgId: string, kind: RecordKind, limit: RecordLimit): Promise<number> {
  const { rows } = await sql<{ total: number | string }>`SELECT COUNT(*) AS total FROM ${tables.records}
    WHERE org_id = ${orgId} AND kind = ${kind} AND status = ${limit.status}`.execute(trx);
  return Number(rows[0]?.total ?? 0);
}

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
        // Two 32-bit keys: the table (so stores in other schemas or prefixes do not wait on each
        // other) and the pair. A hash collision only makes two pairs take turns.
        await sql`SELECT pg_advisory_xact_lock(hashtext(${tables.name("records")}), hashtext(${`${orgId}:${kind}`}))`.execute(trx);
        return work(trx);
      });
  }
  return db.connection().execute(async (connection) => {
    // Names are server-wide and at most 64 characters: a digest of the database, prefix and pair.
    const name = sql`CONCAT('agent-sessions:', SHA1(CONCAT_WS(':', COALESCE(${tables.schema ?? null}, DATABASE()), ${tables.prefix}, ${orgId}, ${kind})))`;
    const { rows } = await sql<{ locked: number | string | null }>`SELECT GET_LOCK(${name}, ${LOCK_SECONDS}) AS locked`.execute(connection);
    if (Number(rows[0]?.locked) !== 1) {
      throw new Error(`insertWithinLimit: another insert of ${kind} records of ${orgId} held the lock for ${LOCK_SECONDS} seconds`);
    }
    try {
      return await connection.transaction().setIsolationLevel("read committed").execute(work);
    } finally {
      // The transaction is over whichever way it went; a release that fails means the connection
      // broke, and the server drops a broken session's locks itself.
      await sql`SELECT RELEASE_LOCK(${name})`.execute(connection).catch(() => {});
    }
  });
}
