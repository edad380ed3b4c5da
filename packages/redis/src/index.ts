export type { RedisClient } from "./commands.js";
export { BUCKETS, bucketOf } from "./keys.js";
export { createRedisNotifier, type RedisNotifier, type RedisNotifierOptions } from "./notifier.js";
export { type OpenRedisStoreOptions, openRedisStore, parseRedisUrl, type RedisTarget } from "./open.js";
export { createRedisRateLimiter, type RedisRateLimiterOptions } from "./rate-limiter.js";
export { RedisStore, type RedisStoreOptions } from "./redis-store.js";
export type { RetentionOptions } from "./retention.js";
