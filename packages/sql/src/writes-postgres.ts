import { GroupCommit, type RecordWrite } from "@agent-sessions/core";
import { type Expression, expressionBuilder, type InsertQueryBuilder, type InsertResult, type QueryCreator, type SqlBool, sql } from "kysely";
import type { SqlContext } from "./context.js";
import type { Database } from "./database.js";
import { CHUNK, PostgresArray, statement } from "./statement.js";
import { type AliasValues, aliasValues, type EventValues, type OutboxValues, recordRow, type WriteValues, writeValues } from "./values.js";
import { compareAndSetUpdate } from "./writes.js";

// On PostgreSQL a whole write is one statement: data-modifying CTEs (WITH … INSERT/UPDATE) run
// in the statement's single implicit transaction, so the record, its events, aliases and outbox
// rows are written together or not at all, in one round trip. Each INSERT runs only when the
// `changed` CTE wrote the record (WHERE EXISTS), which is how a lost compare-and-set writes nothing.

/** The database within the statement: the tables and `changed`, the record the statement wrote. */
type Written = Database & { changed: { id: string } };

const eb = expressionBuilder<Database, keyof Database>();

/**
 * Rows as a table, `(VALUES (…), (…)) AS v (columns)`, each column cast to `types`' type:
 * PostgreSQL types a VALUES list's columns from its parameters, which arrive untyped.
 */
// raw: the builder has no VALUES list; kysely's documentation builds one with `sql`, as here.
function valuesTable<Row extends object>(rows: readonly Row[], types: { readonly [K in keyof Row]: "text" | "integer" | "bigint" | "jsonb" }) {
  const columns = Object.keys(types) as (keyof Row & string)[];
  const value = (row: Row, column: keyof Row & string): Expression<unknown> =>
    types[column] === "text" ? eb.val(row[column]) : eb.cast(eb.val(row[column]), types[column]);
  const list = sql.join(rows.map((row) => sql`(${sql.join(columns.map((column) => value(row, column)))})`));
  return sql<Row>`(VALUES ${list})`.as<"v">(sql`v (${sql.join(columns.map((column) => sql.ref(column)))})`);
}

const EVENT_TYPES = {
  org_id: "text",
  record_id: "text",
  seq: "integer",
  id: "text",
  kind: "text",
  type: "text",
  at: "bigint",
  payload: "jsonb",
} as const;
const ALIAS_TYPES = { org_id: "text", alias: "text", record_id: "text" } as const;
const OUTBOX_TYPES = { id: "text", org_id: "text", topic: "text", payload: "jsonb", available_at: "bigint", record_id: "text" } as const;

/** `EXISTS (SELECT … FROM changed)`: whether the statement wrote the record. */
const WROTE: Expression<SqlBool> = expressionBuilder<Written, never>().exists(expressionBuilder<Written, never>().selectFrom("changed").select("id"));

/**
 * `query` with one more INSERT CTE. Nothing later in the statement reads what the CTE returns,
 * so the statement's database type stays `Written`, whichever of the CTEs a write needs.
 */
function withInsert<T extends keyof Database>(
  query: QueryCreator<Written>,
  name: string,
  insert: (db: QueryCreator<Written>) => InsertQueryBuilder<Written, T, InsertResult>,
): QueryCreator<Written> {
  return query.with(name, insert) as unknown as QueryCreator<Written>;
}

/** The INSERT CTEs that follow the record's own write, each gated on `changed` having a row. */
function withFollowers(db: QueryCreator<Written>, values: WriteValues, aliasGuard: boolean): QueryCreator<Written> {
  let query = db;
  if (values.events.length > 0) {
    query = withInsert(query, "new_events", (db) =>
      db
        .insertInto("events")
        .columns(Object.keys(EVENT_TYPES) as (keyof typeof EVENT_TYPES)[])
        .expression((eb) => eb.selectFrom(valuesTable<EventValues>(values.events, EVENT_TYPES)).selectAll().where(WROTE)),
    );
  }
  if (values.aliases.length > 0) {
    // No ON CONFLICT: an alias another writer took meanwhile fails the statement, undoing all of it.
    const rows = aliasValues(values.record, values.aliases);
    query = withInsert(query, "new_aliases", (db) =>
      db
        .insertInto("aliases")
        .columns(["org_id", "alias", "record_id"])
        .expression((eb) =>
          eb
            .selectFrom(valuesTable<AliasValues>(rows, ALIAS_TYPES))
            .select(["v.org_id", "v.alias", "v.record_id"])
            .where(WROTE)
            .$if(aliasGuard, (qb) =>
              qb.where(({ exists, not, selectFrom }) =>
                not(exists(selectFrom("aliases as a").select("a.alias").whereRef("a.org_id", "=", "v.org_id").whereRef("a.alias", "=", "v.alias"))),
              ),
            ),
        ),
    );
  }
  if (values.outbox.length > 0) {
    query = withInsert(query, "new_outbox", (db) =>
      db
        .insertInto("outbox")
        .columns(Object.keys(OUTBOX_TYPES) as (keyof typeof OUTBOX_TYPES)[])
        .expression((eb) => eb.selectFrom(valuesTable<OutboxValues>(values.outbox, OUTBOX_TYPES)).selectAll().where(WROTE))
        .onConflict((oc) => oc.column("id").doNothing()),
    );
  }
  return query;
}

