import { fixtures, runStoreConformance } from "@agent-sessions/core/testing";
import { BUCKETS, bucketOf, RedisStore } from "@agent-sessions/redis";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { deleteKeys, dumpKeys, keysMentioning, randomPrefix } from "./support/redis.js";
import { useFileCluster } from "./support/servers.js";

// A real 3-master Redis Cluster, started for this file: every script must keep to one slot.
const cluster = useFileCluster(3);

await runStoreConformance({
  name: "redis cluster",
  create: () => new RedisStore({ client: cluster.client, prefix: randomPrefix("cluster") }),
  destroy: async (store) => void (await deleteKeys(cluster.client, (store as RedisStore).keyPattern)),
  test: vitest,
  // The cluster starts in beforeAll, after the tests are registered: no store can be made to read these from.
  capabilities: { unscopedReads: true, idempotency: true, notifier: true },
});

describe("Redis Cluster layout", () => {
  it("spreads organizations over buckets that live on different masters, and reads each back unscoped", async () => {
    const store = new RedisStore({ client: cluster.client, prefix: randomPrefix("spread") });
    // One organization per bucket.
    const orgs = new Map<number, string>();
    while (orgs.size < BUCKETS) {
      const org = fixtures.orgId();
      orgs.set(bucketOf(org), org);
    }
    const seeded = await Promise.all([...orgs.values()].map((org) => fixtures.seed(store, { orgId: org, dueAt: fixtures.T0 })));
    for (const record of seeded) expect(await store.getUnscoped(record.id)).toEqual(record);
    const masters = cluster.client.nodes("master");
    const holding = await Promise.all(masters.map(async (node) => (await node.keys(store.keyPattern)).length));
    expect(holding.filter((count) => count > 0).length).toBe(masters.length);
    const claims = await store.claimDue({ now: fixtures.T0, limit: 100, leaseMs: 1000, owner: "w" });
    expect(claims.map((claim) => claim.id).sort()).toEqual(seeded.map((record) => record.id).sort());
    await deleteKeys(cluster.client, store.keyPattern);
  });

  it("removes retained records with their aliases in every bucket, keeping an alias another record took", async () => {
    const store = new RedisStore({ client: cluster.client, prefix: randomPrefix("retain"), retention: { terminalTtlSeconds: 1 } });
    const orgs = new Map<number, string>();
    while (orgs.size < BUCKETS) {
      const org = fixtures.orgId();
      orgs.set(bucketOf(org), org);
    }
    const pairs = await Promise.all(
      [...orgs.values()].map(async (org) => {
        const finished = await fixtures.seed(store, { orgId: org }, { aliases: [`inb_${org}`] });
        const kept = await fixtures.seed(store, { orgId: org });
        expect(await store.compareAndSet({ ...fixtures.next(finished, { status: "completed" }, ["done"]), aliases: [`wait_${org}`] })).toBe(true);
        return { org, finished, kept };
      }),
    );
    // One alias moved to the live record by hand: retention must leave it be.
    const [moved] = pairs;
    await cluster.client.hset(
      `{${store.prefix}:${String(bucketOf(moved!.org)).padStart(2, "0")}}:o:${moved!.org}:a`,
      `inb_${moved!.org}`,
      moved!.kept.id,
    );

    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (const { org } of pairs) expect((await store.list(org, { kind: "workflow", limit: 10 })).total).toBe(1);
    const dump = await dumpKeys(cluster.client, store.keyPattern);
    for (const { org, finished, kept } of pairs) {
      expect(await store.resolveAlias(org, `wait_${org}`)).toBeNull();
      expect(await store.resolveAlias(org, `inb_${org}`)).toBe(org === moved!.org ? kept.id : null);
      expect(keysMentioning(dump, finished.id)).toEqual([]);
    }
    await deleteKeys(cluster.client, store.keyPattern);
  });

  it("settles an outbox message claimed through another store instance, only for its lease holder", async () => {
    const prefix = randomPrefix("settle");
    const claimer = new RedisStore({ client: cluster.client, prefix });
    const settler = new RedisStore({ client: cluster.client, prefix });
    const org = fixtures.orgId();
    const message = fixtures.outboxMessage(org);
    await fixtures.seed(claimer, { orgId: org }, { outbox: [message] });
    expect(await claimer.claimOutbox({ now: fixtures.T0, limit: 5, leaseMs: 1000, owner: "w1" })).toHaveLength(1);
    expect(await settler.settleOutbox(message.id, "w2", {})).toBe(false);
    expect(await settler.settleOutbox(message.id, "w1", { retryAt: fixtures.T0 + 10, error: "HTTP 500" })).toBe(true);
    const [again] = await settler.claimOutbox({ now: fixtures.T0 + 10, limit: 5, leaseMs: 1000, owner: "w2" });
    expect(again).toMatchObject({ id: message.id, attempts: 2, lastError: "HTTP 500", availableAt: fixtures.T0 + 10 });
    // The instance that did not claim it finds the lease, and renews it for its holder only.
    expect(await claimer.outboxLeases([message.id])).toEqual([{ id: message.id, attempts: 2, leaseOwner: "w2", leaseUntil: fixtures.T0 + 1010 }]);
    expect(await claimer.renewOutbox({ ids: [message.id], owner: "w1", now: fixtures.T0 + 500, leaseMs: 5000 })).toEqual([]);
    expect(await claimer.renewOutbox({ ids: [message.id], owner: "w2", now: fixtures.T0 + 500, leaseMs: 5000 })).toEqual([message.id]);
    expect(await settler.claimOutbox({ now: fixtures.T0 + 5499, limit: 5, leaseMs: 1000, owner: "w3" })).toEqual([]);
    expect(await claimer.settleOutbox(message.id, "w2", {})).toBe(true);
    expect(await claimer.claimOutbox({ now: fixtures.T0 + 99_999, limit: 5, leaseMs: 1000, owner: "w3" })).toEqual([]);
    await deleteKeys(cluster.client, claimer.keyPattern);
  });
});
