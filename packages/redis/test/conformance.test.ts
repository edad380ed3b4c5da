import { runStoreConformance } from "@agent-sessions/core/testing";
import { RedisStore } from "@agent-sessions/redis";
import { Redis } from "ioredis";
import * as vitest from "vitest";
import { afterAll } from "vitest";
import { deleteKeys, describeUnreachable, LOCAL_REDIS, localRedisReachable, randomPrefix, rawDump } from "./support/redis.js";

if (await localRedisReachable()) {
  const client = new Redis(LOCAL_REDIS);
  afterAll(() => client.quit());
  await runStoreConformance({
    name: "redis",
    create: () => new RedisStore({ client, prefix: randomPrefix("conformance") }),
    destroy: async (store) => void (await deleteKeys(client, (store as RedisStore).keyPattern)),
    test: vitest,
    rawDump: (store) => rawDump(client, (store as RedisStore).keyPattern),
  });
} else {
  describeUnreachable("Redis store conformance");
}