/** The whole statement: its CTEs, then whether the record was written (`written` is 1). */
function countWritten(db: QueryCreator<Written>) {
  return db.selectFrom("changed").select((eb) => eb.fn.countAll().as("written"));
}

/**
 * Inserts a record with everything it comes with in one statement; `written` is 0 when the id
 * exists. A taken alias raises the driver's unique violation, which the caller turns into `taken`.
 */
const INSERT_POSTGRES = statement((db, values: WriteValues) =>
  countWritten(
    withFollowers(
      db.with("changed", (db) =>
        db
          .insertInto("records")
          .values(recordRow("postgres", values.record))
          .onConflict((oc) => oc.column("id").doNothing())
          .returning("id"),
      ),
      values,
      false,
    ),
  ),
);

/**
 * The compare-and-set in one statement. Concurrent writers of one version queue on the row lock
 * of the UPDATE; when the winner commits, PostgreSQL re-checks `version = expected` on the new row
 * for the others, which then update nothing and so insert nothing.
 */
const COMPARE_AND_SET_POSTGRES = statement((db, values: WriteValues & { expectedVersion: number }) =>
  countWritten(
    withFollowers(
      db.with("changed", (db) =>
        compareAndSetUpdate(db, "postgres", values)
          .$if(values.aliases.length > 0, (qb) =>
            qb.where(({ exists, not, selectFrom }) =>
              not(
                exists(
                  selectFrom("aliases")
                    .select("alias")
                    .where("org_id", "=", values.record.org_id)
                    .where("alias", "in", values.aliases)
                    .where("record_id", "<>", values.record.id),
                ),
              ),
            ),
          )
          .returning("id"),
      ),
      values,
      true,
    ),
  ),
);

/** Inserts a record with everything it comes with in one statement; false when the id exists. */
export async function insertPostgres(context: SqlContext, write: RecordWrite): Promise<boolean> {
  const { rows } = await context.run(INSERT_POSTGRES, writeValues(write));
  return Number(rows[0]?.written) === 1;
}

/** The compare-and-set in one statement; see `COMPARE_AND_SET_POSTGRES`. */
export async function compareAndSetPostgres(context: SqlContext, write: RecordWrite & { expectedVersion: number }): Promise<boolean> {
  const { rows } = await context.run(COMPARE_AND_SET_POSTGRES, { ...writeValues(write), expectedVersion: write.expectedVersion });
  return Number(rows[0]?.written) === 1;
}

/** One compare-and-set of a group: the write as statement values, and the version it expects. */
export interface CompareAndSetValues {
  readonly values: WriteValues;
  readonly expectedVersion: number;
}

/** The columns a group's compare-and-set reads for each record, with their types. */
const RECORD_TYPES = {
  id: "text",
  org_id: "text",
  expected: "integer",
  status: "text",
  version: "integer",
  updated_at: "bigint",
  due_at: "bigint",
  event_count: "integer",
  data: "jsonb",
} as const;

/** One array per column of `types`, of that column's values in `rows` (a missing one as NULL). */
type ColumnArrays = Record<string, PostgresArray>;

function columnArrays(rows: readonly object[], types: Record<string, string>): ColumnArrays {
  const columns = Object.keys(types);
  return Object.fromEntries(
    columns.map((column) => [column, new PostgresArray(rows.map((row) => (row as Record<string, unknown>)[column] ?? null))]),
  );
}

/**
 * Rows as a table, `unnest($1::text[], $2::bigint[], …) AS name (columns)`: one array parameter
 * per column of `types`, as `valuesTable` has one parameter per value. One statement text
 * whatever the number of rows.
 */
// raw: the builder has no unnest() table function.
function unnestTable(arrays: ColumnArrays, types: Record<string, string>, name: string) {
  const columns = Object.keys(types);
  const parameters = columns.map((column) => sql`${arrays[column]}::${sql.raw(types[column]!)}[]`);
  return sql`unnest(${sql.join(parameters)}) AS ${sql.raw(name)} (${sql.join(columns.map((column) => sql.ref(column)))})`;
}

/** A group of compare-and-sets as statement values: its records, events and outbox rows, column by column. */
interface ManyValues {
  readonly records: ColumnArrays;
  readonly events: ColumnArrays;
  readonly outbox: ColumnArrays;
}

