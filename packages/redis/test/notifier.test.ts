// Two engines on one Redis store, each with its own connections: a write on one wakes the
// other's listeners through Redis pub/sub, and nothing is lost or repeated.
import { createEngine, type SessionEvent } from "@agent-sessions/core";
import { createRedisNotifier, RedisStore } from "@agent-sessions/redis";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { deleteKeys, describeUnreachable, LOCAL_REDIS, localRedisReachable, randomPrefix } from "./support/redis.js";

if (await localRedisReachable()) {
  describe("Redis notifier", () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** One instance: its own client, store, notifier and engine, on a shared prefix and channel. */
    function instance(prefix: string) {
      const client = new Redis(LOCAL_REDIS);
      const notifier = createRedisNotifier({ client, channel: `${prefix}:notify` });
      const engine = createEngine({ store: new RedisStore({ client, prefix }), notifier });
      cleanups.push(async () => {
        await engine.stop();
        await notifier.close();
        await client.quit();
      });
      return { client, engine, notifier };
    }

    it("wakes another instance's listeners for a write made here, once per event", async () => {
      const prefix = randomPrefix("notify");
      cleanups.push(async () => {
        const cleaner = new Redis(LOCAL_REDIS);
        await deleteKeys(cleaner, `*${prefix}*`);
        await cleaner.quit();
      });
      const writer = instance(prefix);
      const reader = instance(prefix);
      const heard: SessionEvent[] = [];
      reader.engine.events.on("*", (_type, event) => heard.push(event as SessionEvent));
      // Let the subscriber connect before the first write: a notification is a hint, not a queue.
      await new Promise((resolve) => setTimeout(resolve, 200));

      const org = "org_notify";
      const session = await writer.engine.workflows.create(org, { name: "across" });
      const inbox = await writer.engine.workflows.createInbox(org, session.id, { ttlSeconds: 600 });
      await writer.engine.workflows.postMessage(org, inbox.id, { from: "a@b.co", subject: "code", body: "Your code: 482913" });

      const deadline = Date.now() + 5000;
      while (heard.filter((event) => event.recordId === session.id).length < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const mine = heard.filter((event) => event.recordId === session.id);
      expect(mine.map((event) => event.type)).toEqual(["session.created", "inbox.created", "message.received"]);
      expect(mine.map((event) => event.seq)).toEqual([1, 2, 3]);
    });

    it("refuses an empty channel by name, and ignores foreign messages on its channel", async () => {
      const client = new Redis(LOCAL_REDIS);
      cleanups.push(() => client.quit());
      expect(() => createRedisNotifier({ client, channel: "" })).toThrow(/channel/);
      const channel = `${randomPrefix("foreign")}:notify`;
      const notifier = createRedisNotifier({ client, channel });
      cleanups.push(() => notifier.close());
      const heard: unknown[] = [];
      notifier.subscribe((...args) => heard.push(args));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.publish(channel, "not json");
      await client.publish(channel, JSON.stringify({ orgId: "x" }));
      await notifier.publish("org_a", "wf_1", 4);
      const deadline = Date.now() + 3000;
      while (heard.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(heard).toEqual([["org_a", "wf_1", 4]]);
    });
  });
} else {
  describeUnreachable("Redis notifier");
}
