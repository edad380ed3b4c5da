import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtures } from "@agent-sessions/core/testing";
import { openSqlStore, parseStoreUrl, preparePostgresStatements, SqlStore } from "@agent-sessions/sql";
import { CompiledQuery, Kysely, PostgresDialect, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openTestDatabase, postgresPool, SERVERS, uniqueName } from "./servers.js";

const { orgId, seed } = fixtures;

describe("parseStoreUrl", () => {
  it.each([
    ["sqlite:./agent-sessions.db", { dialect: "sqlite", target: "./agent-sessions.db", tables: {} }],
    ["sqlite::memory:", { dialect: "sqlite", target: ":memory:", tables: {} }],
    ["sqlite:/var/lib/app.db", { dialect: "sqlite", target: "/var/lib/app.db", tables: {} }],
    ["sqlite:///var/lib/app.db", { dialect: "sqlite", target: "/var/lib/app.db", tables: {} }],
    ["sqlite:./app.db?synchronous=normal", { dialect: "sqlite", target: "./app.db", tables: {}, synchronous: "normal" }],
    ["sqlite:///var/lib/app.db?synchronous=FULL", { dialect: "sqlite", target: "/var/lib/app.db", tables: {}, synchronous: "full" }],
    ["sqlite::memory:?synchronous=extra", { dialect: "sqlite", target: ":memory:", tables: {}, synchronous: "extra" }],
    ["postgres://u:p@db:5432/app", { dialect: "postgres", target: "postgres://u:p@db:5432/app", tables: {} }],
    ["postgresql://db/app?sslmode=require", { dialect: "postgres", target: "postgresql://db/app?sslmode=require", tables: {} }],
    [
      "postgres://db/app?schema=sessions&sslmode=require&table_prefix=as_",
      { dialect: "postgres", target: "postgres://db/app?sslmode=require", tables: { schema: "sessions", tablePrefix: "as_" } },
    ],
    [
      "postgres://db/app?prepare=false&sslmode=require",
      { dialect: "postgres", target: "postgres://db/app?sslmode=require", tables: {}, prepare: false },
    ],
    ["postgres://db/app?schema=s&prepare=TRUE", { dialect: "postgres", target: "postgres://db/app", tables: { schema: "s" }, prepare: true }],
    ["mysql://root@db:3306/app", { dialect: "mysql", target: "mysql://root@db:3306/app", tables: {} }],
    ["mariadb://root@db/app?table_prefix=as_", { dialect: "mysql", target: "mysql://root@db/app", tables: { tablePrefix: "as_" } }],
  ])("reads %s", (url, parsed) => {
    expect(parseStoreUrl(url)).toEqual(parsed);
  });

  it.each([
    ["", /store URL is required/],
    ["./file.db", /store URL: ".\/file.db" has no scheme/],
    ["redis://localhost", /store URL: scheme "redis:" is not supported; use sqlite:/],
    ["sqlite:", /store URL: "sqlite:" names no SQLite file/],
    ["sqlite:?synchronous=full", /store URL: "sqlite:\?synchronous=full" names no SQLite file/],
    ["sqlite:./app.db?synchronous=off", /store URL: \?synchronous= must be one of full, normal, extra, got "off"/],
    ["sqlite:./app.db?synchronous=", /store URL: \?synchronous= must be one of full, normal, extra, got ""/],
    ["sqlite:./app.db?synchronous=full&synchronous=normal", /store URL: \?synchronous= is given 2 times; give it once/],
    ["sqlite:./app.db?journal_mode=delete", /store URL: SQLite takes no "\?journal_mode=" parameter; the only one is \?synchronous=/],
    ["postgres://u:secret@/app", /store URL: "postgres:\/\/u:\*\*\*@\/app" is not a valid URL/],
    ["mysql://[bad", /store URL: "mysql:\/\/\[bad" is not a valid URL/],
    ["postgres://db/app?prepare=maybe", /store URL: \?prepare= must be true or false, got "maybe"/],
    ["postgres://db/app?prepare=true&prepare=false", /store URL: \?prepare= is given 2 times; give it once/],
  ])("refuses %j, naming the part that is wrong", (url, message) => {
    expect(() => parseStoreUrl(url)).toThrow(message);
  });
});