function manyValues(writes: readonly CompareAndSetValues[]): ManyValues {
  return {
    records: columnArrays(
      writes.map(({ values, expectedVersion }) => ({ ...values.record, expected: expectedVersion })),
      RECORD_TYPES,
    ),
    events: columnArrays(
      writes.flatMap(({ values }) => values.events),
      EVENT_TYPES,
    ),
    outbox: columnArrays(
      writes.flatMap(({ values }) => values.outbox),
      OUTBOX_TYPES,
    ),
  };
}

/**
 * Several compare-and-sets of different records, none with aliases, in one statement: each record
 * is updated where it still has its expected version, and only the records updated get their
 * events and outbox rows. The rows come in as one array per column (`unnestTable`), so a group of
 * any size is one statement text, prepared once; the ids updated come back.
 */
const COMPARE_AND_SET_MANY = statement((db, v: ManyValues) => {
  const insertColumns = (types: Record<string, string>) => sql.join(Object.keys(types).map((column) => sql.ref(column)));
  // raw: the builder has no unnest() table function, and no UPDATE … FROM one.
  const query = sql<{ id: string }>`WITH v AS (
      SELECT * FROM ${unnestTable(v.records, RECORD_TYPES, "v")}
    ), changed AS (
      UPDATE ${sql.table("records")} AS r
      SET status = v.status, version = v.version, updated_at = v.updated_at, due_at = v.due_at, event_count = v.event_count,
        data = v.data, lease_owner = NULL, lease_until = 0
      FROM v WHERE r.id = v.id AND r.org_id = v.org_id AND r.version = v.expected
      RETURNING r.id
    ), new_events AS (
      INSERT INTO ${sql.table("events")} (${insertColumns(EVENT_TYPES)})
      SELECT * FROM ${unnestTable(v.events, EVENT_TYPES, "e")} WHERE e.record_id IN (SELECT id FROM changed)
    ), new_outbox AS (
      INSERT INTO ${sql.table("outbox")} (${insertColumns(OUTBOX_TYPES)})
      SELECT * FROM ${unnestTable(v.outbox, OUTBOX_TYPES, "o")} WHERE o.record_id IN (SELECT id FROM changed)
      ON CONFLICT (id) DO NOTHING
    )
    SELECT id FROM changed`;
  return { compile: () => query.compile(db) };
});

/**
 * Compare-and-sets of different records, none with aliases, in one statement (see
 * `COMPARE_AND_SET_MANY`); answers which were written, in order.
 */
export async function compareAndSetManyPostgres(context: SqlContext, writes: readonly CompareAndSetValues[]): Promise<boolean[]> {
  const { rows } = await context.run(COMPARE_AND_SET_MANY, manyValues(writes));
  const written = new Set(rows.map((row) => row.id));
  return writes.map(({ values }) => written.has(values.record.id));
}

/** A compare-and-set as the store takes it. */
type CompareAndSet = RecordWrite & { readonly expectedVersion: number };

/** What one compare-and-set of a group came to: written or not, or the error its own statement raised. */
export type CompareAndSetOutcome = { readonly saved: boolean } | { readonly error: unknown };

/**
 * Compare-and-sets on PostgreSQL with group commit (see `GroupCommit`): a lone write goes at once
 * in its own statement, and the writes that arrive while one is in flight go together in one
 * statement and one commit (`COMPARE_AND_SET_MANY`), up to a hundred. A burst of expiries settled
 * by the worker, or of requests, costs a few statements, not one each. A write with aliases goes
 * alone (`alone`), as does a record's second write in one group, after the group, as it would
 * have run after the first. When the group's statement fails it wrote nothing, and each of its
 * writes runs alone, so an error reaches the writer that caused it.
 */
export function compareAndSetGroups(
  context: SqlContext,
  alone: (write: CompareAndSet) => Promise<boolean>,
): GroupCommit<CompareAndSet, CompareAndSetOutcome> {
  return new GroupCommit<CompareAndSet, CompareAndSetOutcome>(
    async (writes) => {
      const outcomes: CompareAndSetOutcome[] = new Array(writes.length);
      const runAlone = async (index: number): Promise<void> => {
        try {
          outcomes[index] = { saved: await alone(writes[index]!) };
        } catch (error) {
          outcomes[index] = { error };
        }
      };
      if (writes.length === 1) {
        await runAlone(0);
        return outcomes;
      }
      const named = new Set<string>();
      const grouped: number[] = [];
      const again: number[] = [];
      for (const [index, write] of writes.entries()) {
        if (named.has(write.record.id)) again.push(index);
        else {
          named.add(write.record.id);
          grouped.push(index);
        }
      }
      try {
        const saved = await compareAndSetManyPostgres(
          context,
          grouped.map((index) => ({ values: writeValues(writes[index]!), expectedVersion: writes[index]!.expectedVersion })),
        );
        for (const [at, index] of grouped.entries()) outcomes[index] = { saved: saved[at]! };
      } catch {
        await Promise.all(grouped.map(runAlone));
      }
      for (const index of again) await runAlone(index);
      return outcomes;
    },
    { size: CHUNK },
  );
}
