import { assertPurgeOptions, InvalidInputError, type PurgeOptions, type PurgeResult } from "@agent-sessions/core";
import type { ExpressionBuilder } from "kysely";
import type { SqlContext } from "./context.js";
import type { Database } from "./database.js";
import { type Executor, inTransaction } from "./dialect.js";

/**
 * The tables whose rows belong to a record, and the column naming it beside `org_id`: a webhook
 * endpoint's delivery log names it as `webhook_id` (no other record has a log, so for other kinds
 * that count is an index lookup finding nothing).
 */
const OWNED = {
  events: "record_id",
  delivery_log: "webhook_id",
  aliases: "record_id",
  outbox: "record_id",
  idempotency_keys: "record_id",
} as const satisfies Partial<Record<keyof Database, string>>;

type Owned = keyof typeof OWNED;

/**
 * `Store.purge` in one transaction: picks the batch through `records_terminal`, oldest last write
 * first, locking its rows (skipping rows another purge holds) where the dialect can, so a write
 * racing the purge either lands first (and the record, no longer matching, is not picked) or
 * finds the record gone; then deletes, or only counts, the rows of each table that belong to the
 * batch, by `(org_id, record_id)` (`webhook_id` in the delivery log), and the records last.
 */
export async function purgeRecords(context: SqlContext, options: PurgeOptions): Promise<PurgeResult> {
  assertPurgeOptions(options);
  const after = options.cursor === undefined ? null : parseCursor(options.cursor);
  const dryRun = options.dryRun ?? false;
  return inTransaction(context.db, context.dialect, async (trx) => {
    let pick = trx
      .selectFrom("records")
      .select(["id", "org_id", "updated_at"])
      .where("kind", "=", options.kind)
      .where("status", "in", [...options.statuses])
      .where("updated_at", "<", options.before)
      .where("due_at", "is", null)
      .orderBy("updated_at")
      .orderBy("id")
      .limit(options.limit);
    if (after) {
      pick = pick.where((eb) => eb.or([eb("updated_at", ">", after.at), eb.and([eb("updated_at", "=", after.at), eb("id", ">", after.id)])]));
    }
    if (!dryRun && context.dialect !== "sqlite") pick = pick.forUpdate().skipLocked();
    const rows = await pick.execute();
    const last = rows.at(-1);
    const nextCursor = rows.length === options.limit && last ? `${Number(last.updated_at)}:${last.id}` : null;
    if (rows.length === 0) return { records: 0, events: 0, deliveries: 0, aliases: 0, idempotency: 0, outbox: 0, nextCursor };
    const byOrg = new Map<string, string[]>();
    for (const row of rows) byOrg.set(row.org_id, [...(byOrg.get(row.org_id) ?? []), row.id]);
    const count = (table: Owned) => {
      const owned = ownedBy(byOrg, OWNED[table]);
      return dryRun ? countRows(trx, table, owned) : deleteRows(trx, table, owned);
    };
    const events = await count("events");
    const deliveries = await count("delivery_log");
    const aliases = await count("aliases");
    const outbox = await count("outbox");
    const idempotency = await count("idempotency_keys");
    if (!dryRun) {
      await trx
        .deleteFrom("records")
        .where(
          "id",
          "in",
          rows.map((row) => row.id),
        )
        .execute();
    }
    return { records: rows.length, events, deliveries, aliases, idempotency, outbox, nextCursor };
  });
}

/**
 * The rows of the batch's records, typed against `events`: every owned table has `org_id` and a
 * column naming the record, so one filter serves them all.
 */
type OwnedFilter = (eb: ExpressionBuilder<Database, "events">) => ReturnType<ExpressionBuilder<Database, "events">["or"]>;

/** The rows whose `column` names one of the batch's records of their organization. */
function ownedBy(byOrg: ReadonlyMap<string, readonly string[]>, column: (typeof OWNED)[Owned]): OwnedFilter {
  // Typed as `events`' `record_id`; the statement names the table's own column.
  const record = column as "record_id";
  return (eb) => eb.or([...byOrg].map(([orgId, ids]) => eb.and([eb("org_id", "=", orgId), eb(record, "in", ids)])));
}

async function countRows(trx: Executor, table: Owned, owned: OwnedFilter): Promise<number> {
  const row = await trx
    .selectFrom(table as "events")
    .select(({ fn }) => fn.countAll().as("n"))
    .where(owned)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

async function deleteRows(trx: Executor, table: Owned, owned: OwnedFilter): Promise<number> {
  const result = await trx
    .deleteFrom(table as "events")
    .where(owned)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A purge cursor, `updatedAt:id`, back as its parts; anything else is none of this store's cursors. */
function parseCursor(cursor: string): { at: number; id: string } {
  const colon = cursor.indexOf(":");
  const at = Number(cursor.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(at)) throw new InvalidInputError("cursor", "must be the nextCursor of a previous purge");
  return { at, id: cursor.slice(colon + 1) };
}
