// A PostgreSQL backend terminated (pg_terminate_backend, from another connection) in the middle
// of a transition leaves the old state, never a part of the new one, and the engine's next
// attempt succeeds. Deterministic: the test waits until PostgreSQL reports the store's backend
// blocked by a lock the test holds, and only then terminates it.
import { type AnyKysely, guardPostgresPool, SqlStore } from "@agent-sessions/sql";
import { Kysely, PostgresDialect, sql } from "kysely";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Interruption, interruptCompletion, until } from "./faults.js";
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

    /** Holds the lock `take` takes on a connection of its own, and terminates the backend it blocks. */
    async function interruption(take: (locker: pg.PoolClient, id: string) => Promise<unknown>): Promise<Interruption<number>> {
      const locker = await admin.connect();
      const { rows } = await locker.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const lockerPid = rows[0]!.pid;
      return {
        async lock(id) {
          await locker.query("BEGIN");
          await take(locker, id);
        },
        async blocked() {
          let victim: number | undefined;
          await until(async () => {
            const found = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [lockerPid]);
            victim = found.rows[0]?.pid;
            return victim !== undefined;
          });
          return victim!;
        },
        async kill(pid) {
          // The server's error reaches the transition before the socket's end reaches the pool;
          // waiting for the pool to drop the client keeps the retry off the dead connection.
          const clients = storePool.totalCount;
          await admin.query("SELECT pg_terminate_backend($1)", [pid]);
          await until(() => storePool.totalCount < clients);
        },
        async unlock() {
          await locker.query("ROLLBACK");
          locker.release();
        },
      };
    }

    it("before its UPDATE: waiting for the record's row lock", async () => {
      await interruptCompletion(
        store,
        org,
        await interruption((locker, id) => locker.query(`SELECT 1 FROM ${table("records")} WHERE id = $1 FOR UPDATE`, [id])),
      );
    });

    it("after its UPDATE: the record rewritten, its event INSERT waiting on a conflicting row", async () => {
      // An uncommitted event with the seq the transition's event will take: that INSERT must
      // wait to learn whether this row commits, after the same statement updated the record.
      const conflicting = await interruption((locker, id) =>
        locker.query(
          `INSERT INTO ${table("events")} (org_id, record_id, seq, id, kind, type, at, payload) VALUES ($1, $2, 2, 'evt_x', 'workflow', 'x', 0, '{}')`,
          [org, id],
        ),
      );
      await interruptCompletion(store, org, {
        ...conflicting,
        async whileBlocked(_victim, id) {
          // The blocked backend holds the record's row lock: its UPDATE ran, the transition is half done.
          const probe = await sql`SELECT 1 FROM ${sql.table(`${database.schema}.fault_records`)} WHERE id = ${id} FOR UPDATE NOWAIT`
            .execute(database.db)
            .then(
              () => "free",
              (error: { code?: string }) => error.code,
            );
          expect(probe).toBe("55P03"); // lock_not_available
        },
      });
    });
  });
}
