import type { RedisClient } from "@agent-sessions/redis";
import { Cluster, Redis } from "ioredis";
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

/**
 * Every key matching `pattern`, on each master of a cluster, with what it holds as strings, one
 * an entry: a hash's `field value`, a set's member, a sorted set's `member score`, a list's
 * `index item`, a string's value. To find every trace of a record, or compare two moments.
 */
export async function dumpKeys(client: RedisClient, pattern: string): Promise<Map<string, string[]>> {
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  const dump = new Map<string, string[]>();
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const type = await node.type(key);
        if (type === "hash")
          dump.set(
            key,
            Object.entries(await node.hgetall(key)).map(([field, value]) => `${field} ${value}`),
          );
        else if (type === "set") dump.set(key, await node.smembers(key));
        else if (type === "zset") dump.set(key, pairs(await node.zrange(key, 0, -1, "WITHSCORES")));
        else if (type === "list")
          dump.set(
            key,
            (await node.lrange(key, 0, -1)).map((item, index) => `${index} ${item}`),
          );
        else if (type === "string") dump.set(key, [(await node.get(key)) ?? ""]);
      }
    } while (cursor !== "0");
  }
  return dump;
}

/** `[a, 1, b, 2]` as `["a 1", "b 2"]`. */
function pairs(flat: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < flat.length; i += 2) joined.push(`${flat[i]} ${flat[i + 1]}`);
  return joined;
}

/** Every entry of `dumpKeys` as one string with its key: the conformance suite's `rawDump`. */
export async function rawDump(client: RedisClient, pattern: string): Promise<string[]> {
  return [...(await dumpKeys(client, pattern))].flatMap(([key, entries]) => entries.map((entry) => `${key} ${entry}`));
}

/** The keys of a dump whose name or content mentions `text`. */
export function keysMentioning(dump: Map<string, string[]>, text: string): string[] {
  return [...dump].filter(([key, values]) => key.includes(text) || values.some((value) => value.includes(text))).map(([key]) => key);
}
