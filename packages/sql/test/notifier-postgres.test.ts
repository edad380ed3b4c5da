// Two engines on one PostgreSQL store, each with its own pool: a write on one wakes the other's
// listeners through LISTEN/NOTIFY, and a listening connection that is killed is replaced.
import { createEngine, type SessionEvent } from "@agent-sessions/core";
import { createPostgresNotifier, type SqlStore } from "@agent-sessions/sql";
import type pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { openTestDatabase, postgresPool, uniqueName } from "./servers.js";

const database = await openTestDatabase("postgres");

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

if (database) {
  describe("PostgreSQL notifier", () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function instance(channel: string, store: SqlStore) {
      const pool = await postgresPool({ max: 2 });
      const errors: Error[] = [];
      const notifier = createPostgresNotifier({ pool, channel, reconnectMs: 50, onError: (error) => errors.push(error) });
      const engine = createEngine({ store, notifier });
      cleanups.push(async () => {
        await engine.stop();
        await notifier.close();
        await pool.end();
      });
      return { pool, engine, notifier, errors };
    }

    async function listenerPid(pool: pg.Pool, channel: string): Promise<number | undefined> {
      // pg_stat_activity shows a listening connection's last query.
      const { rows } = await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE query = $1", [`LISTEN "${channel}"`]);
      return rows[0]?.pid;
    }

    it("wakes another instance's listeners for a write made here, once per event, and survives a killed connection", async () => {
      const store = await database.store();
      const channel = uniqueName("notify");
      const writer = await instance(channel, store);
      const reader = await instance(channel, store);
      const heard: SessionEvent[] = [];
      reader.engine.events.on("*", (_type, event) => heard.push(event as SessionEvent));
      await until(() => false, 300); // the LISTEN is in place before the first write

      const org = "org_notify";
      const session = await writer.engine.workflows.create(org, { name: "across" });
      const inbox = await writer.engine.workflows.createInbox(org, session.id, { ttlSeconds: 600 });
      const mine = () => heard.filter((event) => event.recordId === session.id);
      await until(() => mine().length >= 2);
      expect(mine().map((event) => [event.seq, event.type])).toEqual([
        [1, "session.created"],
        [2, "inbox.created"],
      ]);

      // Kill the listening connections: they are replaced, and later writes wake the reader again.
      const admin = await postgresPool({ max: 1 });
      cleanups.push(() => admin.end());
      expect(await listenerPid(admin, channel)).toBeDefined();
      // Both instances listen on the channel; kill every listener, the writer's included.
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1", [`LISTEN "${channel}"`]);
      await until(() => reader.errors.length > 0);
      expect(reader.errors.length).toBeGreaterThan(0);
      await until(() => false, 400); // reconnectMs 50, then LISTEN again
      expect(await listenerPid(admin, channel)).toBeDefined();

      await writer.engine.workflows.postMessage(org, inbox.id, { from: "a@b.co", subject: "code", body: "Your code: 482913" });
      await until(() => mine().length >= 3);
      expect(mine().map((event) => event.type)).toEqual(["session.created", "inbox.created", "message.received"]);
    });

    it("refuses a channel that is not an identifier, by name", async () => {
      const pool = await postgresPool({ max: 1 });
      cleanups.push(() => pool.end());
      expect(() => createPostgresNotifier({ pool, channel: 'x"; DROP TABLE y; --' })).toThrow(/channel/);
    });
  });
}
