import { runRateLimiterConformance } from "@agent-sessions/core/testing";
import { createRedisRateLimiter } from "@agent-sessions/redis";
import { Redis } from "ioredis";
import * as vitest from "vitest";
import { afterAll, describe, expect, it } from "vitest";
import { deleteKeys, describeUnreachable, LOCAL_REDIS, localRedisReachable, randomPrefix } from "./support/redis.js";
import { useFileCluster } from "./support/servers.js";

const T0 = 1_750_000_000_000;
const prefixes = new WeakMap<object, string>();

if (await localRedisReachable()) {
  const client = new Redis(LOCAL_REDIS);
  const other = new Redis(LOCAL_REDIS);
  afterAll(async () => {
    await Promise.all([client.quit(), other.quit()]);
  });

  runRateLimiterConformance({
    name: "redis",
    create: () => {
      const prefix = randomPrefix("rate");
      const limiter = createRedisRateLimiter({ client, prefix });
      prefixes.set(limiter, prefix);
      return limiter;
    },
    destroy: async (limiter) => void (await deleteKeys(client, `${prefixes.get(limiter)}:rate:*`)),
    test: vitest,
  });

  describe("createRedisRateLimiter", () => {
    it("shares buckets between limiters on two connections with one prefix, and keeps prefixes apart", async () => {
      const prefix = randomPrefix("shared");
      const first = createRedisRateLimiter({ client, prefix });
      const second = createRedisRateLimiter({ client: other, prefix });
      const elsewhere = createRedisRateLimiter({ client: other, prefix: randomPrefix("elsewhere") });
      const rule = { name: "auth-failures", limit: 20, windowSeconds: 60 };
      try {
        const waits = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? first : second).take(rule, "203.0.113.9", T0)));
        expect(waits.filter((wait) => wait === 0)).toHaveLength(20);
        expect(await elsewhere.take(rule, "203.0.113.9", T0)).toBe(0);
      } finally {
        await deleteKeys(client, `${prefix}:rate:*`);
        await deleteKeys(client, "t-elsewhere-*:rate:*");
      }
    });

    it("keeps a bucket as one key that expires once the bucket is full again", async () => {
      const prefix = randomPrefix("expiry");
      const limiter = createRedisRateLimiter({ client, prefix });
      const rule = { name: "anonymous", limit: 200, windowSeconds: 10 };
      try {
        for (let i = 0; i < 3; i++) await limiter.take(rule, "198.51.100.7", Date.now());
        const keys = await client.keys(`${prefix}:*`);
        expect(keys).toEqual([`${prefix}:rate:anonymous:198.51.100.7`]);
        // Three requests refill in 150 ms.
        expect(await client.pttl(keys[0]!)).toBeGreaterThan(50);
        expect(await client.pttl(keys[0]!)).toBeLessThanOrEqual(150);
      } finally {
        await deleteKeys(client, `${prefix}:*`);
      }
    });

    it("refuses options it cannot use", () => {
      expect(() => createRedisRateLimiter({ client: undefined as unknown as Redis })).toThrow("client: must be an ioredis client");
      expect(() => createRedisRateLimiter({ client, prefix: "" })).toThrow("prefix: must be a non-empty string");
    });
  });
} else {
  describeUnreachable("Redis rate limiter");
}

describe("createRedisRateLimiter on a Redis Cluster", () => {
  const cluster = useFileCluster(3);

  it("counts buckets whose keys live on different masters", async () => {
    const limiter = createRedisRateLimiter({ client: cluster.client, prefix: randomPrefix("cluster-rate") });
    const rule = { name: "per-key", limit: 5, windowSeconds: 5 };
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    for (const key of keys) {
      const waits = await Promise.all(Array.from({ length: 7 }, () => limiter.take(rule, key, T0)));
      expect(waits.filter((wait) => wait === 0)).toHaveLength(5);
    }
    const holders = new Set<string>();
    for (const node of cluster.client.nodes("master")) if ((await node.dbsize()) > 0) holders.add(`${node.options.host}:${node.options.port}`);
    expect(holders.size).toBeGreaterThan(1);
  });
});
