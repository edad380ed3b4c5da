import ipaddr from "ipaddr.js";
import { InvalidInputError } from "./errors.js";

/**
 * One rate limit: a bucket of `limit` requests that refills evenly over `windowSeconds`, so a
 * client may spend `limit` at once and then `limit / windowSeconds` a second.
 */
export interface RateLimitRule {
  /** Keeps the rule's buckets apart from other rules' and names it in `RateLimit` headers. */
  readonly name: string;
  /** The bucket's size: the most requests at once. */
  readonly limit: number;
  /** Seconds in which an empty bucket fills up again. */
  readonly windowSeconds: number;
}

/**
 * Counts requests against rate limits, in one process or shared by several (Redis). `take`
 * counts one request in the bucket `key` of `rule` at `now` (milliseconds since the epoch) and
 * answers 0 when it may go ahead, else the milliseconds until it may, counting nothing. Of
 * callers racing for a bucket's last request, exactly one gets it.
 */
export interface RateLimiter {
  take(rule: RateLimitRule, key: string, now: number): number | Promise<number>;
}

/**
 * Refuses a rule that no bucket could follow: a name with spaces or quotes (it travels in
 * `RateLimit` headers and Redis keys), a limit that is not a whole number from 1, or a window
 * that is not a positive number of seconds.
 */
export function checkRateLimitRule(rule: RateLimitRule, field = "rateLimit"): RateLimitRule {
  if (typeof rule.name !== "string" || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(rule.name)) {
    throw new InvalidInputError(`${field}.name`, "must be 1 to 64 lowercase letters, digits, '-' or '_'");
  }
  if (!Number.isSafeInteger(rule.limit) || rule.limit < 1) throw new InvalidInputError(`${field}.limit`, "must be a whole number from 1");
  if (
    typeof rule.windowSeconds !== "number" ||
    !Number.isFinite(rule.windowSeconds) ||
    rule.windowSeconds <= 0 ||
    rule.windowSeconds > 86_400 * 366
  ) {
    throw new InvalidInputError(`${field}.windowSeconds`, "must be a number of seconds above 0, at most a year");
  }
  return rule;
}

/**
 * A rule's bucket in whole microseconds, so that every sum is exact (integers stay exact in a
 * double up to 2^53 µs, 285 years): the time one request takes to refill, and the bucket's size.
 * A window that does not divide evenly by the limit loses under a microsecond a request, and no
 * rule refills faster than a request a microsecond.
 */
export function bucketTimes(rule: RateLimitRule): { intervalUs: number; capacityUs: number } {
  const intervalUs = Math.max(1, Math.round((rule.windowSeconds * 1_000_000) / rule.limit));
  return { intervalUs, capacityUs: intervalUs * rule.limit };
}

/** Options of `createMemoryRateLimiter`. */
export interface MemoryRateLimiterOptions {
  /** The most buckets kept per rule; past it the oldest are forgotten. Default: 100 000. */
  readonly maxKeys?: number;
}

/** The in-memory rate limiter, which also tells how many buckets it holds. */
export interface MemoryRateLimiter extends RateLimiter {
  /** Buckets held across all rules: a full bucket is forgotten, so this is roughly the clients seen lately. */
  readonly size: number;
}

/**
 * One bucket, as the generic cell rate algorithm keeps it: the microsecond at which it is full
 * again ("theoretical arrival time"). An object mutated in place: a bare number in a Map is a new
 * heap number on every write, and this is written on every request.
 */
class Bucket {
  constructor(public fullAtUs: number) {}
}

/**
 * The rate limiter of one process: a token bucket per key, kept as the moment it is full again
 * (GCRA), so a bucket costs one number and one refill costs no timer. Memory stays bounded however many keys arrive (a client
 * rotating addresses): each new key first looks at the two oldest buckets, forgets them if they
 * are full (equal to no bucket at all) and moves them to the back otherwise, and past `maxKeys`
 * buckets of a rule the oldest go. Forgetting a bucket that is not full forgives its debt; a
 * client needs `maxKeys` keys of its own to force that, and each key had its own bucket anyway.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): MemoryRateLimiter {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new InvalidInputError("maxKeys", "must be a whole number from 1");
  const rules = new Map<string, RuleBuckets>();
  return {
    get size() {
      let size = 0;
      for (const entry of rules.values()) size += entry.buckets.size;
      return size;
    },
    take(rule, key, now) {
      let entry = rules.get(rule.name);
      if (entry === undefined) {
        entry = { rule, ...bucketTimes(rule), buckets: new Map() };
        rules.set(rule.name, entry);
      } else if (entry.rule !== rule) {
        // Another object under the same name: its times may differ (a rule is usually one object).
        Object.assign(entry, { rule }, bucketTimes(rule));
      }
      const { intervalUs, capacityUs, buckets } = entry;
      const nowUs = Math.floor(now * 1000);
      const bucket = buckets.get(key);
      const fullAtUs = (bucket === undefined || bucket.fullAtUs < nowUs ? nowUs : bucket.fullAtUs) + intervalUs;
      const excessUs = fullAtUs - nowUs - capacityUs;
      if (excessUs > 0) return Math.ceil(excessUs / 1000);
      if (bucket !== undefined) {
        bucket.fullAtUs = fullAtUs;
      } else {
        makeRoom(buckets, nowUs, maxKeys);
        buckets.set(key, new Bucket(fullAtUs));
      }
      return 0;
    },
  };
}

/** A rule's buckets, with its times worked out once. */
interface RuleBuckets {
  rule: RateLimitRule;
  intervalUs: number;
  capacityUs: number;
  readonly buckets: Map<string, Bucket>;
}

/** Before a new bucket: forgets or rotates the two oldest, then drops the oldest past `maxKeys - 1`. */
function makeRoom(buckets: Map<string, Bucket>, nowUs: number, maxKeys: number): void {
  let looked = 0;
  for (const [key, bucket] of buckets) {
    if (looked++ === 2) break;
    buckets.delete(key);
    if (bucket.fullAtUs > nowUs) buckets.set(key, bucket);
  }
  while (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!);
}

/**
 * The bucket of a client address, for limits per address. An IPv6 client owns at least a /64 and
 * can pick any address in it, so its bucket is the /64 (`2001:db8:1:2::/64`); an IPv4 address
 * mapped into IPv6 (`::ffff:203.0.113.9`, as a dual-stack socket reports it) is its IPv4 address.
 * Anything else, an IPv4 address or a text that is no address, counts as it is.
 */
export function addressBucket(address: string): string {
  if (!address.includes(":")) return address;
  let text = address.toLowerCase();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (!ipaddr.IPv6.isValid(text)) return text;
  const parsed = ipaddr.IPv6.parse(text);
  if (parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString();
  return `${parsed.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(":")}::/64`;
}
