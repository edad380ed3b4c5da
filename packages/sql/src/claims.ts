import {
  type ClaimOptions,
  type DueClaim,
  GroupCommit,
  type OutboxEntry,
  type OutboxLease,
  type RecordKind,
  type RenewOptions,
} from "@agent-sessions/core";
import { type ExpressionBuilder, type SelectQueryBuilder, sql } from "kysely";
import type { SqlContext } from "./context.js";
import type { Database } from "./database.js";
import { jsonText, type SqlDialect } from "./dialect.js";
import { recordColumns } from "./reads.js";
import { type OutboxRow, type RecordRow, toOutboxEntry, toRecord } from "./rows.js";
import { CHUNK, chunks, PostgresArray, type Statement, statement } from "./statement.js";

// A claim leases rows that are ready (due, or available) and not leased, or whose lease ran out.
// PostgreSQL: one UPDATE whose subquery locks the chosen rows FOR UPDATE SKIP LOCKED, so
//   concurrent claimers pass over each other's rows instead of waiting for them; a row another
//   claimer leased and committed meanwhile is re-checked against `lease_until` and dropped.
// SQLite: the same UPDATE without the locking clause: one statement holds SQLite's single write
//   lock from its reads to its writes, so no two claimers ever see one row free.
// MySQL/MariaDB: no UPDATE … RETURNING, so SELECT … FOR UPDATE SKIP LOCKED then UPDATE, in a
//   READ COMMITTED transaction (REPEATABLE READ would also lock the gaps between scanned rows).
// A renewal (`renewOutbox`) is a claim of the rows one still holds, by the same statements.

/** A claim as statement values. */
interface Lease {
  readonly now: number;
  readonly limit: number;
  readonly owner: string;
  readonly leaseUntil: number;
  readonly topic?: string;
}

/** The lease a claim gives its rows. */
function leased(lease: Pick<Lease, "owner" | "leaseUntil">) {
  return { lease_owner: lease.owner, lease_until: lease.leaseUntil };
}

/** The first ready rows, locked (skipping rows another claim locked) where the dialect can. */
function locked<DB, TB extends keyof DB, O>(pick: SelectQueryBuilder<DB, TB, O>, dialect: SqlDialect) {
  return dialect === "sqlite" ? pick : pick.forUpdate().skipLocked();
}

/**
 * The rows whose id the locking subquery `picked` chose. PostgreSQL gets `id = ANY(ARRAY(…))`:
 * the subquery runs once, first, and its ids are found through the primary key; with `IN (…)` the
 * planner may hash the subquery's ids and scan the whole table for them on every claim.
 */
function pickedBy<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, dialect: SqlDialect, picked: SelectQueryBuilder<DB, TB, { id: string }>) {
  // raw: the builder has no `= ANY(ARRAY(subquery))`; every claimed table's key is `id`.
  const id = sql.ref<string>("id");
  return dialect === "postgres" ? eb(id, "=", sql<string>`ANY(ARRAY(${picked}))`) : eb(id, "in", picked);
}

/** The lease given to rows picked by id. */
interface LeaseIds {
  readonly owner: string;
  readonly leaseUntil: number;
  readonly ids: readonly string[];
}

/** A claim's three statements: lease the ready rows in one UPDATE; or (MySQL) pick them, then lease them by id. */
interface ClaimStatements<Row, V extends Pick<Lease, "owner" | "leaseUntil"> = Lease> {
  readonly lease: Statement<V, Row>;
  readonly pick: Statement<V, Row>;
  readonly leaseIds: Statement<LeaseIds, unknown>;
}

