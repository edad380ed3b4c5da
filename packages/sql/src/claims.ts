import type { ClaimOptions, DueClaim, OutboxEntry, RecordKind } from "@agent-sessions/core";
import { type RawBuilder, sql } from "kysely";
import type { SqlContext } from "./context.js";
import { jsonText } from "./dialect.js";
import { type OutboxRow, toOutboxEntry } from "./rows.js";

// A claim leases rows that are ready (due, or available) and not leased, or whose lease ran out.
// PostgreSQL: one UPDATE whose subquery locks the chosen rows FOR UPDATE SKIP LOCKED, so
//   concurrent claimers pass over each other's rows instead of waiting for them; a row another
//   claimer leased and committed meanwhile is re-checked against `lease_until` and dropped.
// SQLite: the same UPDATE without the locking clause: one statement holds SQLite's single write
//   lock from its reads to its writes, so no two claimers ever see one row free.
// MySQL/MariaDB: no UPDATE … RETURNING, so SELECT … FOR UPDATE SKIP LOCKED then UPDATE, in a
//   READ COMMITTED transaction (REPEATABLE READ would also lock the gaps between scanned rows).

/** Which rows of which table a claim leases, and what it reads of them. */
interface LeaseQuery {
  readonly table: RawBuilder<unknown>;
  readonly columns: RawBuilder<unknown>;
  readonly ready: RawBuilder<unknown>;
  /** The ORDER BY of the pick: earliest first. */
  readonly order: string;
}

/** Leases up to `options.limit` ready rows to `options.owner` and returns their `columns`. */
async function lease<Row extends { id: string }>(context: SqlContext, query: LeaseQuery, options: ClaimOptions): Promise<Row[]> {
  const { db, dialect } = context;
  const leased = sql`lease_owner = ${options.owner}, lease_until = ${options.now + options.leaseMs}`;
  if (dialect === "mysql") {
    return db
      .transaction()
      .setIsolationLevel("read committed")
      .execute(async (trx) => {
        const { rows } = await sql<Row>`SELECT ${query.columns} FROM ${query.table} WHERE ${query.ready}
          ORDER BY ${sql.raw(query.order)} LIMIT ${options.limit} FOR UPDATE SKIP LOCKED`.execute(trx);
        if (rows.length > 0) {
          await sql`UPDATE ${query.table} SET ${leased} WHERE id IN (${sql.join(rows.map((row) => row.id))})`.execute(trx);
        }
        return rows;
      });
  }
  const lock = dialect === "postgres" ? sql` FOR UPDATE SKIP LOCKED` : sql``;
  const { rows } = await sql<Row>`UPDATE ${query.table} SET ${leased} WHERE id IN (
      SELECT id FROM ${query.table} WHERE ${query.ready} ORDER BY ${sql.raw(query.order)} LIMIT ${options.limit}${lock}
    ) RETURNING ${query.columns}`.execute(db);
  return rows;
}

function byTimeThenId<T extends { id: string }>(time: (item: T) => number) {
  return (a: T, b: T) => time(a) - time(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Leases due records; see `Store.claimDue`. */
export async function claimDue(context: SqlContext, options: ClaimOptions): Promise<DueClaim[]> {
  const rows = await lease<{ org_id: string; id: string; kind: string; due_at: number | string }>(
    context,
    {
      table: context.tables.records,
      columns: sql`org_id, id, kind, due_at`,
      ready: sql`due_at IS NOT NULL AND due_at <= ${options.now} AND lease_until <= ${options.now}`,
      order: "due_at, id",
    },
    options,
  );
  const leaseUntil = options.now + options.leaseMs;
  return rows
    .map((row) => ({ orgId: row.org_id, id: row.id, kind: row.kind as RecordKind, dueAt: Number(row.due_at), leaseUntil }))
    .sort(byTimeThenId((claim) => claim.dueAt));
}

/**
 * Ids of one organization's due records of one kind, earliest first; see `Store.listDue`. Read
 * through `records_org_due` (org, kind, due_at, id; schema version 3), so it visits only the rows
 * it answers, whatever the organization's history and however many other organizations' are due.
 */
export async function listDue({ db, tables }: SqlContext, orgId: string, kind: RecordKind, now: number, limit: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`SELECT id FROM ${tables.records}
    WHERE due_at IS NOT NULL AND due_at <= ${now} AND org_id = ${orgId} AND kind = ${kind}
    ORDER BY due_at, id LIMIT ${limit}`.execute(db);
  return rows.map((row) => row.id);
}

/** Leases available outbox messages; see `Store.claimOutbox`. */
export async function claimOutbox(context: SqlContext, options: ClaimOptions & { readonly topic?: string }): Promise<OutboxEntry[]> {
  const topic = options.topic === undefined ? sql`` : sql` AND topic = ${options.topic}`;
  const rows = await lease<OutboxRow>(
    context,
    {
      table: context.tables.outbox,
      columns: sql`id, org_id, topic, ${jsonText(context.dialect, "payload")} AS payload, available_at, attempts, last_error`,
      ready: sql`available_at <= ${options.now} AND lease_until <= ${options.now}${topic}`,
      order: "available_at, id",
    },
    options,
  );
  const leaseUntil = options.now + options.leaseMs;
  return rows
    .map((row) => toOutboxEntry({ ...row, lease_owner: options.owner, lease_until: leaseUntil }))
    .sort(byTimeThenId((entry) => entry.availableAt));
}

/** Finishes or reschedules a message; only the lease holder succeeds. See `Store.settleOutbox`. */
export async function settleOutbox(
  { db, tables }: SqlContext,
  id: string,
  owner: string,
  outcome: { readonly retryAt?: number; readonly error?: string },
): Promise<boolean> {
  if (outcome.retryAt === undefined) {
    const result = await sql`DELETE FROM ${tables.outbox} WHERE id = ${id} AND lease_owner = ${owner}`.execute(db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }
  // `attempts` always grows, so MySQL counts the row as changed whatever its affected-rows mode.
  const result = await sql`UPDATE ${tables.outbox} SET attempts = attempts + 1, last_error = ${outcome.error ?? null},
    available_at = ${outcome.retryAt}, lease_owner = NULL, lease_until = 0
    WHERE id = ${id} AND lease_owner = ${owner}`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}
