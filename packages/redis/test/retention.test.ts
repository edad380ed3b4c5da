import { createEngine, NotFoundError } from "@agent-sessions/core";
import { fixtures } from "@agent-sessions/core/testing";
import { bucketOf, RedisStore } from "@agent-sessions/redis";
import { describe, expect, it } from "vitest";
import { dumpKeys, keysMentioning, randomPrefix } from "./support/redis.js";
import { useFileRedis } from "./support/servers.js";

const redis = useFileRedis();

const { next, orgId, seed } = fixtures;

/** Past a 1 s retention, with room for the server's clock. */
const pastRetention = () => new Promise((resolve) => setTimeout(resolve, 1100));

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

describe("aliases under retention", () => {
  /** A store with a 1 s retention on a prefix of its own, and the key names a test looks at. */
  function retainedStore(retention = true) {
    const client = redis.connect();
    const prefix = randomPrefix("aliases");
    const store = new RedisStore({ client, prefix, ...(retention ? { retention: { terminalTtlSeconds: 1 } } : {}) });
    const org = orgId();
    const key = (suffix: string) => `{${prefix}:${String(bucketOf(org)).padStart(2, "0")}}:o:${org}:${suffix}`;
    const remembered = (id: string) => key(`n:${id}`);
    return { client, store, org, key, aliasKey: key("a"), remembered, dump: () => dumpKeys(client, store.keyPattern) };
  }

  it("removes a retained workflow session's inbox and wait aliases with it, leaving no key that names it", async () => {
    const { client, store, org, aliasKey, remembered, dump } = retainedStore();
    const engine = createEngine({ store });
    const session = await engine.workflows.create(org, { name: "signup" });
    const inbox = await engine.workflows.createInbox(org, session.id, { ttlSeconds: 3600 });
    const wait = await engine.workflows.createWait(org, session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    const kept = await engine.workflows.create(org, { name: "kept" });
    const keptInbox = await engine.workflows.createInbox(org, kept.id, { ttlSeconds: 3600 });
    await engine.workflows.complete(org, session.id);
    expect(await store.resolveAlias(org, inbox.id)).toBe(session.id);
    expect((await client.smembers(remembered(session.id))).sort()).toEqual([inbox.id, wait.id].sort());

    await pastRetention();
    expect((await store.list(org, { kind: "workflow", limit: 10 })).records.map((record) => record.id)).toEqual([kept.id]);
    expect(await store.resolveAlias(org, inbox.id)).toBeNull();
    expect(await store.resolveAlias(org, wait.id)).toBeNull();
    await expect(engine.workflows.getInbox(org, inbox.id)).rejects.toThrow(NotFoundError);
    await expect(engine.workflows.getWait(org, wait.id)).rejects.toThrow(NotFoundError);
    expect(keysMentioning(await dump(), session.id)).toEqual([]);
    // The live session's alias is untouched.
    expect(await client.hgetall(aliasKey)).toEqual({ [keptInbox.id]: kept.id });
    await engine.close();
  });

  it("keeps an alias that another record took over meanwhile", async () => {
    const { client, store, org, aliasKey, dump } = retainedStore();
    const finished = await seed(store, { orgId: org }, { aliases: ["inb_moved", "inb_own"] });
    const other = await seed(store, { orgId: org });
    // The store never moves an alias itself; a hand edit or another writer may.
    await client.hset(aliasKey, "inb_moved", other.id);
    expect(await store.compareAndSet(next(finished, { status: "completed" }, ["session.completed"]))).toBe(true);

    await pastRetention();
    expect((await store.list(org, { kind: "workflow", limit: 10 })).total).toBe(1);
    expect(await store.resolveAlias(org, "inb_moved")).toBe(other.id);
    expect(await store.resolveAlias(org, "inb_own")).toBeNull();
    expect(keysMentioning(await dump(), finished.id)).toEqual([]);
  });

  it("removes a record written before aliases were remembered without error, its aliases left behind", async () => {
    const { client, store, org, aliasKey, remembered, dump } = retainedStore();
    const legacy = await seed(store, { orgId: org }, { aliases: ["inb_legacy"] });
    await client.del(remembered(legacy.id)); // as a store of an earlier version left it
    const current = await seed(store, { orgId: org }, { aliases: ["inb_current"] });
    expect(await store.compareAndSet(next(legacy, { status: "failed" }, ["session.failed"]))).toBe(true);
    expect(await store.compareAndSet(next(current, { status: "failed" }, ["session.failed"]))).toBe(true);

    await pastRetention();
    expect((await store.list(org, { kind: "workflow", limit: 10 })).total).toBe(0);
    expect(await store.get(org, legacy.id)).toBeNull();
    expect(await store.resolveAlias(org, "inb_current")).toBeNull();
    expect(keysMentioning(await dump(), current.id)).toEqual([]);
    // Nothing told this store the alias was the record's: it stays, the one trace of the record.
    expect(keysMentioning(await dump(), legacy.id)).toEqual([aliasKey]);
    expect(await store.resolveAlias(org, "inb_legacy")).toBe(legacy.id);
  });

  it("remembers aliases only where purge or retention may remove the record", async () => {
    const off = retainedStore(false);
    const finished = await seed(off.store, { orgId: off.org }, { aliases: ["inb_off"] });
    expect(await off.store.compareAndSet(next(finished, { status: "completed" }, ["session.completed"]))).toBe(true);
    // Without retention, purge may still remove it: its aliases are remembered, but it has no TTL.
    expect(await off.client.smembers(off.remembered(finished.id))).toEqual(["inb_off"]);
    expect(await off.client.pttl(off.key(`r:${finished.id}`))).toBe(-1);
    await pastRetention();
    expect((await off.store.list(off.org, { kind: "workflow", limit: 10 })).total).toBe(1);
    expect(await off.store.resolveAlias(off.org, "inb_off")).toBe(finished.id);

    // With retention, a workflow session remembers its aliases; a form (never removed) does not.
    const on = retainedStore();
    const session = await seed(on.store, { orgId: on.org }, { aliases: ["inb_on"] });
    const form = await seed(on.store, { orgId: on.org, kind: "form", status: "active" }, { aliases: ["form-slug:intake"] });
    expect([...(await on.dump()).keys()].filter((key) => key.includes(":n:"))).toEqual([on.remembered(session.id)]);
    expect(await on.client.smembers(on.remembered(session.id))).toEqual(["inb_on"]);
    expect(await on.store.resolveAlias(on.org, "form-slug:intake")).toBe(form.id);
  });
});
