import { fixtures } from "@agent-sessions/core/testing";
import { preparePostgresStatements, SqlStore } from "@agent-sessions/sql";
import { Kysely, PostgresDialect } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { openTestDatabase, postgresPool } from "./servers.js";

const { next, orgId, outboxMessage, seed, T0 } = fixtures;

// The PostgreSQL store writes the compare-and-sets that arrive while one is in flight in one
// statement (`compareAndSetGroups`). The conformance suite proves their meaning; these tests prove
// that they are grouped, and what happens to a group's odd writes.

const database = await openTestDatabase("postgres");
if (database) {
  /** A store over a pool of its own that counts the group statements it sends. */
  async function countingStore() {
    const pool = await postgresPool({ max: 4 });
    const counted = { groups: 0, alone: 0 };
    const prepared = preparePostgresStatements({
      connect: async () => {
        const client = await pool.connect();
        return {
          query: (text: never, values?: unknown[]) => {
            const sql = typeof text === "string" ? text : (text as { text: string }).text;
            if (/^WITH v AS/.test(sql)) counted.groups++;
            else if (/^with "changed" as \(update/.test(sql)) counted.alone++;
            return client.query(text, values);
          },
          release: () => client.release(),
        };
      },
      end: () => pool.end(),
    });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: prepared }) });
    afterAll(() => db.destroy());
    const store = new SqlStore(db, { dialect: "postgres", schema: database!.schema!, tablePrefix: "g_" });
    await store.migrate();
    return { store, counted };
  }

  const { store, counted } = await countingStore();

  describe("PostgreSQL compare-and-sets with group commit", () => {
    it("writes a burst of writes to different records in a few statements, each with its events and outbox rows", async () => {
      const org = orgId();
      const records = await Promise.all(Array.from({ length: 60 }, () => seed(store, { orgId: org })));
      const before = { ...counted };
      const written = await Promise.all(
        records.map((stored, index) =>
          store.compareAndSet(next(stored, { status: "expired", dueAt: null }, ["session.expired"], [outboxMessage(org, T0 + index)])),
        ),
      );
      expect(written.every(Boolean)).toBe(true);
      // The first went alone; the rest waited for it and went together (the pool allows four at once).
      expect(counted.alone - before.alone).toBe(1);
      expect(counted.groups - before.groups).toBeGreaterThanOrEqual(1);
      expect(counted.groups - before.groups).toBeLessThanOrEqual(3);
      for (const stored of records) {
        expect(await store.get(org, stored.id)).toMatchObject({ version: 2, status: "expired", dueAt: null, eventCount: 2 });
        expect((await store.timeline(org, stored.id)).map((event) => event.type)).toEqual(["session.created", "session.expired"]);
      }
      const claimed = await store.claimOutbox({ now: T0 + 1_000, limit: 100, leaseMs: 1_000, owner: "w", topic: "webhook" });
      expect(claimed.filter((entry) => entry.orgId === org)).toHaveLength(60);
    });

    it("runs a record's second write of one group after the group: it loses, as it would after the first", async () => {
      const org = orgId();
      const [leader, twice, other] = await Promise.all([seed(store, { orgId: org }), seed(store, { orgId: org }), seed(store, { orgId: org })]);
      const [, first, second, third] = await Promise.all([
        store.compareAndSet(next(leader, {}, ["leader.moved"])), // goes alone; the rest wait for it together
        store.compareAndSet(next(twice, { status: "first" }, ["first.wrote"])),
        store.compareAndSet(next(twice, { status: "second" }, ["second.wrote"])),
        store.compareAndSet(next(other, {}, ["other.moved"])),
      ]);
      expect([first, second, third]).toEqual([true, false, true]);
      expect(await store.get(org, twice.id)).toMatchObject({ version: 2, status: "first" });
      expect((await store.timeline(org, twice.id)).map((event) => event.type)).toEqual(["session.created", "first.wrote"]);
    });

    it("when one write fails the group's statement, runs each alone: that write loses, the others are written", async () => {
      const org = orgId();
      const [leader, clashing, fine] = await Promise.all([seed(store, { orgId: org }), seed(store, { orgId: org }), seed(store, { orgId: org })]);
      // Its event takes the sequence number of the record's first event: the events' key refuses it.
      const clash = next(clashing, {}, ["clash.wrote"]);
      const clashWrite = { ...clash, events: clash.events.map((event) => ({ ...event, seq: 1 })) };
      const before = { ...counted };
      const [, lost, written] = await Promise.all([
        store.compareAndSet(next(leader, {}, ["leader.moved"])),
        store.compareAndSet(clashWrite),
        store.compareAndSet(next(fine, {}, ["fine.moved"])),
      ]);
      expect([lost, written]).toEqual([false, true]);
      expect(counted.groups - before.groups).toBe(1); // the group was tried, then its writes went alone
      expect(await store.get(org, clashing.id)).toMatchObject({ version: 1 });
      expect((await store.timeline(org, clashing.id)).map((event) => event.type)).toEqual(["session.created"]);
      expect((await store.timeline(org, fine.id)).map((event) => event.type)).toEqual(["session.created", "fine.moved"]);
    });

    it("sends a write with aliases alone, never in a group", async () => {
      const org = orgId();
      const [leader, named, other] = await Promise.all([seed(store, { orgId: org }), seed(store, { orgId: org }), seed(store, { orgId: org })]);
      const before = { ...counted };
      const results = await Promise.all([
        store.compareAndSet(next(leader, {}, ["leader.moved"])),
        store.compareAndSet({ ...next(named, {}, ["named.moved"]), aliases: ["grouped_alias"] }),
        store.compareAndSet(next(other, {}, ["other.moved"])),
      ]);
      expect(results).toEqual([true, true, true]);
      expect(await store.resolveAlias(org, "grouped_alias")).toBe(named.id);
      // The leader, the write with an alias, and the third, which was a group of one: each its own statement.
      expect({ alone: counted.alone - before.alone, groups: counted.groups - before.groups }).toEqual({ alone: 3, groups: 0 });
    });
  });
}
