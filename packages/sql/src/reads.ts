import type { ListRecordsQuery, RecordPage, SessionEvent, StoredRecord } from "@agent-sessions/core";
import type { SelectQueryBuilder } from "kysely";
import type { SqlContext } from "./context.js";
import type { Database } from "./database.js";
import { jsonText, type SqlDialect } from "./dialect.js";
import { decodeCursor, encodeCursor, toEvent, toRecord } from "./rows.js";
import { type Statement, statement } from "./statement.js";

/** A record's row without its lease, its JSON as text. */
export function recordColumns(dialect: SqlDialect) {
  return [
    "id",
    "org_id",
    "kind",
    "status",
    "version",
    "created_at",
    "updated_at",
    "due_at",
    "event_count",
    jsonText(dialect, "data").as("data"),
  ] as const;
}

// By id alone, the organization checked on the row: only the primary key serves `id = ?`. With
// `org_id = ?` in the statement too, PostgreSQL may plan it on an index that starts with the
// organization (a generic plan of a prepared statement does, on a table whose statistics are
// young) and walk the organization's entries to find one id: a hundred pages a read, not three.
const GET = statement((db, { id }: { id: string }, dialect) => db.selectFrom("records").select(recordColumns(dialect)).where("id", "=", id));

/** The record `id` of `orgId`, or of any organization when `orgId` is not given; null when there is none. */
export async function getRecord(context: SqlContext, id: string, orgId?: string): Promise<StoredRecord | null> {
  const row = (await context.run(GET, { id })).rows[0];
  return row !== undefined && (orgId === undefined || row.org_id === orgId) ? toRecord(row) : null;
}

const RESOLVE_ALIAS = statement((db, { orgId, alias }: { orgId: string; alias: string }) =>
  db.selectFrom("aliases").select("record_id").where("org_id", "=", orgId).where("alias", "=", alias),
);

/** The id of the record `alias` names in the organization, or null. */
export async function resolveAlias(context: SqlContext, orgId: string, alias: string): Promise<string | null> {
  const { rows } = await context.run(RESOLVE_ALIAS, { orgId, alias });
  return rows[0]?.record_id ?? null;
}

/** Which records a list counts and pages through. */
interface ListFilter {
  readonly orgId: string;
  readonly kind: string;
  readonly status: string | undefined;
}

function listed(db: SelectQueryBuilder<Database, "records", object>, { orgId, kind, status }: ListFilter) {
  return db
    .where("org_id", "=", orgId)
    .where("kind", "=", kind)
    .$if(status !== undefined, (qb) => qb.where("status", "=", status!));
}

/** A page of a list, newest id first, after the record id `before` when given. */
const LIST_PAGE = statement((db, values: ListFilter & { before: string | undefined; limit: number; offset: number }, dialect) =>
  listed(db.selectFrom("records"), values)
    .select(recordColumns(dialect))
    .$if(values.before !== undefined, (qb) => qb.where("id", "<", values.before!))
    .orderBy("id", "desc")
    .limit(values.limit)
    .offset(values.offset),
);

const COUNT = statement((db, filter: ListFilter) => listed(db.selectFrom("records"), filter).select((eb) => eb.fn.countAll().as("total")));

/**
 * A page of the organization's records of one kind (and status), newest id first, and their
 * exact total: the page and a COUNT over the same (org, kind[, status], id) index, at once.
 */
export async function listRecords(context: SqlContext, orgId: string, query: ListRecordsQuery): Promise<RecordPage> {
  const filter: ListFilter = { orgId, kind: query.kind, status: query.status };
  const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const offset = query.cursor === undefined ? (query.offset ?? 0) : 0;
  const { rows, more, total } = await pageWithTotal(context, LIST_PAGE, { ...filter, before, offset }, COUNT, filter, query.limit);
  const records = rows.map(toRecord);
  return { records, total, nextCursor: more ? encodeCursor(records.at(-1)!.id) : null };
}

/**
 * Up to `limit` rows of a page statement and the exact total of its filter, run at once; the page
 * is asked for one row more, which only tells whether another page follows (`more`).
 */
export async function pageWithTotal<V extends object, R, F extends object>(
  context: SqlContext,
  page: Statement<V & { limit: number }, R>,
  values: V,
  count: Statement<F, { total: string | number | bigint }>,
  filter: F,
  limit: number,
): Promise<{ rows: R[]; more: boolean; total: number }> {
  const [paged, counted] = await Promise.all([context.run(page, { ...values, limit: limit + 1 }), context.run(count, filter)]);
  const more = paged.rows.length > limit;
  return { rows: more ? paged.rows.slice(0, limit) : paged.rows, more, total: Number(counted.rows[0]?.total ?? 0) };
}

const TIMELINE = statement((db, values: { orgId: string; id: string; afterSeq: number; limit: number | undefined }, dialect) =>
  db
    .selectFrom("events")
    .select(["org_id", "record_id", "seq", "id", "kind", "type", "at", jsonText(dialect, "payload").as("payload")])
    .where("org_id", "=", values.orgId)
    .where("record_id", "=", values.id)
    .where("seq", ">", values.afterSeq)
    .orderBy("seq")
    .$if(values.limit !== undefined, (qb) => qb.limit(values.limit!)),
);

/** A record's events after `afterSeq`, oldest first, up to `limit`. */
export async function timeline(
  context: SqlContext,
  orgId: string,
  id: string,
  options: { afterSeq?: number; limit?: number },
): Promise<SessionEvent[]> {
  const { rows } = await context.run(TIMELINE, { orgId, id, afterSeq: options.afterSeq ?? 0, limit: options.limit });
  return rows.map(toEvent);
}
