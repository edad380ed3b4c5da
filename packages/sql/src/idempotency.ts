import type { IdempotencyEntry } from "@agent-sessions/core";
import type { Insertable } from "kysely";
import type { SqlContext } from "./context.js";
import type { IdempotencyKeysTable } from "./database.js";
import { isUniqueViolation, jsonString, jsonText, jsonValue, type SqlDialect } from "./dialect.js";
import { statement } from "./statement.js";

/** An idempotency key within its organization. */
interface IdempotencyKey {
  readonly orgId: string;
  readonly key: string;
}

/** An entry's row, its response as JSON text. */
type EntryValues = Insertable<IdempotencyKeysTable>;

function entryRow(dialect: SqlDialect, entry: EntryValues) {
  return { ...entry, response: jsonValue(dialect, entry.response) };
}

const READ_ENTRY = statement((db, { orgId, key }: IdempotencyKey, dialect) =>
  db
    .selectFrom("idempotency_keys")
    .select(["fingerprint", "expires_at", jsonText(dialect, "response").as("response")])
    .where("org_id", "=", orgId)
    .where("idempotency_key", "=", key),
);

/** Stores `entry` unless a live one is there, which it returns instead; see `Store.reserveIdempotencyKey`. */
export async function reserveIdempotencyKey(
  context: SqlContext,
  key: IdempotencyKey,
  entry: IdempotencyEntry,
  now: number,
): Promise<IdempotencyEntry | null> {
  const values: EntryValues = {
    org_id: key.orgId,
    idempotency_key: key.key,
    fingerprint: entry.fingerprint,
    expires_at: entry.expiresAt,
    response: jsonString(entry.response),
    record_id: null,
  };
  // Bounded: each round either stores the entry or finds a live one, unless a concurrent caller
  // released or replaced the key in between, which takes a rare interleaving every round.
  for (let round = 0; round < 10; round++) {
    if (await tryStore(context, values, now)) return null;
    const { rows } = await context.run(READ_ENTRY, key);
    const row = rows[0];
    if (row && Number(row.expires_at) > now) {
      return { fingerprint: row.fingerprint, expiresAt: Number(row.expires_at), response: JSON.parse(row.response) };
    }
  }
  throw new Error(`reserveIdempotencyKey: key ${key.key} kept changing under concurrent callers; try again`);
}

/**
 * An upsert that replaces only an expired entry: a row comes back iff the entry was stored.
 * The existing row is named by its table (a bare column would be ambiguous with `excluded` on
 * PostgreSQL).
 */
const STORE_UNLESS_LIVE = statement((db, { now, ...entry }: EntryValues & { now: number }, dialect) =>
  db
    .insertInto("idempotency_keys")
    .values(entryRow(dialect, entry))
    .onConflict((oc) =>
      oc
        .columns(["org_id", "idempotency_key"])
        .doUpdateSet(({ ref }) => ({
          fingerprint: ref("excluded.fingerprint"),
          expires_at: ref("excluded.expires_at"),
          response: ref("excluded.response"),
          record_id: ref("excluded.record_id"),
        }))
        .where("idempotency_keys.expires_at", "<=", now),
    )
    .returning("org_id"),
);

const DELETE_EXPIRED_KEY = statement((db, { org_id, idempotency_key, now }: Pick<EntryValues, "org_id" | "idempotency_key"> & { now: number }) =>
  db.deleteFrom("idempotency_keys").where("org_id", "=", org_id).where("idempotency_key", "=", idempotency_key).where("expires_at", "<=", now),
);

const INSERT_ENTRY = statement((db, entry: EntryValues, dialect) => db.insertInto("idempotency_keys").values(entryRow(dialect, entry)));

/** One attempt to store the entry: true when it now holds the key. */
async function tryStore(context: SqlContext, entry: EntryValues, now: number): Promise<boolean> {
  if (context.dialect !== "mysql") return (await context.run(STORE_UNLESS_LIVE, { ...entry, now })).rows.length === 1;
  // MySQL's upsert reports an unchanged row as affected or not depending on CLIENT_FOUND_ROWS,
  // so it cannot tell us who won: drop an expired entry, then a plain INSERT decides.
  await context.run(DELETE_EXPIRED_KEY, { org_id: entry.org_id, idempotency_key: entry.idempotency_key, now });
  try {
    await context.run(INSERT_ENTRY, entry);
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

const COMPLETE = statement((db, { orgId, key, response, recordId }: IdempotencyKey & { response: string; recordId: string | null }, dialect) =>
  db
    .updateTable("idempotency_keys")
    .set({ response: jsonValue(dialect, response), record_id: recordId })
    .where("org_id", "=", orgId)
    .where("idempotency_key", "=", key),
);

/** Records the response of the request that reserved the key. */
export async function completeIdempotencyKey(context: SqlContext, key: IdempotencyKey, response: unknown, recordId?: string): Promise<void> {
  await context.run(COMPLETE, { ...key, response: jsonString(response), recordId: recordId ?? null });
}

const RELEASE = statement((db, { orgId, key }: IdempotencyKey) =>
  db.deleteFrom("idempotency_keys").where("org_id", "=", orgId).where("idempotency_key", "=", key),
);

/** Forgets a key. */
export async function releaseIdempotencyKey(context: SqlContext, key: IdempotencyKey): Promise<void> {
  await context.run(RELEASE, key);
}

const PURGE = statement((db, { now }: { now: number }) => db.deleteFrom("idempotency_keys").where("expires_at", "<=", now));

/** Deletes entries that expired by `now`; they are already ignored, this only reclaims space. */
export async function purgeIdempotencyKeys(context: SqlContext, now: number): Promise<number> {
  const result = await context.run(PURGE, { now });
  return Number(result.numAffectedRows ?? 0);
}