describe("openSqlStore", () => {
  it("refuses bad options by name", async () => {
    await expect(openSqlStore("sqlite::memory:", { maxConnections: 0 })).rejects.toThrow("maxConnections: must be a whole number ≥ 1, got 0");
    await expect(openSqlStore("sqlite::memory:", { tablePrefix: "bad-prefix" })).rejects.toThrow(/tablePrefix: must be letters/);
    await expect(openSqlStore("sqlite::memory:", { schema: "main" })).rejects.toThrow("schema is not available on SQLite; use tablePrefix");
    await expect(openSqlStore("sqlite::memory:", { prepare: "yes" as never })).rejects.toThrow('prepare: must be true or false, got "yes"');
    expect(() => new SqlStore({} as never, { dialect: "oracle" as never })).toThrow(
      'dialect: must be one of "postgres", "mysql", "sqlite", got "oracle"',
    );
  });

  it("opens an SQLite file that keeps its sessions across a close and a reopen", async () => {
    const file = join(tmpdir(), `${uniqueName("agent_sessions_open")}.db`);
    try {
      const first = await openSqlStore(`sqlite:${file}`);
      await first.migrate();
      const org = orgId();
      const stored = await seed(first, { orgId: org });
      await first.close();
      const second = await openSqlStore(`sqlite:${file}`);
      expect(await second.get(org, stored.id)).toEqual(stored);
      await second.close();
    } finally {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    }
  });

  it("opens SQLite with synchronous=FULL unless the URL's ?synchronous= says otherwise, and refuses a bad value by name", async () => {
    const file = join(tmpdir(), `${uniqueName("agent_sessions_synchronous")}.db`);
    // SQLite's numbers for PRAGMA synchronous: 1 NORMAL, 2 FULL, 3 EXTRA. A build may lower the
    // level to NORMAL once a file in WAL mode is read, so each case reads after a transaction.
    const cases = [
      ["", 2],
      ["?synchronous=full", 2],
      ["?synchronous=normal", 1],
      ["?synchronous=extra", 3],
    ] as const;
    try {
      for (const [query, expected] of cases) {
        const store = await openSqlStore(`sqlite:${file}${query}`);
        await store.migrate();
        const pragma = async (name: string) => (await sql.raw(`PRAGMA ${name}`).execute(store.db)).rows[0];
        expect({ query, synchronous: await pragma("synchronous"), journal: await pragma("journal_mode") }).toEqual({
          query,
          synchronous: { synchronous: expected },
          journal: { journal_mode: "wal" },
        });
        await store.close();
      }
      await expect(openSqlStore(`sqlite:${file}?synchronous=off`)).rejects.toThrow(
        'store URL: ?synchronous= must be one of full, normal, extra, got "off"',
      );
    } finally {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    }
  });

  it("opens sqlite::memory:", async () => {
    await roundTrip("sqlite::memory:", {});
  });
});

/** Opens `url`, migrates, writes and reads one record, and closes. */
async function roundTrip(url: string, options: Parameters<typeof openSqlStore>[1]): Promise<void> {
  const store = await openSqlStore(url, options);
  await store.migrate();
  const org = orgId();
  const stored = await seed(store, { orgId: org });
  expect(await store.get(org, stored.id)).toEqual(stored);
  await store.close();
}

