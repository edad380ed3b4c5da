import { type RawBuilder, sql } from "kysely";
import type { SqlDialect } from "./dialect.js";
import type { Tables } from "./tables.js";

/** Column types per dialect. Ids compare byte by byte (C / binary collation), as the list order needs. */
const TYPES: Record<SqlDialect, Record<"key" | "name" | "short" | "bigint" | "int" | "json" | "text", string>> = {
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

interface TableSpec {
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
// raw: kysely's CREATE TABLE has no inline INDEX, and this released migration stays as it shipped.
export function schemaV1(dialect: SqlDialect, tables: Tables): RawBuilder<unknown>[] {
  const types = TYPES[dialect];
  const typed = (text: string) => text.replace(/\{(\w+)\}/g, (_, type: string) => types[type as keyof typeof types]);
  const statements: RawBuilder<unknown>[] = [];
  for (const spec of specs(tables)) {
    if (dialect === "mysql") {
      const inline = spec.indexes.map((index) => `, INDEX ${index.name} (${index.columns})`).join("");
      statements.push(
        sql`CREATE TABLE IF NOT EXISTS ${spec.table} (${sql.raw(typed(spec.columns) + inline)}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
      );
      continue;
    }
    statements.push(sql`CREATE TABLE IF NOT EXISTS ${spec.table} (${sql.raw(typed(spec.columns))})`);
    for (const index of spec.indexes) {
      const where = index.partial ? sql.raw(` WHERE ${index.partial}`) : sql``;
      statements.push(sql`CREATE INDEX IF NOT EXISTS ${sql.id(index.name)} ON ${spec.table} (${sql.raw(index.columns)})${where}`);
    }
  }
  return statements;
}
