import { type RawBuilder, sql } from "kysely";
import type { SqlDialect } from "./dialect.js";
import type { Tables } from "./tables.js";

/** The column types a table spec names, each a `{placeholder}` in its columns. */
export type ColumnTypes = Record<"key" | "name" | "short" | "bigint" | "int" | "json" | "text", string>;

/** Column types per dialect. Ids compare byte by byte (C / binary collation), as the list order needs. */
export const TYPES: Record<SqlDialect, ColumnTypes> = {
  postgres: {
    key: 'varchar(128) COLLATE "C"',
    name: 'varchar(255) COLLATE "C"',
    short: 'varchar(64) COLLATE "C"',
    bigint: "bigint",
    int: "integer",
    json: "jsonb",
    text: "text",
  },
  // The table default collation (utf8mb4_bin, set below) makes every string column binary.
  mysql: { key: "varchar(128)", name: "varchar(255)", short: "varchar(64)", bigint: "bigint", int: "int", json: "json", text: "text" },
  sqlite: { key: "text", name: "text", short: "text", bigint: "integer", int: "integer", json: "text", text: "text" },
};

/** A table of the store and its indexes, as the migrations create them. */
export interface TableSpec {
  readonly table: RawBuilder<unknown>;
  /** Column definitions, with `{key}`-style placeholders for the dialect's types. */
  readonly columns: string;
  readonly indexes: ReadonlyArray<{ readonly name: string; readonly columns: string; readonly partial?: string }>;
}

/**
 * Schema version 1: every table and index of the store. Each index serves one query:
 * `*_list` and `*_status` the tenant-scoped lists (newest id first), `events` primary key the
 * timeline, `records_due` the deadline claims, `outbox_ready`/`outbox_topic` the outbox claims,
 * `idempotency_expiry` the purge of expired keys.
 */
function specs(tables: Tables): TableSpec[] {
  const p = tables.prefix;
  return [
    {
      table: tables.records,
      columns: `id {key} NOT NULL PRIMARY KEY, org_id {key} NOT NULL, kind {short} NOT NULL, status {short} NOT NULL,
        version {int} NOT NULL, created_at {bigint} NOT NULL, updated_at {bigint} NOT NULL, due_at {bigint},
        lease_owner {key}, lease_until {bigint} NOT NULL DEFAULT 0, event_count {int} NOT NULL, data {json} NOT NULL`,
      indexes: [
        { name: `${p}records_list`, columns: "org_id, kind, id" },
        { name: `${p}records_status`, columns: "org_id, kind, status, id" },
        { name: `${p}records_due`, columns: "due_at", partial: "due_at IS NOT NULL" },
      ],
    },
    {
      table: tables.events,
      columns: `org_id {key} NOT NULL, record_id {key} NOT NULL, seq {int} NOT NULL, id {name} NOT NULL,
        kind {short} NOT NULL, type {name} NOT NULL, at {bigint} NOT NULL, payload {json} NOT NULL,
        PRIMARY KEY (org_id, record_id, seq)`,
      indexes: [],
    },
    {
      table: tables.aliases,
      columns: `org_id {key} NOT NULL, alias {name} NOT NULL, record_id {key} NOT NULL, PRIMARY KEY (org_id, alias)`,
      indexes: [],
    },
    {
      table: tables.outbox,
      columns: `id {key} NOT NULL PRIMARY KEY, org_id {key} NOT NULL, topic {name} NOT NULL, payload {json} NOT NULL,
        available_at {bigint} NOT NULL, attempts {int} NOT NULL DEFAULT 0, last_error {text},
        lease_owner {key}, lease_until {bigint} NOT NULL DEFAULT 0`,
      indexes: [
        { name: `${p}outbox_ready`, columns: "available_at" },
        { name: `${p}outbox_topic`, columns: "topic, available_at" },
      ],
    },
    {
      table: tables.idempotency,
      columns: `org_id {key} NOT NULL, idempotency_key {name} NOT NULL, fingerprint {name} NOT NULL,
        expires_at {bigint} NOT NULL, response {json} NOT NULL, PRIMARY KEY (org_id, idempotency_key)`,
      indexes: [{ name: `${p}idempotency_expiry`, columns: "expires_at" }],
    },
  ];
}

/**
 * The statements creating schema version 1, each safe to run again (IF NOT EXISTS): MySQL
 * commits every DDL statement on its own, so a migration cut short there must be able to rerun.
 * On MySQL the indexes are declared inside CREATE TABLE, which MySQL 8 needs (it has no
 * CREATE INDEX IF NOT EXISTS) and which makes each table appear whole or not at all.
 */
export function schemaV1(dialect: SqlDialect, tables: Tables): RawBuilder<unknown>[] {
  return specs(tables).flatMap((spec) => createTable(dialect, spec, TYPES[dialect]));
}

/**
 * The statements creating one table and its indexes, each safe to run again: CREATE TABLE and
 * CREATE INDEX IF NOT EXISTS, or on MySQL one CREATE TABLE IF NOT EXISTS declaring its indexes.
 */
// raw: kysely's CREATE TABLE has no inline INDEX, and released migrations stay as they shipped.
export function createTable(dialect: SqlDialect, spec: TableSpec, types: ColumnTypes): RawBuilder<unknown>[] {
  const columns = sql.raw(spec.columns.replace(/\{(\w+)\}/g, (_, type: string) => types[type as keyof ColumnTypes]));
  if (dialect === "mysql") {
    const inline = sql.raw(spec.indexes.map((index) => `, INDEX ${index.name} (${index.columns})`).join(""));
    return [sql`CREATE TABLE IF NOT EXISTS ${spec.table} (${columns}${inline}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`];
  }
  return [
    sql`CREATE TABLE IF NOT EXISTS ${spec.table} (${columns})`,
    ...spec.indexes.map((index) => {
      const where = index.partial ? sql.raw(` WHERE ${index.partial}`) : sql``;
      return sql`CREATE INDEX IF NOT EXISTS ${sql.id(index.name)} ON ${spec.table} (${sql.raw(index.columns)})${where}`;
    }),
  ];
}
