import { openRedisStore, type RedisStore } from "@agent-sessions/redis";
import { afterAll, expect, it } from "vitest";
import { deleteKeys, describeUnreachable, LOCAL_REDIS, localRedisReachable, randomPrefix } from "../../../redis/test/support/redis.js";
import { runRouterFuzz } from "./harness.js";
import { knownFor } from "./known.js";

if (await localRedisReachable()) {
  const store: RedisStore = openRedisStore(`redis://${LOCAL_REDIS.host}:${LOCAL_REDIS.port}`, { prefix: randomPrefix("fuzz") });
  afterAll(async () => {
    await deleteKeys(store.client, store.keyPattern);
    await store.close();
  });
  it("answers 1000 generated and hostile requests on redis: no 5xx, one error shape, no write behind a refusal", async () => {
    const stats = await runRouterFuzz({ name: "redis", store, requests: 1000, known: knownFor("redis") });
    console.info(`router fuzz on redis: ${JSON.stringify(stats)}`);
    expect(stats.fiveHundreds).toBe(0);
  }, 240_000);
} else {
  describeUnreachable("router fuzz on Redis");
}
