import { InvalidInputError, redactUrl } from "@agent-sessions/core";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from "kysely";
import type { SqlDialect } from "./dialect.js";
import { guardPostgresPool, preparePostgresStatements } from "./postgres-pool.js";
import { SqlStore } from "./sql-store.js";
import type { TableOptions } from "./tables.js";

/** A store URL taken apart: which dialect, and what its driver connects to. */
export interface ParsedStoreUrl {
  readonly dialect: SqlDialect;
  /** The driver's connection string (postgres, mysql) or the SQLite file name (`:memory:` for none). */
  readonly target: string;
  /** Where the tables live, from the URL's `?schema=` and `?table_prefix=` (PostgreSQL, MySQL). */
  readonly tables: TableOptions;
  /** SQLite's `PRAGMA synchronous`, from the URL's `?synchronous=`; absent, `SQLITE_SYNCHRONOUS_DEFAULT`. */
  readonly synchronous?: SqliteSynchronous;
  /** PostgreSQL: whether statements are prepared (`preparePostgresStatements`), from the URL's `?prepare=`; absent, they are. */
  readonly prepare?: boolean;
}

/**
 * When SQLite forces a commit to disk (in WAL mode): `full` (the default) syncs the log at every
 * commit, so an acknowledged write survives an OS crash or power loss; `normal` syncs only at
 * checkpoints, so it survives a process crash but an OS crash or power loss can roll back the last
 * commits (the file stays consistent); `extra` is `full` with more syncs (SQLite's `EXTRA`).
 */
export const SQLITE_SYNCHRONOUS = ["full", "normal", "extra"] as const;

/** A value of the SQLite store URL's `?synchronous=`. */
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];

/** What an SQLite store opens with when its URL names no `?synchronous=`: a commit is on disk when acknowledged. */
export const SQLITE_SYNCHRONOUS_DEFAULT: SqliteSynchronous = "full";

/** The query parameters that are ours, not the driver's: taken out of the connection string. */
const TABLE_PARAMS = { schema: "schema", table_prefix: "tablePrefix" } as const;

const ACCEPTED = "sqlite:./file.db, sqlite::memory:, postgres://…, postgresql://…, mysql://… or mariadb://…";

/**
 * Takes a store URL apart: `sqlite:./file.db` (or `sqlite:/abs/file.db`, `sqlite:///abs/file.db`),
 * `sqlite::memory:`, `postgres://…` or `postgresql://…`, `mysql://…` or `mariadb://…`. On
 * PostgreSQL and MySQL, `?schema=` (a PostgreSQL schema or MySQL database) and `?table_prefix=`
 * say where the tables live; on PostgreSQL, `?prepare=false` runs every statement unnamed (see
 * `preparePostgresStatements`); other query parameters go to the driver. On SQLite, `?synchronous=`
 * (`full`, the default, `normal` or `extra`: see `SQLITE_SYNCHRONOUS`) is the only parameter.
 * Throws an error naming the part of the URL that is wrong.
 */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (typeof url !== "string" || url.trim() === "") throw new InvalidInputError("store URL", `is required (${ACCEPTED})`);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new InvalidInputError("store URL", `"${url}" has no scheme; use ${ACCEPTED}`);
  if (scheme === "sqlite") {
    let file = url.slice("sqlite:".length);
    if (file.startsWith("//")) file = file.slice(2); // sqlite:///abs/path and sqlite://./rel
    const query = file.indexOf("?");
    const synchronous = query < 0 ? undefined : sqliteSynchronousOf(new URLSearchParams(file.slice(query + 1)));
    if (query >= 0) file = file.slice(0, query);
    if (file === "") throw new InvalidInputError("store URL", `"${url}" names no SQLite file; use sqlite:./file.db or sqlite::memory:`);
    return { dialect: "sqlite", target: file, tables: {}, ...(synchronous !== undefined ? { synchronous } : {}) };
  }
  if (scheme === "postgres" || scheme === "postgresql" || scheme === "mysql" || scheme === "mariadb") {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidInputError("store URL", `"${redactUrl(url)}" is not a valid URL`);
    }
    const tables: { -readonly [K in keyof TableOptions]: TableOptions[K] } = {};
    let target = url;
    for (const [param, option] of Object.entries(TABLE_PARAMS)) {
      const value = parsed.searchParams.get(param);
      if (value === null) continue;
      tables[option] = value;
      parsed.searchParams.delete(param);
      target = parsed.toString();
    }
    if (scheme === "postgres" || scheme === "postgresql") {
      const choice = choiceParam(parsed.searchParams, "prepare", ["true", "false"], "true or false");
      const prepare = choice === undefined ? undefined : choice === "true";
      if (prepare !== undefined) {
        parsed.searchParams.delete("prepare");
        target = parsed.toString();
      }
      return { dialect: "postgres", target, tables, ...(prepare !== undefined ? { prepare } : {}) };
    }
    // mysql2 parses mysql:// only; MariaDB speaks the same protocol.
    return { dialect: "mysql", target: scheme === "mariadb" ? `mysql:${target.slice("mariadb:".length)}` : target, tables };
  }
  throw new InvalidInputError("store URL", `scheme "${scheme}:" is not supported; use ${ACCEPTED}`);
}

/** A `?name=` of a store URL's query, one of `choices` in any case, refusing any other value or a repeat by name. */
function choiceParam<T extends string>(params: URLSearchParams, name: string, choices: readonly T[], expected: string): T | undefined {
  const values = params.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new InvalidInputError("store URL", `?${name}= is given ${values.length} times; give it once`);
  const value = values[0]!.toLowerCase();
  if (!(choices as readonly string[]).includes(value)) throw new InvalidInputError("store URL", `?${name}= must be ${expected}, got "${values[0]}"`);
  return value as T;
}

