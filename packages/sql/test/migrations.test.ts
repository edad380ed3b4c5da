import { fixtures } from "@agent-sessions/core/testing";
import { LATEST_SCHEMA_VERSION, migrate, SchemaVersionError, SqlStore, schemaVersion } from "@agent-sessions/sql";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openTestDatabase, uniqueName } from "./servers.js";

const { orgId, seed } = fixtures;

for (const dialect of ["postgres", "mysql", "sqlite"] as const) {
  const database = await openTestDatabase(dialect);
  if (!database) continue;

  describe(`migrations on ${dialect}`, () => {
    /** Table options of a namespace no other test uses. */
    const fresh = () => ({ tablePrefix: `${uniqueName("m")}_`, ...(database.schema ? { schema: database.schema } : {}) });

    it("migrates a fresh database to the latest version, and a second run does nothing", async () => {
      const tables = fresh();
      expect(await schemaVersion(database.db, dialect, tables)).toBe(0);
      expect(await migrate(database.db, dialect, tables)).toEqual({ from: 0, to: LATEST_SCHEMA_VERSION, applied: [1, 2, 3, 4, 5] });
      expect(await schemaVersion(database.db, dialect, tables)).toBe(LATEST_SCHEMA_VERSION);
      expect(await migrate(database.db, dialect, tables)).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION, applied: [] });
      const store = new SqlStore(database.db, { dialect, ...tables });
      const org = orgId();
      const stored = await seed(store, { orgId: org });
      expect(await store.get(org, stored.id)).toEqual(stored);
    });

    it("applies each migration once when several processes migrate at the same moment", async () => {
      const tables = fresh();
      const results = await Promise.all(Array.from({ length: 4 }, () => migrate(database.db, dialect, tables)));
      expect(results.flatMap((result) => result.applied)).toEqual([1, 2, 3, 4, 5]);
      const { rows } = await sql<{
        n: number | string;
      }>`SELECT COUNT(*) AS n FROM ${sql.table(`${tables.schema ? `${tables.schema}.` : ""}${tables.tablePrefix}schema_migrations`)}`.execute(
        database.db,
      );
      expect(Number(rows[0]?.n)).toBe(LATEST_SCHEMA_VERSION);
    });

    it("runs versions 3 to 5 again when migrations were cut short after their indexes, columns and tables were made", async () => {
      const tables = fresh();
      await migrate(database.db, dialect, tables);
      // MySQL commits each DDL statement: a migrator that stopped here left the index without its row.
      const migrations = sql.table(`${tables.schema ? `${tables.schema}.` : ""}${tables.tablePrefix}schema_migrations`);
      await sql`DELETE FROM ${migrations} WHERE version >= 3`.execute(database.db);
      expect(await migrate(database.db, dialect, tables)).toEqual({ from: 2, to: LATEST_SCHEMA_VERSION, applied: [3, 4, 5] });
      const store = new SqlStore(database.db, { dialect, ...tables });
      const org = orgId();
      const due = await seed(store, { orgId: org, kind: "form_session", status: "created", dueAt: fixtures.T0 });
      expect(await store.listDue(org, "form_session", fixtures.T0, 10)).toEqual([due.id]);
      const done = await seed(store, { orgId: org, kind: "form_session", status: "submitted" }, { outbox: [fixtures.outboxMessage(org)] });
      expect(await store.purge({ kind: "form_session", statuses: ["submitted"], before: fixtures.T0 + 1, limit: 10 })).toMatchObject({
        records: 1,
        outbox: 1,
      });
      expect(await store.get(org, done.id)).toBeNull();
      const entry = { orgId: org, webhookId: "wh_1", id: "dlv_1/1", startedAt: fixtures.T0, data: { outcome: "started" } };
      await store.logDeliveries([entry]);
      expect(await store.deliveryLog(org, "wh_1", { limit: 10 })).toEqual({ entries: [entry], total: 1, nextCursor: null });
    });

    it("refuses to work on a database that was never migrated, saying how to migrate", async () => {
      const store = new SqlStore(database.db, { dialect, ...fresh() });
      const error = await store.get(orgId(), "sess_x").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SchemaVersionError);
      expect((error as Error).message).toMatch(/version 0, older than version 5.*agent-sessions migrate --store/);
    });

    it("refuses a schema newer than it knows, naming both versions and asking for an upgrade", async () => {
      const tables = fresh();
      await migrate(database.db, dialect, tables);
      const newer = LATEST_SCHEMA_VERSION + 1;
      const migrations = sql.table(`${tables.schema ? `${tables.schema}.` : ""}${tables.tablePrefix}schema_migrations`);
      await sql`INSERT INTO ${migrations} (version, name, applied_at) VALUES (${newer}, ${"from the future"}, ${0})`.execute(database.db);

      const store = new SqlStore(database.db, { dialect, ...tables });
      const expected = new RegExp(
        `schema is at version ${newer}, newer than version ${LATEST_SCHEMA_VERSION}.*Upgrade @agent-sessions/sql to a release that knows schema version ${newer}`,
      );
      await expect(store.checkSchema()).rejects.toThrow(expected);
      await expect(store.insert({ record: { id: "sess_1", orgId: "org_1" } as never, events: [] })).rejects.toThrow(SchemaVersionError);
      await expect(migrate(database.db, dialect, tables)).rejects.toThrow(expected);
    });
  });
}