/** Leases the rows `statements` pick (up to `lease.limit` ready ones, for a claim) to `lease.owner` and returns them. */
async function claim<Row extends { id: string }, V extends Pick<Lease, "owner" | "leaseUntil">>(
  context: SqlContext,
  statements: ClaimStatements<Row, V>,
  lease: V,
): Promise<Row[]> {
  if (context.dialect !== "mysql") return (await context.run(statements.lease, lease)).rows;
  return context.db
    .transaction()
    .setIsolationLevel("read committed")
    .execute(async (trx) => {
      const { rows } = await context.run(statements.pick, lease, trx);
      if (rows.length > 0)
        await context.run(statements.leaseIds, { owner: lease.owner, leaseUntil: lease.leaseUntil, ids: rows.map((row) => row.id) }, trx);
      return rows;
    });
}

function byTimeThenId<T extends { id: string }>(time: (item: T) => number) {
  return (a: T, b: T) => time(a) - time(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// Ties (rows ready at the same moment) are broken by id only on MySQL, whose index on the time
// holds the primary key in order after it. Elsewhere ordering by id too would read and sort every
// ready row before the first could be handed out: thousands per claim when thousands fall due at
// once. The claims come back sorted by time, then id, all the same.
const tiesById = (dialect: SqlDialect) => dialect === "mysql";

/** Due records that are not leased, or whose lease ran out; earliest first. */
function readyDue<O>(pick: SelectQueryBuilder<Database, "records", O>, lease: Lease, dialect: SqlDialect) {
  return pick
    .where("due_at", "is not", null)
    .where("due_at", "<=", lease.now)
    .where("lease_until", "<=", lease.now)
    .orderBy("due_at")
    .$if(tiesById(dialect), (qb) => qb.orderBy("id"))
    .limit(lease.limit);
}

// A claim answers the whole record, so the worker settles it without reading it again.
const DUE: ClaimStatements<RecordRow> = {
  lease: statement((db, lease: Lease, dialect) =>
    db
      .updateTable("records")
      .set(leased(lease))
      .where((eb) => pickedBy(eb, dialect, locked(readyDue(eb.selectFrom("records").select("id"), lease, dialect), dialect)))
      .returning(recordColumns(dialect)),
  ),
  pick: statement((db, lease: Lease, dialect) => locked(readyDue(db.selectFrom("records").select(recordColumns(dialect)), lease, dialect), dialect)),
  leaseIds: statement((db, { ids, ...lease }: { owner: string; leaseUntil: number; ids: readonly string[] }) =>
    db.updateTable("records").set(leased(lease)).where("id", "in", ids),
  ),
};

/** Leases due records; see `Store.claimDue`. */
export async function claimDue(context: SqlContext, options: ClaimOptions): Promise<DueClaim[]> {
  const leaseUntil = options.now + options.leaseMs;
  const rows = await claim(context, DUE, { now: options.now, limit: options.limit, owner: options.owner, leaseUntil });
  return rows
    .map((row) => ({ orgId: row.org_id, id: row.id, kind: row.kind as RecordKind, dueAt: Number(row.due_at), leaseUntil, record: toRecord(row) }))
    .sort(byTimeThenId((claim) => claim.dueAt));
}

const LIST_DUE = statement((db, { orgId, kind, now, limit }: { orgId: string; kind: string; now: number; limit: number }) =>
  db
    .selectFrom("records")
    .select("id")
    .where("due_at", "is not", null)
    .where("due_at", "<=", now)
    .where("org_id", "=", orgId)
    .where("kind", "=", kind)
    .orderBy("due_at")
    .orderBy("id")
    .limit(limit),
);

/**
 * Ids of one organization's due records of one kind, earliest first; see `Store.listDue`. Read
 * through `records_org_due` (org, kind, due_at, id; schema version 3), so it visits only the rows
 * it answers, whatever the organization's history and however many other organizations' are due.
 */
export async function listDue(context: SqlContext, orgId: string, kind: RecordKind, now: number, limit: number): Promise<string[]> {
  const { rows } = await context.run(LIST_DUE, { orgId, kind, now, limit });
  return rows.map((row) => row.id);
}

/** Outbox messages available and not leased, or whose lease ran out, of the topic if one is given; earliest first. */
function readyOutbox<O>(pick: SelectQueryBuilder<Database, "outbox", O>, lease: Lease, dialect: SqlDialect) {
  return pick
    .where("available_at", "<=", lease.now)
    .where("lease_until", "<=", lease.now)
    .$if(lease.topic !== undefined, (qb) => qb.where("topic", "=", lease.topic!))
    .orderBy("available_at")
    .$if(tiesById(dialect), (qb) => qb.orderBy("id"))
    .limit(lease.limit);
}

/**
 * A claimed message's columns. `attempts` is as the claim leaves it: the UPDATE returns the
 * count it wrote, while MySQL's pick reads the row before its UPDATE adds the claim.
 */
function outboxColumns(dialect: SqlDialect, attempts: "attempts" | typeof pickedAttempts) {
  return ["id", "org_id", "topic", jsonText(dialect, "payload").as("payload"), "available_at", attempts, "last_error"] as const;
}

const pickedAttempts = (eb: ExpressionBuilder<Database, "outbox">) => eb("attempts", "+", 1).as("attempts");

/** The lease a claim gives its messages: every claim is one more attempt. */
function leasedMessage(lease: Pick<Lease, "owner" | "leaseUntil">) {
  return (eb: ExpressionBuilder<Database, "outbox">) => ({ ...leased(lease), attempts: eb("attempts", "+", 1) });
}

const OUTBOX: ClaimStatements<Omit<OutboxRow, "lease_owner" | "lease_until">> = {
  lease: statement((db, lease: Lease, dialect) =>
    db
      .updateTable("outbox")
      .set(leasedMessage(lease))
      .where((eb) => pickedBy(eb, dialect, locked(readyOutbox(eb.selectFrom("outbox").select("id"), lease, dialect), dialect)))
      .returning(outboxColumns(dialect, "attempts")),
  ),
  pick: statement((db, lease: Lease, dialect) =>
    locked(readyOutbox(db.selectFrom("outbox").select(outboxColumns(dialect, pickedAttempts)), lease, dialect), dialect),
  ),
  leaseIds: statement((db, { ids, ...lease }: LeaseIds) => db.updateTable("outbox").set(leasedMessage(lease)).where("id", "in", ids)),
};

/** Leases available outbox messages; see `Store.claimOutbox`. */
export async function claimOutbox(context: SqlContext, options: ClaimOptions & { readonly topic?: string }): Promise<OutboxEntry[]> {
  const leaseUntil = options.now + options.leaseMs;
  const lease: Lease = { now: options.now, limit: options.limit, owner: options.owner, leaseUntil, topic: options.topic };
  const rows = await claim(context, OUTBOX, lease);
  return rows
    .map((row) => toOutboxEntry({ ...row, lease_owner: options.owner, lease_until: leaseUntil }))
    .sort(byTimeThenId((entry) => entry.availableAt));
}

const DELETE_SETTLED = statement((db, { id, owner }: { id: string; owner: string }) =>
  db.deleteFrom("outbox").where("id", "=", id).where("lease_owner", "=", owner),
);

// `lease_owner` always changes (from the holder to NULL), so MySQL counts the row as changed
// whatever its affected-rows mode. The claim already counted the attempt.
const RESCHEDULE = statement((db, { id, owner, retryAt, error }: { id: string; owner: string; retryAt: number; error: string | null }) =>
  db
    .updateTable("outbox")
    .set({ last_error: error, available_at: retryAt, lease_owner: null, lease_until: 0 })
    .where("id", "=", id)
    .where("lease_owner", "=", owner),
);

/** Finishes or reschedules a message; only the lease holder succeeds. See `Store.settleOutbox`. */
export async function settleOutbox(
  context: SqlContext,
  id: string,
  owner: string,
  outcome: { readonly retryAt?: number; readonly error?: string },
): Promise<boolean> {
  const result =
    outcome.retryAt === undefined
      ? await context.run(DELETE_SETTLED, { id, owner })
      : await context.run(RESCHEDULE, { id, owner, retryAt: outcome.retryAt, error: outcome.error ?? null });
  return Number(result.numAffectedRows ?? 0) > 0;
}

const DELETE_SETTLED_MANY = statement((db, { ids, owner }: { ids: PostgresArray; owner: string }) =>
  // raw: the builder has no `= ANY(array)`; the array is one bound parameter.
  db.deleteFrom("outbox").where("id", "=", sql<string>`ANY(${ids}::text[])`).where("lease_owner", "=", owner).returning("id"),
);

/**
 * Finishes outbox messages on PostgreSQL with group commit (see `GroupCommit`): one DELETE, and
 * one commit, per owner for up to a hundred messages, instead of a statement each. A worker
 * finishing a burst of deliveries spends a commit on many of them. A message named twice in one
 * group is settled by the first (as sequential settles would be): the second answers false.
 */
export function finishedSettles(context: SqlContext): GroupCommit<{ readonly id: string; readonly owner: string }, boolean> {
  return new GroupCommit(
    async (settles) => {
      const ids = [...new Set(settles.map((settle) => settle.id))];
      const { rows } = await context.run(DELETE_SETTLED_MANY, { ids: new PostgresArray(ids), owner: settles[0]!.owner });
      const deleted = new Set(rows.map((row) => row.id));
      return settles.map((settle) => deleted.delete(settle.id)); // true once per id: a second settle of it found nothing
    },
    { key: (settle) => settle.owner, size: CHUNK },
  );
}

// A renewal updates the rows `owner` still holds among `ids`: its lease, run out or not, that
// nobody took over. No SKIP LOCKED: it waits for a claim holding one of its rows, then, the
// condition checked again on the row as that claim left it, sees who won it.
const RENEW: ClaimStatements<{ id: string }, LeaseIds> = {
  lease: statement((db, { ids, owner, leaseUntil }: LeaseIds) =>
    db.updateTable("outbox").set({ lease_until: leaseUntil }).where("id", "in", ids).where("lease_owner", "=", owner).returning("id"),
  ),
  pick: statement((db, { ids, owner }: LeaseIds) =>
    db.selectFrom("outbox").select("id").where("id", "in", ids).where("lease_owner", "=", owner).forUpdate(),
  ),
  leaseIds: statement((db, { ids, leaseUntil }: LeaseIds) => db.updateTable("outbox").set({ lease_until: leaseUntil }).where("id", "in", ids)),
};

/** Extends the leases `owner` still holds among `ids`; see `Store.renewOutbox`. */
export async function renewOutbox(context: SqlContext, options: RenewOptions): Promise<string[]> {
  const renewed: string[] = [];
  for (const ids of chunks([...new Set(options.ids)])) {
    const rows = await claim(context, RENEW, { ids, owner: options.owner, leaseUntil: options.now + options.leaseMs });
    renewed.push(...rows.map((row) => row.id));
  }
  return renewed;
}

const LEASES = statement((db, { ids }: { ids: readonly string[] }) =>
  db.selectFrom("outbox").select(["id", "attempts", "lease_owner", "lease_until"]).where("id", "in", ids),
);

/** Who holds each of `ids` still in the outbox; see `Store.outboxLeases`. */
export async function outboxLeases(context: SqlContext, ids: readonly string[]): Promise<OutboxLease[]> {
  const leases: OutboxLease[] = [];
  for (const chunk of chunks([...new Set(ids)])) {
    const { rows } = await context.run(LEASES, { ids: chunk });
    for (const row of rows) {
      leases.push({ id: row.id, attempts: Number(row.attempts), leaseOwner: row.lease_owner, leaseUntil: Number(row.lease_until) });
    }
  }
  return leases;
}
