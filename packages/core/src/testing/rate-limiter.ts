import type { RateLimiter, RateLimitRule } from "../rate-limit.js";
import type { TestRunner } from "./runner.js";

/** How a rate limiter's test file hands the suite its limiters. */
export interface RateLimiterConformanceOptions {
  /** Names the limiter in test titles. */
  readonly name: string;
  /** A fresh limiter with no buckets (its own key prefix), once per test. */
  readonly create: () => RateLimiter | Promise<RateLimiter>;
  /** Removes what `create` made. Default: nothing. */
  readonly destroy?: (limiter: RateLimiter) => void | Promise<void>;
  /** The test runner: `describe`, `it`, `expect`, `beforeEach`, `afterEach`. */
  readonly test: TestRunner;
}

const T0 = 1_750_000_000_000;

/**
 * The suite every rate limiter passes, on an injected clock: bursts up to the limit, even
 * refills, nothing counted for a refused request, buckets apart per key and per rule, and exactly
 * `limit` winners among concurrent callers.
 */
export function runRateLimiterConformance(options: RateLimiterConformanceOptions): void {
  const { describe, it, expect, beforeEach, afterEach } = options.test;
  describe(`RateLimiter conformance: ${options.name}`, () => {
    let limiter: RateLimiter;
    beforeEach(async () => {
      limiter = await options.create();
    });
    afterEach(async () => {
      await options.destroy?.(limiter);
    });

    const take = async (rule: RateLimitRule, key: string, now: number) => await limiter.take(rule, key, now);
    const takeMany = async (count: number, rule: RateLimitRule, key: string, now: number) => {
      const waits: number[] = [];
      for (let i = 0; i < count; i++) waits.push(await take(rule, key, now));
      return waits;
    };

    it("lets a burst of `limit` through at once, then says how long until the next", async () => {
      const rule = { name: "burst", limit: 20, windowSeconds: 60 };
      expect(await takeMany(20, rule, "a", T0)).toEqual(Array(20).fill(0));
      expect(await take(rule, "a", T0)).toBe(3000);
      expect(await take(rule, "a", T0 + 1000)).toBe(2000);
    });

    it("counts nothing for a refused request: refusals do not push the wait further", async () => {
      const rule = { name: "refused", limit: 2, windowSeconds: 10 };
      await takeMany(2, rule, "a", T0);
      expect(await takeMany(50, rule, "a", T0 + 1)).toEqual(Array(50).fill(4999));
      expect(await take(rule, "a", T0 + 5000)).toBe(0);
      expect(await take(rule, "a", T0 + 5000)).toBe(5000);
    });

    it("refills evenly: one request per `windowSeconds / limit`, never more than `limit` saved up", async () => {
      const rule = { name: "refill", limit: 4, windowSeconds: 2 };
      await takeMany(4, rule, "a", T0);
      expect(await take(rule, "a", T0 + 499)).toBe(1);
      expect(await take(rule, "a", T0 + 500)).toBe(0);
      expect(await take(rule, "a", T0 + 500)).toBe(500);
      // Idle for ten windows: the bucket holds `limit`, not ten times it.
      expect(await takeMany(4, rule, "a", T0 + 20_000)).toEqual([0, 0, 0, 0]);
      expect(await take(rule, "a", T0 + 20_000)).toBe(500);
    });

    it("keeps buckets apart per key and per rule", async () => {
      const first = { name: "first", limit: 1, windowSeconds: 60 };
      const second = { name: "second", limit: 1, windowSeconds: 60 };
      expect(await take(first, "a", T0)).toBe(0);
      expect(await take(first, "a", T0)).toBe(60_000);
      expect(await take(first, "b", T0)).toBe(0);
      expect(await take(second, "a", T0)).toBe(0);
      expect(await take(first, "a:b", T0)).toBe(0);
      expect(await take(first, "a", T0)).toBe(60_000);
    });

    it("lets exactly `limit` of a window that does not divide evenly through", async () => {
      const rule = { name: "uneven", limit: 3, windowSeconds: 1 };
      expect(await takeMany(3, rule, "a", T0)).toEqual([0, 0, 0]);
      expect(await take(rule, "a", T0)).toBe(334);
      const perKey = { name: "per-key", limit: 2000, windowSeconds: 2 };
      const waits = await takeMany(2001, perKey, "k", T0);
      expect(waits.filter((wait) => wait === 0)).toHaveLength(2000);
      expect(waits.at(-1)).toBe(1);
    });

    it("gives exactly `limit` of 60 concurrent callers the go-ahead", async () => {
      const rule = { name: "race", limit: 25, windowSeconds: 60 };
      const waits = await Promise.all(Array.from({ length: 60 }, () => take(rule, "shared", T0)));
      expect(waits.filter((wait) => wait === 0)).toHaveLength(25);
      expect(waits.filter((wait) => wait > 0).every((wait) => wait === 2400)).toBe(true);
    });

    it("judges by the time it is given: one before a bucket's last request refills nothing", async () => {
      const rule = { name: "skew", limit: 2, windowSeconds: 2 };
      expect(await take(rule, "a", T0 + 500)).toBe(0);
      // Another instance's clock is half a second behind: to it, the first request is still in the bucket.
      expect(await take(rule, "a", T0)).toBe(500);
      expect(await take(rule, "a", T0 + 500)).toBe(0);
      expect(await take(rule, "a", T0 + 500)).toBe(1000);
    });
  });
}
