// A MariaDB/MySQL connection killed (KILL, from another connection) in the middle of a
// transition's transaction leaves the old state, never a part of the new one, and the engine's
// next attempt succeeds. Here a transition is several statements, so "in the middle" is literal:
// the second case kills it after its UPDATE ran, while its event INSERT waits. Deterministic: the
// test waits until InnoDB reports the store's connection waiting for a lock the test holds.
import { SqlStore } from "@agent-sessions/sql";
import { Kysely, MysqlDialect, sql } from "kysely";
import type mysql from "mysql2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Interruption, interruptCompletion, until } from "./faults.js";
import { mysqlPool, openTestDatabase } from "./servers.js";

const database = await openTestDatabase("mysql");

if (database) {
  describe("MariaDB/MySQL: a connection killed mid-transition", () => {
    let storePool: mysql.Pool;
    let admin: mysql.Pool;
    let store: SqlStore;
    let name: string;
    const org = "org_fault";

    beforeAll(async () => {
      const { rows } = await sql<{ name: string }>`SELECT DATABASE() AS name`.execute(database.db);
      name = rows[0]!.name;
      storePool = mysqlPool({ database: name, connectionLimit: 2 });
      admin = mysqlPool({ database: name, connectionLimit: 3 });
      store = new SqlStore(new Kysely<any>({ dialect: new MysqlDialect({ pool: storePool }) }), {
        dialect: "mysql",
        tablePrefix: "fault_",
        destroyOnClose: true,
      });
      await store.migrate();
    });
    afterAll(async () => {
      await store.close();
      await admin.promise().end();
    });

    /** The pool's connections: mysql2 keeps them in a private queue, read here to wait for a removal. */
    const connections = () => (storePool as unknown as { _allConnections: { length: number } })._allConnections.length;

    /**
     * Holds the lock `take` takes on a connection of its own; the blocked connection is the one
     * of this file's database running `statement` (which cannot finish while the lock is held).
     * PROCESSLIST is asked rather than INNODB_TRX, which on MariaDB does not always list a
     * transaction waiting on a duplicate-key check.
     */
    async function interruption(
      take: (locker: mysql.PoolConnection, id: string) => Promise<unknown>,
      statement: string,
    ): Promise<Interruption<number>> {
      const locker = await new Promise<mysql.PoolConnection>((resolve, reject) =>
        admin.getConnection((error, connection) => (error ? reject(error) : resolve(connection))),
      );
      const query = (text: string, values: unknown[] = []) => locker.promise().query(text, values);
      return {
        async lock(id) {
          await query("BEGIN");
          await take(locker, id);
        },
        async blocked() {
          let victim: number | undefined;
          await until(async () => {
            const [rows] = await admin
              .promise()
              .query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND INFO LIKE ?", [
                name,
                `${statement}%`,
              ]);
            victim = (rows as Array<{ id: number }>)[0]?.id;
            return victim !== undefined;
          });
          return victim!;
        },
        async kill(id) {
          const before = connections();
          await admin.promise().query(`KILL ${Number(id)}`);
          await until(() => connections() < before);
        },
        async unlock() {
          await query("ROLLBACK");
          locker.release();
        },
      };
    }

    it("before its UPDATE: waiting for the record's row lock", async () => {
      await interruptCompletion(
        store,
        org,
        await interruption(
          (locker, id) => locker.promise().query("SELECT 1 FROM fault_records WHERE id = ? FOR UPDATE", [id]),
          "UPDATE `fault_records`",
        ),
      );
    });

    it("after its UPDATE: the record rewritten in the open transaction, its event INSERT waiting", async () => {
      // An uncommitted event with the seq the transition's event will take: that INSERT waits to
      // learn whether this row commits, after the transaction's UPDATE rewrote the record.
      const conflicting = await interruption(
        (locker, id) =>
          locker
            .promise()
            .query(
              "INSERT INTO fault_events (org_id, record_id, seq, id, kind, type, at, payload) VALUES (?, ?, 2, 'evt_x', 'workflow', 'x', 0, '{}')",
              [org, id],
            ),
        "INSERT INTO `fault_events`",
      );
      await interruptCompletion(store, org, {
        ...conflicting,
        async whileBlocked(_victim, id) {
          // The blocked transaction holds the record's row lock: its UPDATE ran.
          const probe = await admin
            .promise()
            .query("SELECT 1 FROM fault_records WHERE id = ? FOR UPDATE NOWAIT", [id])
            .then(
              () => "free",
              (error: { code?: string }) => error.code,
            );
          expect(probe).toMatch(/^ER_LOCK_WAIT_TIMEOUT$|^ER_LOCK_NOWAIT$/);
        },
      });
    });
  });
}
