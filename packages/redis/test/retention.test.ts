import { fixtures } from "@agent-sessions/core/testing";
import { bucketOf, RedisStore } from "@agent-sessions/redis";
import { expect, it } from "vitest";
import { useFileRedis } from "./support/servers.js";

const redis = useFileRedis();

const { next, orgId, seed } = fixtures;

it("gives only terminal records with no deadline a TTL, and removes them from lists when it runs out", async () => {
  const client = redis.connect();
  const store = new RedisStore({ client, prefix: "retention", retention: { terminalTtlSeconds: 1 } });
  const org = orgId();
  const bucket = `{retention:${String(bucketOf(org)).padStart(2, "0")}}:`;
  const recordKey = (id: string) => `${bucket}o:${org}:r:${id}`;
  const live = await seed(store, { orgId: org });
  const finished = await seed(store, { orgId: org });
  const reopened = await seed(store, { orgId: org });
  const waiting = await seed(store, { orgId: org });
  expect(await store.compareAndSet(next(finished, { status: "completed" }, ["session.completed"]))).toBe(true);
  expect(await store.compareAndSet(next(reopened, { status: "completed" }, ["session.completed"]))).toBe(true);
  expect(await store.compareAndSet(next({ ...reopened, version: 2, eventCount: 2 }, { status: "active" }, ["reopened"]))).toBe(true);
  // Terminal by status, but time still has work to do on it: live.
  expect(await store.compareAndSet(next(waiting, { status: "completed", dueAt: fixtures.T0 }, ["x"]))).toBe(true);

  const ttl = await client.pttl(recordKey(finished.id));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(1000);
  for (const record of [live, reopened, waiting]) expect(await client.pttl(recordKey(record.id))).toBe(-1);
  expect((await store.list(org, { kind: "workflow", limit: 10 })).total).toBe(4);

  await new Promise((resolve) => setTimeout(resolve, 1100));
  expect(await store.get(org, finished.id)).toBeNull();
  expect(await store.getUnscoped(finished.id)).toBeNull();
  const all = await store.list(org, { kind: "workflow", limit: 10 });
  expect(all.total).toBe(3);
  expect(all.records.map((record) => record.id).sort()).toEqual([live.id, reopened.id, waiting.id].sort());
  const completed = await store.list(org, { kind: "workflow", status: "completed", limit: 10 });
  expect(completed.records.map((record) => record.id)).toEqual([waiting.id]);
  expect(completed.total).toBe(1);
  expect(await store.timeline(org, finished.id)).toEqual([]);
  expect(await client.hexists(`${bucket}id`, finished.id)).toBe(0);
});
