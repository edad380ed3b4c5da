import type { RecordWrite } from "@agent-sessions/core";
import { type Expression, expressionBuilder, type InsertQueryBuilder, type InsertResult, type QueryCreator, type SqlBool, sql } from "kysely";
import type { SqlContext } from "./context.js";
import type { Database } from "./database.js";
import { statement } from "./statement.js";
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
