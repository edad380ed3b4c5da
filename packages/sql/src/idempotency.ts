import type { IdempotencyEntry } from "@agent-sessions/core";
import { sql } from "kysely";
import type { SqlContext } from "./context.js";
import { isUniqueViolation, jsonParam, jsonText } from "./dialect.js";

/** An idempotency key within its organization. */
interface IdempotencyKey {
  readonly orgId: string;
  readonly key: string;
}

interface EntryRow {
  fingerprint: string;
  expires_at: number | string;
  response: string;
}

/** Stores `entry` unless a live one is there, which it returns instead; see `Store.reserveIdempotencyKey`. */
export async function reserveIdempotencyKey(
  context: SqlContext,
  key: IdempotencyKey,
  entry: IdempotencyEntry,
  now: number,
): Promise<IdempotencyEntry | null> {
  const { db, dialect, tables } = context;
  // Bounded: each round either stores the entry or finds a live one, unless a concurrent caller
  // released or replaced the key in between, which takes a rare interleaving every round.
  for (let round = 0; round < 10; round++) {
    if (await tryStore(context, key, entry, now)) return null;
    const { rows } = await sql<EntryRow>`SELECT fingerprint, expires_at, ${jsonText(dialect, "response")} AS response
      FROM ${tables.idempotency} WHERE org_id = ${key.orgId} AND idempotency_key = ${key.key}`.execute(db);
    const row = rows[0];
    if (row && Number(row.expires_at) > now) {
      return { fingerprint: row.fingerprint, expiresAt: Number(row.expires_at), response: JSON.parse(row.response) };
    }
  }
  throw new Error(`reserveIdempotencyKey: key ${key.key} kept changing under concurrent callers; try again`);
}

/** One attempt to store the entry: true when it now holds the key. */
async function tryStore({ db, dialect, tables }: SqlContext, key: IdempotencyKey, entry: IdempotencyEntry, now: number): Promise<boolean> {
  const values = sql`(${key.orgId}, ${key.key}, ${entry.fingerprint}, ${entry.expiresAt}, ${jsonParam(dialect, entry.response)})`;
  const columns = sql.raw("org_id, idempotency_key, fingerprint, expires_at, response");
  if (dialect !== "mysql") {
    // An upsert that replaces only an expired entry: a row comes back iff the entry was stored.
    // PostgreSQL needs the existing row named (a bare column would be ambiguous with `excluded`);
    // SQLite allows no alias there and reads a bare column as the existing row's.
    const target = dialect === "postgres" ? sql`${tables.idempotency} AS existing` : tables.idempotency;
    const existingExpiry = dialect === "postgres" ? sql`existing.expires_at` : sql`expires_at`;
    const { rows } = await sql`INSERT INTO ${target} (${columns}) VALUES ${values}
      ON CONFLICT (org_id, idempotency_key) DO UPDATE SET fingerprint = excluded.fingerprint,
        expires_at = excluded.expires_at, response = excluded.response
      WHERE ${existingExpiry} <= ${now}
      RETURNING org_id`.execute(db);
    return rows.length === 1;
  }
  // MySQL's upsert reports an unchanged row as affected or not depending on CLIENT_FOUND_ROWS,
  // so it cannot tell us who won: drop an expired entry, then a plain INSERT decides.
  await sql`DELETE FROM ${tables.idempotency}
    WHERE org_id = ${key.orgId} AND idempotency_key = ${key.key} AND expires_at <= ${now}`.execute(db);
  try {
    await sql`INSERT INTO ${tables.idempotency} (${columns}) VALUES ${values}`.execute(db);
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

/** Records the response of the request that reserved the key. */
export async function completeIdempotencyKey({ db, dialect, tables }: SqlContext, key: IdempotencyKey, response: unknown): Promise<void> {
  await sql`UPDATE ${tables.idempotency} SET response = ${jsonParam(dialect, response)}
    WHERE org_id = ${key.orgId} AND idempotency_key = ${key.key}`.execute(db);
}

/** Forgets a key. */
export async function releaseIdempotencyKey({ db, tables }: SqlContext, key: IdempotencyKey): Promise<void> {
  await sql`DELETE FROM ${tables.idempotency} WHERE org_id = ${key.orgId} AND idempotency_key = ${key.key}`.execute(db);
}

/** Deletes entries that expired by `now`; they are already ignored, this only reclaims space. */
export async function purgeIdempotencyKeys({ db, tables }: SqlContext, now: number): Promise<number> {
  const result = await sql`DELETE FROM ${tables.idempotency} WHERE expires_at <= ${now}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
