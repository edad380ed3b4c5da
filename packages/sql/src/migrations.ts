import { AgentSessionsError } from "@agent-sessions/core";
import { type ExpressionBuilder, sql } from "kysely";
import type { Database } from "./database.js";
import { type AnyKysely, assertDialect, type Executor, inTransaction, type SqlDialect } from "./dialect.js";
import { createTable, schemaV1, TYPES } from "./schema-v1.js";
import { type TableOptions, Tables } from "./tables.js";

/** One step of the schema, applied once and recorded in the migrations table. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Executor, dialect: SqlDialect, tables: Tables) => Promise<void>;
}

/** Every migration this package ships, in order. Append; never edit one that was released. */
// raw: the migrations' DDL stays as it shipped. Kysely's schema builder would also need raw types
// (`varchar(128) COLLATE "C"`), and cannot put MySQL's indexes inside CREATE TABLE (see schema-v1.ts).
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "records, events, aliases, outbox, idempotency keys",
    up: async (db, dialect, tables) => {
      for (const statement of schemaV1(dialect, tables)) await statement.execute(db);
    },
  },
  {
    version: 2,
    name: "MariaDB: JSON columns as plain text, whatever the depth",
    up: async (db, dialect, tables) => {
      if (dialect !== "mysql" || !(await isMariaDb(db))) return;
      // MariaDB's JSON is LONGTEXT with CHECK (JSON_VALID(...)), and JSON_VALID refuses documents
      // nested deeper than 32 levels: a record holding free-form values within the engine's own
      // limit (32 levels inside metadata, a step's output) failed its write there and nowhere else.
      // The store writes only what JSON.stringify made, so the check adds nothing.
      for (const [table, column] of [
        [tables.records, "data"],
        [tables.events, "payload"],
        [tables.outbox, "payload"],
        [tables.idempotency, "response"],
      ] as const) {
        await sql`ALTER TABLE ${table} MODIFY ${sql.ref(column)} LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL`.execute(db);
      }
    },
  },
  {
    version: 3,
    name: "records_org_due: an organization's due records of one kind",
    up: async (db, dialect, tables) => {
      // `listDue`, asked before every list of form sessions by status: through `records_due` or the
      // list indexes it would visit every due record of every organization, or every record the
      // organization ever had; this one holds only records with a deadline, in the order it answers.
      const name = sql.id(`${tables.prefix}records_org_due`);
      if (dialect !== "mysql") {
        await sql`CREATE INDEX IF NOT EXISTS ${name} ON ${tables.records} (org_id, kind, due_at, id) WHERE due_at IS NOT NULL`.execute(db);
        return;
      }
      // MySQL has neither partial indexes nor CREATE INDEX IF NOT EXISTS: a migration cut short
      // after this statement finds the index there when it runs again.
      await sql`CREATE INDEX ${name} ON ${tables.records} (org_id, kind, due_at, id)`.execute(db).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== "ER_DUP_KEYNAME") throw error;
      });
    },
  },
  {
    version: 4,
    name: "retention: the record of each outbox message and idempotency entry, and the indexes purge reads",
    up: async (db, dialect, tables) => {
      // `purge` removes a record with the outbox messages its writes enqueued and the idempotency
      // entries completed with its id: each row now says which record it belongs to (NULL for rows
      // written before, which expire or settle as before).
      const key = dialect === "postgres" ? sql.raw('varchar(128) COLLATE "C"') : sql.raw(dialect === "mysql" ? "varchar(128)" : "text");
      for (const table of [tables.outbox, tables.idempotency]) {
        if (dialect === "postgres") await sql`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS record_id ${key}`.execute(db);
        else await ignoring("ER_DUP_FIELDNAME", sql`ALTER TABLE ${table} ADD COLUMN record_id ${key}`.execute(db));
      }
      const indexes = [
        // Terminal records of a kind by their last write: the records `purge` visits, oldest first.
        [tables.records, "records_terminal", "kind, status, updated_at, id"],
        // What belongs to a record, found without a scan of its organization's rows.
        [tables.aliases, "aliases_record", "org_id, record_id"],
        [tables.outbox, "outbox_record", "org_id, record_id"],
        [tables.idempotency, "idempotency_record", "org_id, record_id"],
      ] as const;
      for (const [table, name, columns] of indexes) {
        const index = sql.id(`${tables.prefix}${name}`);
        if (dialect !== "mysql") await sql`CREATE INDEX IF NOT EXISTS ${index} ON ${table} (${sql.raw(columns)})`.execute(db);
        else await ignoring("ER_DUP_KEYNAME", sql`CREATE INDEX ${index} ON ${table} (${sql.raw(columns)})`.execute(db));
      }
    },
  },
  {
    version: 5,
    name: "delivery_log: each webhook endpoint's delivery attempts",
    up: async (db, dialect, tables) => {
      // One row per attempt, written when it starts and replaced when it ends: the endpoint's log
      // is read latest start first, a page at a time, through `delivery_log_webhook`; `purge`
      // finds an endpoint's rows by the same index. MariaDB keeps JSON as plain text (version 2).
      const json = dialect === "mysql" && (await isMariaDb(db)) ? "longtext" : TYPES[dialect].json;
      const spec = {
        table: tables.deliveryLog,
        columns: `org_id {key} NOT NULL, id {name} NOT NULL, webhook_id {key} NOT NULL, started_at {bigint} NOT NULL,
          data {json} NOT NULL, PRIMARY KEY (org_id, id)`,
        indexes: [{ name: `${tables.prefix}delivery_log_webhook`, columns: "org_id, webhook_id, started_at, id" }],
      };
      for (const statement of createTable(dialect, spec, { ...TYPES[dialect], json })) await statement.execute(db);
    },
  },
];

