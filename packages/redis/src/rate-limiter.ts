import { bucketTimes, InvalidInputError, type RateLimiter, type RateLimitRule } from "@agent-sessions/core";
import { digest, type RedisClient } from "./commands.js";

/** Options of `createRedisRateLimiter`. */
export interface RedisRateLimiterOptions {
  /** An ioredis client (single server or Cluster); the caller closes it. */
  readonly client: RedisClient;
  /**
   * Starts every key: `<prefix>:rate:<rule>:<key>`. Every instance of one deployment gives the
   * same one, and no other deployment on the server does. Default: `"agent-sessions"`.
   */
  readonly prefix?: string;
}

/**
 * One request against one bucket, as `createMemoryRateLimiter` counts it (GCRA in whole
 * microseconds; the bucket is the microsecond at which it is full again). A bucket is one string
 * key that expires when it is full, so an idle client costs nothing. The numbers stay below 2^53,
 * where Lua's doubles are exact, and `%.0f` writes them back without the exponent `tostring` uses.
 */
const TAKE_SCRIPT = `
local nowUs = tonumber(ARGV[1])
local intervalUs = tonumber(ARGV[2])
local capacityUs = tonumber(ARGV[3])
local fullAt = tonumber(redis.call('GET', KEYS[1]))
if fullAt == nil or fullAt < nowUs then fullAt = nowUs end
fullAt = fullAt + intervalUs
local excess = fullAt - nowUs - capacityUs
if excess > 0 then return math.ceil(excess / 1000) end
redis.call('SET', KEYS[1], string.format('%.0f', fullAt), 'PX', math.ceil((fullAt - nowUs) / 1000))
return 0
`;

type TakeCommand = (key: string, nowUs: number, intervalUs: number, capacityUs: number) => Promise<number>;

/**
 * A rate limiter in Redis, for several instances that share their limits: each request is one
 * EVALSHA of a script that reads and writes one key, so it is atomic, and on a Redis Cluster each
 * bucket lives wherever its key hashes. Time is the caller's clock: instances keep theirs in step
 * (NTP) as they do for expiries. A request waits for Redis as every command of the client does;
 * give the client a `commandTimeout` to bound that.
 *
 * @example
 * const limiter = createRedisRateLimiter({ client, prefix: "app" });
 * const router = createRouter({ engine, apiKeys, rateLimit: { limiter } });
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  if (!options || typeof options !== "object" || !options.client) throw new InvalidInputError("client", "must be an ioredis client");
  const prefix = options.prefix ?? "agent-sessions";
  if (typeof prefix !== "string" || prefix.length === 0) throw new InvalidInputError("prefix", "must be a non-empty string");
  const name = `agentSessions_rateLimit_${digest(TAKE_SCRIPT)}`;
  const commands = options.client as unknown as Record<string, TakeCommand | undefined>;
  if (typeof commands[name] !== "function") options.client.defineCommand(name, { lua: TAKE_SCRIPT, numberOfKeys: 1 });
  const take = commands[name]!.bind(options.client);
  // Worked out once per rule object: a router passes the same three for its whole life.
  const times = new WeakMap<RateLimitRule, { intervalUs: number; capacityUs: number }>();
  return {
    async take(rule, key, now) {
      let bucket = times.get(rule);
      if (bucket === undefined) {
        bucket = bucketTimes(rule);
        times.set(rule, bucket);
      }
      return Number(await take(`${prefix}:rate:${rule.name}:${key}`, Math.floor(now * 1000), bucket.intervalUs, bucket.capacityUs));
    },
  };
}