/** The `?synchronous=` of an SQLite store URL's query, refusing any other parameter or value by name. */
function sqliteSynchronousOf(params: URLSearchParams): SqliteSynchronous | undefined {
  for (const name of params.keys()) {
    if (name !== "synchronous") throw new InvalidInputError("store URL", `SQLite takes no "?${name}=" parameter; the only one is ?synchronous=`);
  }
  return choiceParam(params, "synchronous", SQLITE_SYNCHRONOUS, `one of ${SQLITE_SYNCHRONOUS.join(", ")}`);
}

/** Options of `openSqlStore`. */
export interface OpenSqlStoreOptions extends TableOptions {
  /** Most connections in the pool (PostgreSQL, MySQL). Default: 10. */
  readonly maxConnections?: number;
  /**
   * PostgreSQL: prepare each statement once per connection (see `preparePostgresStatements`).
   * Default: the URL's `?prepare=`, else true. Set false behind PgBouncer in transaction mode
   * before 1.21.
   */
  readonly prepare?: boolean;
}

/**
 * Opens a store from a URL: creates the driver's pool (pg, mysql2) or opens the SQLite file
 * (better-sqlite3, in WAL mode, `synchronous=FULL` unless the URL says `?synchronous=normal`), and returns a `SqlStore` whose `close()` ends it. The driver
 * package must be installed. The schema is not touched: call `migrate` (or `store.migrate()`)
 * once before the first operation.
 *
 * @example
 * const store = await openSqlStore("sqlite:./agent-sessions.db");
 * await store.migrate();
 * const engine = createEngine({ store });
 */
export async function openSqlStore(url: string, options: OpenSqlStoreOptions = {}): Promise<SqlStore> {
  const { dialect, target, tables, synchronous, prepare } = parseStoreUrl(url);
  const max = options.maxConnections ?? 10;
  if (!Number.isSafeInteger(max) || max < 1) throw new InvalidInputError("maxConnections", `must be a whole number ≥ 1, got ${max}`);
  if (options.prepare !== undefined && typeof options.prepare !== "boolean") {
    throw new InvalidInputError("prepare", `must be true or false, got ${JSON.stringify(options.prepare)}`);
  }
  const tableOptions: TableOptions = {
    ...tables, // the URL's ?schema= and ?table_prefix=, which the options override
    ...(options.tablePrefix !== undefined ? { tablePrefix: options.tablePrefix } : {}),
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
  };
  const settings = { max, synchronous: synchronous ?? SQLITE_SYNCHRONOUS_DEFAULT, prepare: options.prepare ?? prepare ?? true };
  const db = new Kysely<any>({ dialect: await driverDialect(dialect, target, settings) });
  return new SqlStore(db, { dialect, destroyOnClose: true, ...tableOptions });
}

interface DriverSettings {
  readonly max: number;
  readonly synchronous: SqliteSynchronous;
  readonly prepare: boolean;
}

async function driverDialect(dialect: SqlDialect, target: string, { max, synchronous, prepare }: DriverSettings) {
  if (dialect === "postgres") {
    const pool = await openPostgresPool(target, max);
    return new PostgresDialect({ pool: prepare ? preparePostgresStatements(pool) : pool });
  }
  if (dialect === "mysql") {
    const mysql = await load<typeof import("mysql2")>("mysql2", "mysql://");
    const createPool = mysql.createPool ?? (mysql as unknown as { default: typeof import("mysql2") }).default.createPool;
    // FOUND_ROWS (mysql2's default) makes affected rows count matched rows; the store does not rely on it.
    return new MysqlDialect({ pool: createPool({ uri: target, connectionLimit: max, charset: "utf8mb4" }) });
  }
  const sqlite = await load<{ default: typeof import("better-sqlite3") }>("better-sqlite3", "sqlite:");
  const database = new sqlite.default(target);
  if (target !== ":memory:") database.pragma("journal_mode = WAL");
  // better-sqlite3 leaves SQLite's WAL default, NORMAL: an OS crash could undo acknowledged commits.
  database.pragma(`synchronous = ${synchronous}`);
  // Another process holding the write lock is waited for, rather than failing at once.
  database.pragma("busy_timeout = 5000");
  return new SqliteDialect({ database: reusingStatements(database) });
}

/** How many prepared SQLite statements `reusingStatements` keeps. */
const STATEMENT_CACHE = 256;

/**
 * The SQLite database as Kysely sees it, with prepared statements reused: Kysely prepares each
 * query anew, which for the store's short statements costs about as much as running them. The
 * store's SQL text repeats (values are parameters), so a small cache holds nearly all of it.
 */
function reusingStatements(database: import("better-sqlite3").Database) {
  const statements = new Map<string, import("better-sqlite3").Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = database.prepare(text);
        if (statements.size >= STATEMENT_CACHE) statements.delete(statements.keys().next().value!);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * A `pg` pool on a connection string (ours taken out: see `parseStoreUrl`), guarded so a server
 * that ends a connection fails a query rather than the process.
 */
export async function openPostgresPool(connectionString: string, max: number): Promise<import("pg").Pool> {
  const pg = await load<typeof import("pg")>("pg", "postgres://");
  const Pool = pg.Pool ?? (pg as unknown as { default: typeof import("pg") }).default.Pool;
  return guardPostgresPool(new Pool({ connectionString, max }));
}

async function load<T>(name: string, scheme: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new Error(`${scheme} store URLs need the "${name}" package: install it beside @agent-sessions/sql`, { cause: error });
  }
}
