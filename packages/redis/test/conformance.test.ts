import { runStoreConformance } from "@agent-sessions/core/testing";
import { RedisStore } from "@agent-sessions/redis";
import { Redis } from "ioredis";
import * as vitest from "vitest";
import { afterAll } from "vitest";
import { deleteKeys, describeUnreachable, dumpKeys, LOCAL_REDIS, localRedisReachable, randomPrefix } from "./support/redis.js";

if (await localRedisReachable()) {
  const client = new Redis(LOCAL_REDIS);
  afterAll(() => client.quit());
  await runStoreConformance({
    name: "redis",
    create: () => new RedisStore({ client, prefix: randomPrefix("conformance") }),
    destroy: async (store) => void (await deleteKeys(client, (store as RedisStore).keyPattern)),
    // Every key of the store's prefix with what it holds, one text a key.
    rawDump: async (store) => [...(await dumpKeys(client, (store as RedisStore).keyPattern))].map(([key, values]) => `${key}: ${values.join(" ")}`),
    test: vitest,
  });
} else {
  describeUnreachable("Redis store conformance");
}