/**
 * A statement that may have run already (MySQL commits each DDL statement by itself, so a
 * migration cut short runs again): MySQL's error `code`, or SQLite's duplicate column, is ignored.
 */
async function ignoring(code: string, statement: Promise<unknown>): Promise<void> {
  await statement.catch((error: unknown) => {
    const { code: found, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (found !== code && !(typeof message === "string" && message.includes("duplicate column name"))) throw error;
  });
}

/** Whether a MySQL-protocol server is MariaDB (whose JSON type is an alias of LONGTEXT). */
async function isMariaDb(db: Executor): Promise<boolean> {
  const row = await db.selectNoFrom(({ fn }) => fn<string>("version", []).as("version")).executeTakeFirst();
  return /mariadb/i.test(String(row?.version ?? ""));
}

/** The newest schema version this package knows and needs. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** A database whose schema this package cannot use: too old (migrate it) or too new (upgrade the package). */
export class SchemaVersionError extends AgentSessionsError {
  override readonly name = "SchemaVersionError";
  /** The version recorded in the database. */
  readonly found: number;
  /** The version this package needs. */
  readonly supported: number;
  constructor(found: number, supported: number) {
    super(
      "internal",
      found > supported
        ? `The database schema is at version ${found}, newer than version ${supported}, the newest this @agent-sessions/sql knows. ` +
            `Upgrade @agent-sessions/sql to a release that knows schema version ${found}.`
        : `The database schema is at version ${found}, older than version ${supported}, which this @agent-sessions/sql needs. ` +
            "Run `agent-sessions migrate --store <url>` or `migrate(db, dialect)` first.",
    );
    this.found = found;
    this.supported = supported;
  }
}

/** What `migrate` did. */
export interface MigrationResult {
  /** The schema version before. */
  readonly from: number;
  /** The schema version after: `LATEST_SCHEMA_VERSION`. */
  readonly to: number;
  /** The versions this call applied, in order; empty when the schema was already current. */
  readonly applied: readonly number[];
}

/**
 * The schema version recorded in the database: the highest applied migration, or 0 when the
 * store's tables were never created.
 */
export async function schemaVersion(db: AnyKysely, dialect: SqlDialect, options: TableOptions = {}): Promise<number> {
  assertDialect(dialect);
  const tables = new Tables(dialect, options);
  try {
    return await readVersion(db.withPlugin(tables.plugin));
  } catch (error) {
    if (isMissingTable(error)) return 0;
    throw error;
  }
}

/**
 * Throws `SchemaVersionError` unless the database is at exactly the schema version this package
 * needs; returns that version.
 */
export async function assertSchemaVersion(db: AnyKysely, dialect: SqlDialect, options: TableOptions = {}): Promise<number> {
  const found = await schemaVersion(db, dialect, options);
  if (found !== LATEST_SCHEMA_VERSION) throw new SchemaVersionError(found, LATEST_SCHEMA_VERSION);
  return found;
}

/**
 * Brings the store's tables to `LATEST_SCHEMA_VERSION`, applying each missing migration once and
 * recording it in the `schema_migrations` table; running it again is a no-op. Safe when several
 * processes migrate at once (a database lock serializes them). Refuses, with `SchemaVersionError`,
 * a database already at a newer version than this package knows.
 *
 * @example
 * const store = await openSqlStore("postgres://localhost/app");
 * await migrate(store.db, store.dialect);
 */
export async function migrate(db: AnyKysely, dialect: SqlDialect, options: TableOptions = {}): Promise<MigrationResult> {
  assertDialect(dialect);
  const tables = new Tables(dialect, options);
  const named: Executor = db.withPlugin(tables.plugin);
  if (dialect === "postgres") {
    // PostgreSQL runs DDL in transactions: all pending migrations apply together or not at all.
    return named.transaction().execute(async (trx) => {
      if (tables.schema !== undefined) await trx.schema.createSchema(tables.schema).ifNotExists().execute();
      const key = `agent-sessions:${tables.name("schema_migrations")}`;
      await trx.selectNoFrom(({ fn, val }) => fn("pg_advisory_xact_lock", [fn("hashtext", [val(key)])]).as("locked")).execute();
      return applyPending(trx, dialect, tables);
    });
  }
  if (dialect === "sqlite") return inTransaction(named, dialect, (trx) => applyPending(trx, dialect, tables));
  // MySQL commits each DDL statement by itself; a named lock keeps concurrent migrators apart,
  // and every statement can be run again should a migration be cut short.
  return named.connection().execute(async (connection) => {
    // CREATE SCHEMA is MySQL's other name for CREATE DATABASE.
    if (tables.schema !== undefined) await connection.schema.createSchema(tables.schema).ifNotExists().execute();
    const lock = ({ fn, lit, val }: ExpressionBuilder<Database, never>) =>
      fn("left", [
        fn("concat", [val("agent-sessions:"), fn.coalesce(val(tables.schema ?? null), fn("database", [])), val("."), val(tables.prefix)]),
        lit(64),
      ]);
    const taken = await connection.selectNoFrom((eb) => eb.fn<number | null>("get_lock", [lock(eb), eb.lit(60)]).as("locked")).executeTakeFirst();
    if (Number(taken?.locked) !== 1) throw new Error("migrate: could not take the migration lock within 60 seconds");
    try {
      return await applyPending(connection, dialect, tables);
    } finally {
      await connection.selectNoFrom((eb) => eb.fn("release_lock", [lock(eb)]).as("released")).execute();
    }
  });
}

async function applyPending(db: Executor, dialect: SqlDialect, tables: Tables): Promise<MigrationResult> {
  await db.schema
    .createTable("schema_migrations")
    .ifNotExists()
    .addColumn("version", "integer", (column) => column.notNull().primaryKey())
    .addColumn("name", "varchar(200)", (column) => column.notNull())
    .addColumn("applied_at", dialect === "sqlite" ? "integer" : "bigint", (column) => column.notNull())
    .execute();
  const from = await readVersion(db);
  if (from > LATEST_SCHEMA_VERSION) throw new SchemaVersionError(from, LATEST_SCHEMA_VERSION);
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= from) continue;
    await migration.up(db, dialect, tables);
    await db.insertInto("schema_migrations").values({ version: migration.version, name: migration.name, applied_at: Date.now() }).execute();
    applied.push(migration.version);
  }
  return { from, to: LATEST_SCHEMA_VERSION, applied };
}

async function readVersion(db: Executor): Promise<number> {
  const row = await db
    .selectFrom("schema_migrations")
    .select(({ fn }) => fn.max("version").as("version"))
    .executeTakeFirst();
  return Number(row?.version ?? 0);
}

function isMissingTable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // PostgreSQL undefined_table, MySQL ER_NO_SUCH_TABLE, SQLite's message (its code is a generic SQLITE_ERROR).
  return code === "42P01" || code === "ER_NO_SUCH_TABLE" || (typeof message === "string" && message.includes("no such table"));
}
