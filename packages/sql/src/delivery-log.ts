import { type DeliveryLogEntry, type DeliveryLogPage, type DeliveryLogQuery, InvalidInputError } from "@agent-sessions/core";
import type { Insertable } from "kysely";
import type { SqlContext } from "./context.js";
import type { DeliveryLogTable } from "./database.js";
import { inTransaction, jsonString, jsonText, jsonValue } from "./dialect.js";
import { pageWithTotal } from "./reads.js";
import { decodeLogCursor, encodeLogCursor, LOG_ID_LENGTH, type LogPosition } from "./rows.js";
import { chunks, statement } from "./statement.js";

// Each webhook endpoint's delivery log, one row per attempt in `delivery_log` (schema version 5):
// an attempt is written when it starts and written again, under its id, when it ends, as one
// multi-row upsert per hundred entries; a page is read latest start first through
// `delivery_log_webhook` (org, webhook, started_at, id), its cursor the last entry's position.

/** An entry's row, its data as JSON text. */
type LogValues = Insertable<DeliveryLogTable> & { data: string };

/** Adds new entries and, for an id already there, replaces only `data` (its start and endpoint stay). */
const UPSERT = statement((db, { rows }: { rows: readonly LogValues[] }, dialect) => {
  const insert = db.insertInto("delivery_log").values(rows.map((row) => ({ ...row, data: jsonValue(dialect, row.data) })));
  if (dialect === "mysql") return insert.onDuplicateKeyUpdate(({ fn, ref }) => ({ data: fn<string>("values", [ref("data")]) }));
  return insert.onConflict((oc) => oc.columns(["org_id", "id"]).doUpdateSet(({ ref }) => ({ data: ref("excluded.data") })));
});

/** The most characters of a key column (an organization's or an endpoint's id: varchar(128)). */
const KEY_LENGTH = 128;

function assertText(field: string, value: unknown, max: number): void {
  if (typeof value !== "string" || value === "" || value.length > max || value.includes("\u0000")) {
    throw new InvalidInputError(field, `must be a non-empty string of at most ${max} characters without U+0000`);
  }
}

/**
 * The entries as rows, one per (organization, id): a later entry of the same id gives its `data`
 * to the first, as a later call would. Sorted by key, so concurrent writers lock rows in one order.
 */
function logValues(entries: readonly DeliveryLogEntry[]): LogValues[] {
  const rows = new Map<string, LogValues>();
  entries.forEach((entry, index) => {
    assertText(`entries[${index}].orgId`, entry.orgId, KEY_LENGTH);
    assertText(`entries[${index}].webhookId`, entry.webhookId, KEY_LENGTH);
    assertText(`entries[${index}].id`, entry.id, LOG_ID_LENGTH);
    if (!Number.isSafeInteger(entry.startedAt)) {
      throw new InvalidInputError(`entries[${index}].startedAt`, `must be milliseconds since the epoch, got ${entry.startedAt}`);
    }
    const key = `${entry.orgId}\u0000${entry.id}`;
    const data = jsonString(entry.data);
    const first = rows.get(key);
    if (first) first.data = data;
    else rows.set(key, { org_id: entry.orgId, id: entry.id, webhook_id: entry.webhookId, started_at: entry.startedAt, data });
  });
  return [...rows.values()].sort((a, b) => compare(a.org_id, b.org_id) || compare(a.id, b.id));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Writes the entries all or none: one statement, or one transaction of a statement per hundred. See `Store.logDeliveries`. */
export async function logDeliveries(context: SqlContext, entries: readonly DeliveryLogEntry[]): Promise<void> {
  const batches = chunks(logValues(entries));
  if (batches.length === 0) return;
  if (batches.length === 1) {
    await context.run(UPSERT, { rows: batches[0]! });
    return;
  }
  await inTransaction(context.db, context.dialect, async (trx) => {
    for (const rows of batches) await context.run(UPSERT, { rows }, trx);
  });
}

/** One endpoint's log. */
interface LogFilter {
  readonly orgId: string;
  readonly webhookId: string;
}

/** A page of the log, latest start first (then id), after `after` when given. */
const LOG_PAGE = statement((db, values: LogFilter & { after: LogPosition | undefined; limit: number; offset: number }, dialect) =>
  db
    .selectFrom("delivery_log")
    .select(["org_id", "id", "webhook_id", "started_at", jsonText(dialect, "data").as("data")])
    .where("org_id", "=", values.orgId)
    .where("webhook_id", "=", values.webhookId)
    // `started_at <= s` bounds the index range; the OR then drops the entries of `s` not after `id`.
    .$if(values.after !== undefined, (qb) =>
      qb
        .where("started_at", "<=", values.after!.startedAt)
        .where((eb) => eb.or([eb("started_at", "<", values.after!.startedAt), eb("id", "<", values.after!.id)])),
    )
    .orderBy("started_at", "desc")
    .orderBy("id", "desc")
    .limit(values.limit)
    .offset(values.offset),
);

const LOG_COUNT = statement((db, { orgId, webhookId }: LogFilter) =>
  db
    .selectFrom("delivery_log")
    .select((eb) => eb.fn.countAll().as("total"))
    .where("org_id", "=", orgId)
    .where("webhook_id", "=", webhookId),
);

/**
 * A page of an endpoint's log and its exact total, at once: the page and a COUNT over the same
 * index. A cursor page continues after the entry the previous page ended at, so entries started
 * since (at the top) shift nothing; `offset` counts from the top. See `Store.deliveryLog`.
 */
export async function deliveryLog(context: SqlContext, orgId: string, webhookId: string, query: DeliveryLogQuery): Promise<DeliveryLogPage> {
  const filter: LogFilter = { orgId, webhookId };
  const after = query.cursor === undefined ? undefined : decodeLogCursor(query.cursor);
  const offset = query.cursor === undefined ? (query.offset ?? 0) : 0;
  const { rows, more, total } = await pageWithTotal(context, LOG_PAGE, { ...filter, after, offset }, LOG_COUNT, filter, query.limit);
  const entries = rows.map(
    (row): DeliveryLogEntry => ({
      orgId: row.org_id,
      webhookId: row.webhook_id,
      id: row.id,
      startedAt: Number(row.started_at),
      data: JSON.parse(row.data),
    }),
  );
  const last = entries.at(-1);
  return { entries, total, nextCursor: more && last ? encodeLogCursor(last) : null };
}
