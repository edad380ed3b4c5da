import { Cluster, Redis } from "ioredis";
import type { RedisClient } from "@agent-sessions/redis";
import { it } from "vitest";

/** The local Redis the conformance suite runs on. */
export const LOCAL_REDIS = { host: "127.0.0.1", port: 6379 };

/** A key prefix no other test run uses. */
export function randomPrefix(label: string): string {
  return `t-${label}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Whether the local Redis answers. Unreachable: under `CI=true` that is a failure (the caller
 * throws), elsewhere the caller skips and says so loudly.
 */
export async function localRedisReachable(): Promise<boolean> {
  const probe = new Redis({ ...LOCAL_REDIS, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  probe.on("error", () => {}); // the answer is the return value
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Marks a file's Redis tests as skipped or failed when the local Redis does not answer. */
export function describeUnreachable(what: string): void {
  const message = `${what}: Redis at ${LOCAL_REDIS.host}:${LOCAL_REDIS.port} is unreachable`;
  if (process.env.CI === "true") {
    it(message, () => {
      throw new Error(`${message} (CI=true: a Redis is required)`);
    });
    return;
  }
  console.warn(`\n!!! ${message}: SKIPPING these tests. Start redis-server to run them. !!!\n`);
  it.skip(message, () => {});
}

/** Deletes every key matching `pattern`, on each master of a cluster. */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      // One UNLINK a key: in a cluster the keys of one batch live in many slots.
      await Promise.all(keys.map((key) => node.unlink(key)));
      deleted += keys.length;
    } while (cursor !== "0");
  }
  return deleted;
}