const postgres = await openTestDatabase("postgres");
if (postgres) {
  it("openSqlStore opens postgres:// and postgresql:// URLs into a schema", async () => {
    const { host, port, database } = SERVERS.postgres;
    for (const scheme of ["postgres", "postgresql"]) {
      await roundTrip(`${scheme}://postgres@${host}:${port}/${database}`, { schema: postgres.schema!, tablePrefix: `${scheme}_`, maxConnections: 2 });
    }
  });

  it("openSqlStore takes ?schema= and ?table_prefix= from the URL, and the options win over them", async () => {
    const { host, port, database } = SERVERS.postgres;
    const url = `postgres://postgres@${host}:${port}/${database}?schema=${postgres.schema!}&table_prefix=url_`;
    const store = await openSqlStore(url);
    expect(store.options).toMatchObject({ schema: postgres.schema, tablePrefix: "url_" });
    await store.close();
    const overridden = await openSqlStore(url, { tablePrefix: "opt_" });
    expect(overridden.options).toMatchObject({ schema: postgres.schema, tablePrefix: "opt_" });
    await overridden.close();
    await roundTrip(url, {});
  });

  /** The statements this store prepared on its one connection, after a round trip and a second read. */
  async function preparedBy(url: string, options: Parameters<typeof openSqlStore>[1]): Promise<[number, number, number]> {
    const store = await openSqlStore(url, { ...options, schema: postgres!.schema!, tablePrefix: uniqueName("p").concat("_"), maxConnections: 1 });
    try {
      await store.migrate();
      const org = orgId();
      const stored = await seed(store, { orgId: org });
      const count = async () => {
        const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'agent_sessions_%'`.execute(
          store.db,
        );
        return Number(rows[0]!.n);
      };
      const afterWrite = await count();
      expect(await store.get(org, stored.id)).toEqual(stored);
      const afterRead = await count();
      expect(await store.get(org, stored.id)).toEqual(stored);
      return [afterWrite, afterRead, await count()];
    } finally {
      await store.close();
    }
  }

  it("openSqlStore prepares each statement once per connection, unless ?prepare=false or the prepare option says not to", async () => {
    const { host, port, database } = SERVERS.postgres;
    const url = `postgres://postgres@${host}:${port}/${database}`;
    const [afterWrite, afterRead, afterSecondRead] = await preparedBy(url, {});
    expect(afterWrite).toBeGreaterThan(0);
    expect(afterRead).toBe(afterWrite + 1); // the read's statement, prepared once…
    expect(afterSecondRead).toBe(afterRead); // …and run again without preparing it anew
    expect(await preparedBy(`${url}?prepare=false`, {})).toEqual([0, 0, 0]);
    expect(await preparedBy(`${url}?prepare=true`, { prepare: false })).toEqual([0, 0, 0]);
  });

  it("preparePostgresStatements prepares a statement anew once a migration changed the rows it answers", async () => {
    const pool = await postgresPool({ max: 1 });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: preparePostgresStatements(pool) }) });
    const table = `${postgres.schema!}.${uniqueName("row_type")}`;
    const read = (executor: Kysely<any> = db) => executor.executeQuery(CompiledQuery.raw(`SELECT * FROM ${table} WHERE id = $1`, [1]));
    try {
      await sql.raw(`CREATE TABLE ${table} (id integer, a text)`).execute(db);
      await sql.raw(`INSERT INTO ${table} VALUES (1, 'x')`).execute(db);
      expect((await read()).rows).toEqual([{ id: 1, a: "x" }]);
      await sql.raw(`ALTER TABLE ${table} ADD COLUMN b integer DEFAULT 7`).execute(db);
      expect((await read()).rows).toEqual([{ id: 1, a: "x", b: 7 }]); // retried at once under a new name
      // In a transaction the refusal aborts it, so it reaches the caller; the next run prepares anew.
      await sql.raw(`ALTER TABLE ${table} ADD COLUMN c integer DEFAULT 8`).execute(db);
      await expect(db.transaction().execute((trx) => read(trx))).rejects.toThrow(/cached plan must not change result type/);
      expect((await db.transaction().execute((trx) => read(trx))).rows).toEqual([{ id: 1, a: "x", b: 7, c: 8 }]);
    } finally {
      await db.destroy();
    }
  });

  it("preparePostgresStatements prepares at most `size` texts, and runs statements without parameters unnamed", async () => {
    const pool = await postgresPool({ max: 1 });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: preparePostgresStatements(pool, { size: 2 }) }) });
    try {
      for (const text of ["SELECT $1::int AS n", "SELECT $1::int + 1 AS n", "SELECT $1::int + 2 AS n", "SELECT $1::int AS n"]) {
        const { rows } = await db.executeQuery<{ n: number }>(CompiledQuery.raw(text, [40]));
        expect(rows[0]!.n).toBeGreaterThanOrEqual(40);
      }
      await sql`SELECT 1`.execute(db);
      const { rows } = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`.execute(db);
      expect(rows.map((row) => row.statement)).toEqual(["SELECT $1::int AS n", "SELECT $1::int + 1 AS n"]);
    } finally {
      await db.destroy();
    }
  });
}

const mysql = await openTestDatabase("mysql");
if (mysql) {
  it("openSqlStore opens mysql:// and mariadb:// URLs", async () => {
    const { host, port } = SERVERS.mysql;
    const [{ name }] = (await mysql.db.selectNoFrom((eb) => eb.fn<string>("DATABASE").as("name")).execute()) as [{ name: string }];
    for (const scheme of ["mysql", "mariadb"]) await roundTrip(`${scheme}://root@${host}:${port}/${name}`, { tablePrefix: `${scheme}_` });
  });
}
