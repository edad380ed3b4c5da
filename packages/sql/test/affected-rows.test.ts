// MySQL's affected-rows trap: without the CLIENT_FOUND_ROWS flag, an UPDATE that writes the
// values a row already has reports 0 affected rows, and a compare-and-set reading that as "lost"
// would refuse a write that won. mysql2 sets the flag by default; a user's pool may not. The store
// always changes `version` (a reschedule `lease_owner`, and a renewal reads the rows it holds
// before it extends them), so it is right either way: proven here on a pool
// without the flag, first that the trap is real there, then the store's writes and the whole
// conformance suite.
import { fixtures, runStoreConformance } from "@agent-sessions/core/testing";
import { sql } from "kysely";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { openTestDatabase } from "./servers.js";

const { next, orgId, outboxMessage, seed, T0 } = fixtures;

const changedRows = await openTestDatabase("mysql", { mysql: { flags: ["-FOUND_ROWS"] } });
const foundRows = await openTestDatabase("mysql");

if (changedRows && foundRows) {
  describe("MySQL affected rows", () => {
    it("a pool without FOUND_ROWS reports an identical UPDATE as 0 rows, one with it as 1", async () => {
      const affected = async (db: typeof changedRows.db) => {
        await sql`CREATE TABLE IF NOT EXISTS trap (id int PRIMARY KEY, v int)`.execute(db);
        await sql`REPLACE INTO trap VALUES (1, 7)`.execute(db);
        const result = await sql`UPDATE trap SET v = 7 WHERE id = 1`.execute(db);
        return Number(result.numAffectedRows);
      };
      expect(await affected(changedRows.db)).toBe(0);
      expect(await affected(foundRows.db)).toBe(1);
    });

    for (const [name, database] of [
      ["without FOUND_ROWS", changedRows],
      ["with FOUND_ROWS", foundRows],
    ] as const) {
      it(`wins a compare-and-set that changes nothing but the version, ${name}`, async () => {
        const store = await database.store();
        const org = orgId();
        const stored = await seed(store, { orgId: org });
        expect(await store.compareAndSet(next(stored, {}, []))).toBe(true);
        expect(await store.get(org, stored.id)).toMatchObject({ version: 2, status: stored.status, data: stored.data });
        expect(await store.compareAndSet(next(stored, {}, []))).toBe(false);
      });

      it(`refuses a write that would not change the version, ${name}, which could otherwise change no row`, async () => {
        const store = await database.store();
        const stored = await seed(store, { orgId: orgId() });
        const same = { ...next(stored, {}, []), record: stored };
        await expect(store.compareAndSet(same)).rejects.toThrow("record.version: must be expectedVersion + 1 (2), got 1");
      });

      it(`reschedules an outbox message to the moment it already had, ${name}`, async () => {
        const store = await database.store();
        const org = orgId();
        const message = outboxMessage(org, T0);
        await seed(store, { orgId: org }, { outbox: [message] });
        await store.claimOutbox({ now: T0, limit: 1, leaseMs: 1000, owner: "a" });
        expect(await store.settleOutbox(message.id, "a", { retryAt: T0 })).toBe(true);
        const [again] = await store.claimOutbox({ now: T0, limit: 1, leaseMs: 1000, owner: "b" });
        expect(again).toMatchObject({ id: message.id, attempts: 2, availableAt: T0 });
      });

      it(`renews a lease to the moment it already runs until, ${name}`, async () => {
        const store = await database.store();
        const org = orgId();
        const message = outboxMessage(org, T0);
        await seed(store, { orgId: org }, { outbox: [message] });
        await store.claimOutbox({ now: T0, limit: 1, leaseMs: 1000, owner: "a" });
        expect(await store.renewOutbox({ ids: [message.id], owner: "a", now: T0, leaseMs: 1000 })).toEqual([message.id]);
        expect(await store.outboxLeases([message.id])).toEqual([{ id: message.id, attempts: 1, leaseOwner: "a", leaseUntil: T0 + 1000 }]);
      });
    }
  });

  await runStoreConformance({ name: "sql on MariaDB without FOUND_ROWS", create: () => changedRows.store(), destroy: () => {}, test: vitest });
}
