// Three engines on one Redis store: expiries recorded once and delivered, leases taken over, actions run.
import { runWorkerConformance } from "@agent-sessions/core/testing";
import { RedisStore } from "@agent-sessions/redis";
import { Redis } from "ioredis";
import * as vitest from "vitest";
import { afterAll } from "vitest";
import { httpReceiver } from "../../core/test/http-receiver.js";
import { deleteKeys, describeUnreachable, LOCAL_REDIS, localRedisReachable, randomPrefix } from "./support/redis.js";

if (await localRedisReachable()) {
  const client = new Redis(LOCAL_REDIS);
  afterAll(() => client.quit());
  runWorkerConformance({
    name: "redis",
    create: () => new RedisStore({ client, prefix: randomPrefix("worker") }),
    destroy: async (store) => void (await deleteKeys(client, (store as RedisStore).keyPattern)),
    receiver: httpReceiver,
    test: vitest,
  });
} else {
  describeUnreachable("Redis worker conformance");
}
