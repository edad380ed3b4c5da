// A PostgreSQL backend terminated (pg_terminate_backend, from another connection) in the middle
// of a transition leaves the old state, never a part of the new one, and the engine's next
// attempt succeeds. Deterministic: a second connection holds a lock the transition must wait
// for, the test waits until PostgreSQL reports the store's backend blocked by it, and only then
// terminates that backend.
import { createEngine } from "@agent-sessions/core";
import { type AnyKysely, guardPostgresPool, SqlStore } from "@agent-sessions/sql";
import { Kysely, PostgresDialect, sql } from "kysely";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, postgresPool } from "./servers.js";

const database = await openTestDatabase("postgres");

if (database) {
  describe("PostgreSQL: a backend terminated mid-transition", () => {
    let storePool: pg.Pool;
    let storeDb: AnyKysely;
    let admin: pg.Pool;
    let store: SqlStore;
    const org = "org_fault";
    const table = (name: string) => `"${database.schema}"."fault_${name}"`;

    beforeAll(async () => {
      storePool = guardPostgresPool(await postgresPool({ application_name: "agent-sessions-fault-store", max: 2 }));
      storeDb = new Kysely<any>({ dialect: new PostgresDialect({ pool: storePool }) });
      admin = await postgresPool({ max: 3 });
      store = new SqlStore(storeDb, { dialect: "postgres", schema: database.schema!, tablePrefix: "fault_" });
      await store.migrate();
    });
    afterAll(async () => {
      await storeDb.destroy();
      await admin.end();
    });

    /** The pid of the backend that `locker` blocks, once PostgreSQL reports one. */
    async function blockedBy(locker: pg.PoolClient): Promise<number> {
      const { rows: [own] } = await locker.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      for (;;) {
        const { rows } = await admin.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
          [own!.pid],
        );
        if (rows[0]) return rows[0].pid;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }

    /**
     * Terminates the backend, then waits until the store's pool has dropped its client: the
     * server's error reply reaches the transition before the socket's end reaches the pool,
     * and a retry in between could be handed the dead client.
     */
    async function terminate(pid: number): Promise<void> {
      const clients = storePool.totalCount;
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      while (storePool.totalCount >= clients) await new Promise((resolve) => setTimeout(resolve, 5));
    }

    async function expectUnchanged(id: string): Promise<void> {
      expect(await store.get(org, id)).toMatchObject({ version: 1, status: "active", eventCount: 1 });
      expect((await store.timeline(org, id)).map((event) => event.type)).toEqual(["session.created"]);
    }

    async function expectCompletedOnRetry(engine: ReturnType<typeof createEngine>, id: string): Promise<void> {
      expect(await engine.workflows.complete(org, id)).toMatchObject({ status: "completed" });
      expect(await store.get(org, id)).toMatchObject({ version: 2, status: "completed", eventCount: 2 });
      expect((await store.timeline(org, id)).map((event) => event.type)).toEqual(["session.created", "session.completed"]);
    }

    /**
     * Creates a workflow, has `lock` (on a second connection, in an open transaction) set up what
     * its completion must wait for, starts the completion through the engine, lets `whileBlocked`
     * look at the blocked backend, terminates it, and checks that nothing of the completion was
     * written and that the engine's next attempt completes the workflow.
     */
    async function interruptCompletion(
      lock: (locker: pg.PoolClient, id: string) => Promise<unknown>,
      whileBlocked: (id: string) => Promise<void> = async () => {},
    ): Promise<void> {
      const engine = createEngine({ store });
      const { id } = await engine.workflows.create(org, { name: "fault" });
      const locker = await admin.connect();
      try {
        await locker.query("BEGIN");
        await lock(locker, id);
        const transition = engine.workflows.complete(org, id).then(
          () => "completed",
          (error: Error) => error.message,
        );
        const victim = await blockedBy(locker);
        await whileBlocked(id);
        await terminate(victim);
        expect(await transition).toMatch(/terminat/i);
        await locker.query("ROLLBACK");
      } finally {
        locker.release();
      }
      await expectUnchanged(id);
      await expectCompletedOnRetry(engine, id);
    }

    it("before its UPDATE: waiting for the record's row lock", async () => {
      await interruptCompletion((locker, id) => locker.query(`SELECT 1 FROM ${table("records")} WHERE id = $1 FOR UPDATE`, [id]));
    });

    it("after its UPDATE: the record rewritten, its event INSERT waiting on a conflicting row", async () => {
      await interruptCompletion(
        // An uncommitted event with the seq the transition's event will take: that INSERT must
        // wait to learn whether this row commits, after the same statement updated the record.
        (locker, id) =>
          locker.query(
            `INSERT INTO ${table("events")} (org_id, record_id, seq, id, kind, type, at, payload) VALUES ($1, $2, 2, 'evt_x', 'workflow', 'x', 0, '{}')`,
            [org, id],
          ),
        async (id) => {
          // The blocked backend holds the record's row lock: its UPDATE ran, the transition is half done.
          const probe = await sql`SELECT 1 FROM ${sql.table(`${database.schema}.fault_records`)} WHERE id = ${id} FOR UPDATE NOWAIT`
            .execute(database.db)
            .then(() => "free", (error: { code?: string }) => error.code);
          expect(probe).toBe("55P03"); // lock_not_available
        },
      );
    });
  });
}
