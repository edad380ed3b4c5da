// Connects the SQL store's tests to the database servers on this machine. Each test file gets
// a fresh PostgreSQL schema, MariaDB/MySQL database or SQLite file, dropped when the file ends;
// each store inside it gets its own table prefix. An unreachable server fails the run when
// CI=true, and otherwise skips the file's tests with a loud warning naming the server.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AnyKysely, preparePostgresStatements, type SqlDialect, SqlStore } from "@agent-sessions/sql";
import Database from "better-sqlite3";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from "kysely";
import mysql from "mysql2";
import pg from "pg";
import { afterAll, it } from "vitest";

export const SERVERS = {
  postgres: { host: "127.0.0.1", port: 5432, users: ["postgres", "root"], database: "test" },
  mysql: { host: "127.0.0.1", port: 3306, user: "root", password: "" },
} as const;

const NAMES: Record<SqlDialect, string> = {
  postgres: "PostgreSQL at 127.0.0.1:5432 (database test)",
  mysql: "MariaDB/MySQL at 127.0.0.1:3306 (user root)",
  sqlite: "SQLite",
};

/** A fresh database for one test file. */
export interface TestDatabase {
  readonly dialect: SqlDialect;
  /** Connected to the fresh database; for PostgreSQL, `schema` names the fresh schema. */
  readonly db: AnyKysely;
  readonly schema: string | undefined;
  /** A new, migrated store in the fresh database, under a table prefix of its own. */
  store(): Promise<SqlStore>;
}

/** A name no other run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

/**
 * Opens a fresh database on `dialect`'s server for this file and drops it after the file's
 * tests; `null` when the server is unreachable outside CI (a skipped test then says so).
 */
export async function openTestDatabase(
  dialect: SqlDialect,
  options: { readonly mysql?: mysql.PoolOptions; readonly prepare?: boolean } = {},
): Promise<TestDatabase | null> {
  try {
    const opened = await open(dialect, options.mysql ?? {}, options.prepare ?? true);
    afterAll(opened.drop);
    let stores = 0;
    return {
      dialect,
      db: opened.db,
      schema: opened.schema,
      async store() {
        const store = new SqlStore(opened.db, {
          dialect,
          tablePrefix: `t${++stores}_`,
          ...(opened.schema !== undefined ? { schema: opened.schema } : {}),
        });
        await store.migrate();
        return store;
      },
    };
  } catch (error) {
    const message = `${NAMES[dialect]} is unreachable: ${(error as Error).message}`;
    if (process.env.CI === "true") throw new Error(`${message} (CI=true: the SQL store tests need this server)`, { cause: error });
    console.warn(`\n⚠️  SKIPPING the ${dialect} tests of @agent-sessions/sql: ${message}\n`);
    it.skip(`${dialect}: server unreachable (${NAMES[dialect]})`, () => {});
    return null;
  }
}

async function open(
  dialect: SqlDialect,
  mysqlOptions: mysql.PoolOptions,
  prepare: boolean,
): Promise<{ db: AnyKysely; schema: string | undefined; drop: () => Promise<void> }> {
  if (dialect === "sqlite") {
    const file = join(tmpdir(), `${uniqueName("agent_sessions_sql")}.db`);
    const database = new Database(file);
    database.pragma("journal_mode = WAL");
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
    return {
      db,
      schema: undefined,
      drop: async () => {
        await db.destroy();
        for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
      },
    };
  }
  if (dialect === "postgres") {
    // Statements prepared per connection, as `openSqlStore` (and so `serve`) runs them, unless `prepare` is false.
    const pool = await postgresPool();
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: prepare ? preparePostgresStatements(pool) : pool }) });
    const schema = uniqueName("as_test");
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    return {
      db,
      schema,
      drop: async () => {
        await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db);
        await db.destroy();
      },
    };
  }
  const database = uniqueName("as_test");
  const admin = mysqlPool();
  await admin.promise().query(`CREATE DATABASE \`${database}\``);
  await admin.promise().end();
  const db = new Kysely<any>({ dialect: new MysqlDialect({ pool: mysqlPool({ ...mysqlOptions, database }) }) });
  return {
    db,
    schema: undefined,
    drop: async () => {
      await sql`DROP DATABASE ${sql.id(database)}`.execute(db);
      await db.destroy();
    },
  };
}

/** A pg pool on the test database, as the first of the users the server accepts. */
export async function postgresPool(options: pg.PoolConfig = {}): Promise<pg.Pool> {
  let lastError: unknown;
  for (const user of SERVERS.postgres.users) {
    const pool = new pg.Pool({ ...SERVERS.postgres, user, connectionTimeoutMillis: 3000, ...options });
    try {
      await pool.query("SELECT 1");
      return pool;
    } catch (error) {
      lastError = error;
      await pool.end();
    }
  }
  throw lastError;
}

/** A mysql2 pool as root, on `database` when given. */
export function mysqlPool(options: mysql.PoolOptions = {}): mysql.Pool {
  const { host, port, user, password } = SERVERS.mysql;
  return mysql.createPool({ host, port, user, password, connectTimeout: 3000, charset: "utf8mb4", ...options });
}

/** The store's tables, by their names without prefix or schema. */
const STORE_TABLES = ["records", "events", "aliases", "outbox", "idempotency_keys", "delivery_log"] as const;

/**
 * Every row of the store's tables as text, `<table> <row as JSON>`, columns in a fixed order: the
 * conformance suite's `rawDump`, to prove on the tables themselves what a store left.
 */
export async function rawDump(store: unknown): Promise<string[]> {
  const { db, options } = store as SqlStore;
  const rows: string[] = [];
  for (const table of STORE_TABLES) {
    const name = `${options.tablePrefix ?? ""}${table}`;
    const qualified = options.schema === undefined ? sql.table(name) : sql.table(`${options.schema}.${name}`);
    const { rows: found } = await sql<Record<string, unknown>>`select * from ${qualified}`.execute(db);
    for (const row of found) {
      const sorted = Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1)));
      rows.push(`${table} ${JSON.stringify(sorted, (_key, value) => (typeof value === "bigint" ? String(value) : value))}`);
    }
  }
  return rows;
}
