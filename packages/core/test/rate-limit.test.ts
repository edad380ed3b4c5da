import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { checkRateLimitRule, createMemoryRateLimiter, type RateLimitRule } from "../src/index.js";
import { runRateLimiterConformance } from "../src/testing.js";

runRateLimiterConformance({ name: "memory", create: () => createMemoryRateLimiter(), test: vitest });

const T0 = 1_750_000_000_000;
const failures: RateLimitRule = { name: "auth-failures", limit: 20, windowSeconds: 60 };

describe("createMemoryRateLimiter", () => {
  it("keeps at most maxKeys buckets of a rule, forgetting the oldest, while an address rotator keeps coming", () => {
    const limiter = createMemoryRateLimiter({ maxKeys: 100 });
    expect(limiter.take(failures, "victim", T0)).toBe(0);
    for (let i = 0; i < 20; i++) limiter.take(failures, "steady", T0);
    expect(limiter.take(failures, "steady", T0)).toBe(3000);
    // 10,000 addresses, each one failure: none of them is full again within the minute.
    let refused = 0;
    for (let i = 0; i < 10_000; i++) if (limiter.take(failures, `rotating-${i}`, T0 + i) !== 0) refused++;
    expect(refused).toBe(0);
    expect(limiter.size).toBe(100);
    // The oldest buckets went: "steady" starts again with a full bucket.
    expect(limiter.take(failures, "steady", T0 + 10_000)).toBe(0);
    // The newest are still counted.
    for (let i = 1; i < 20; i++) limiter.take(failures, "rotating-9999", T0 + 10_000);
    expect(limiter.take(failures, "rotating-9999", T0 + 10_000)).toBeGreaterThan(0);
  });

  it("forgets a bucket once it is full again, as new keys arrive, without reaching maxKeys", () => {
    const limiter = createMemoryRateLimiter({ maxKeys: 1_000_000 });
    const rule: RateLimitRule = { name: "anonymous", limit: 200, windowSeconds: 10 };
    // 100 new keys a second, each used once, for ten minutes: a bucket is full 50 ms after its request.
    for (let i = 0; i < 60_000; i++) limiter.take(rule, `client-${i}`, T0 + i * 10);
    expect(limiter.size).toBeLessThan(10);
  });

  it("keeps a busy old bucket counted while idle ones around it go", () => {
    const limiter = createMemoryRateLimiter({ maxKeys: 1_000_000 });
    // One request refills in 10 s: "busy" stays in debt for the whole run, the others are full after each.
    const rule: RateLimitRule = { name: "per-key", limit: 10, windowSeconds: 100 };
    for (let i = 0; i < 10; i++) limiter.take(rule, "busy", T0);
    for (let i = 0; i < 2_000; i++) limiter.take(rule, `idle-${i}`, T0 + 1 + i * 20);
    expect(limiter.size).toBeLessThan(1_000);
    // 40 s later four requests have come back, not ten: the bucket was kept.
    const waits = [1, 2, 3, 4, 5].map(() => limiter.take(rule, "busy", T0 + 40_001));
    expect(waits).toEqual([0, 0, 0, 0, 9_999]);
  });

  it("refuses a maxKeys below 1", () => {
    expect(() => createMemoryRateLimiter({ maxKeys: 0 })).toThrow("maxKeys: must be a whole number from 1");
  });
});

describe("checkRateLimitRule", () => {
  it.each([
    [{ name: "Has Space", limit: 1, windowSeconds: 1 }, "perKey.name: must be 1 to 64 lowercase letters"],
    [{ name: 'q"uote', limit: 1, windowSeconds: 1 }, "perKey.name: must be"],
    [{ name: "ok", limit: 0, windowSeconds: 1 }, "perKey.limit: must be a whole number from 1"],
    [{ name: "ok", limit: 1.5, windowSeconds: 1 }, "perKey.limit: must be a whole number from 1"],
    [{ name: "ok", limit: 1, windowSeconds: 0 }, "perKey.windowSeconds: must be a number of seconds above 0"],
    [{ name: "ok", limit: 1, windowSeconds: Number.NaN }, "perKey.windowSeconds"],
    [{ name: "ok", limit: 1, windowSeconds: Number.POSITIVE_INFINITY }, "perKey.windowSeconds"],
  ])("refuses %j", (rule, message) => {
    expect(() => checkRateLimitRule(rule as RateLimitRule, "perKey")).toThrow(message);
  });

  it("accepts a sensible rule as it is", () => {
    expect(checkRateLimitRule(failures)).toBe(failures);
  });
});
