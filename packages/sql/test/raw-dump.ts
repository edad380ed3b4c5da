import type { Store } from "@agent-sessions/core";
import type { SqlStore } from "@agent-sessions/sql";
import { sql } from "kysely";

/** A column's value as text: strings as they are, anything else (JSON, numbers, bigints) as JSON. */
const text = (value: unknown): string =>
  typeof value === "string" ? value : JSON.stringify(value, (_key, inner: unknown) => (typeof inner === "bigint" ? String(inner) : inner));

/**
 * Every row of every table of an `SqlStore` (the tables its prefix names, in its schema or
 * database), one text a row with each column as `name=value`: the store's raw rows, for the
 * conformance tests that look for what must not be stored.
 */
export async function rawDump(store: Store): Promise<string[]> {
  const { db, dialect, options } = store as SqlStore;
  const prefix = options.tablePrefix ?? "";
  const names =
    dialect === "sqlite"
      ? await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(db)
      : dialect === "postgres"
        ? await sql<{
            name: string;
          }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${options.schema ?? sql`current_schema()`}`.execute(db)
        : await sql<{
            name: string;
          }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${options.schema ?? sql`database()`}`.execute(db);
  const tables = names.rows.map((row) => row.name).filter((name) => name.startsWith(prefix));
  const rows: string[] = [];
  for (const table of tables) {
    const qualified = options.schema === undefined ? sql.table(table) : sql.table(`${options.schema}.${table}`);
    const result = await sql<Record<string, unknown>>`SELECT * FROM ${qualified}`.execute(db);
    for (const row of result.rows)
      rows.push(
        `${table}: ${Object.entries(row)
          .map(([column, value]) => `${column}=${text(value)}`)
          .join(" ")}`,
      );
  }
  if (tables.length === 0) throw new Error(`rawDump: no table starts with ${prefix}`);
  return rows;
}
