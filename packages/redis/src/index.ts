export type { RedisClient } from "./commands.js";
export { BUCKETS, bucketOf } from "./keys.js";
export { openRedisStore, type OpenRedisStoreOptions, parseRedisUrl, type RedisTarget } from "./open.js";
export { RedisStore, type RedisStoreOptions } from "./redis-store.js";
export type { RetentionOptions } from "./retention.js";
export { createRedisNotifier, type RedisNotifier, type RedisNotifierOptions } from "./notifier.js";
export { createRedisRateLimiter, type RedisRateLimiterOptions } from "./rate-limiter.js";
