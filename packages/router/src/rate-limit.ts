import { addressBucket, checkRateLimitRule, createMemoryRateLimiter, type RateLimiter, type RateLimitRule } from "@agent-sessions/core";
import type { Principal } from "./auth.js";
import { HttpError } from "./http.js";

/** One rule's size: `limit` requests at once, refilled evenly over `windowSeconds`. */
export interface RateLimitSetting {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** The router's rate limits (`RouterOptions.rateLimit`); `false` turns one rule off. */
export interface RateLimitOptions {
  /**
   * Requests that fail authentication, per client address: past the limit they answer 429
   * instead of 401 until the bucket refills. A valid key from that address still passes.
   * Default: 20, refilled over a minute.
   */
  readonly authFailures?: RateLimitSetting | false;
  /**
   * Requests per API key (per organization with a custom `authenticate`, unless its principal
   * names a `rateLimitKey`). Default: 2,000 at once, refilled over 2 seconds (1,000 a second).
   */
  readonly perKey?: RateLimitSetting | false;
  /**
   * Requests that need no key (the hosted form page, the OpenAPI document), per client address.
   * Default: 200 at once, refilled over 10 seconds (20 a second).
   */
  readonly anonymous?: RateLimitSetting | false;
  /** Where the buckets are kept. Default: this process's memory; `createRedisRateLimiter` shares them between instances. */
  readonly limiter?: RateLimiter;
}

/** The default of each rule. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<"authFailures" | "perKey" | "anonymous", RateLimitSetting>> = Object.freeze({
  authFailures: Object.freeze({ limit: 20, windowSeconds: 60 }),
  perKey: Object.freeze({ limit: 2000, windowSeconds: 2 }),
  anonymous: Object.freeze({ limit: 200, windowSeconds: 10 }),
});

/** Finds the address a request came from, or `null` when it is unknown: then no per-address limit applies to it. */
export type ClientAddress = (request: Request) => string | null | undefined;

/**
 * The default `clientAddress`: `request.ip`, which srvx sets on every runtime it serves (the
 * socket's peer on Node; `X-Forwarded-For` only with srvx's own `trustProxy`), else `null`.
 */
export const requestIp: ClientAddress = (request) => {
  const ip = (request as { ip?: unknown }).ip;
  return typeof ip === "string" && ip !== "" ? ip : null;
};

/** One rule as the router applies it: the rule, its `RateLimit-Policy` value and its refusal. */
interface Limit {
  readonly rule: RateLimitRule;
  readonly policy: string;
  refusal(seconds: number): string;
}

/**
 * The router's rate limits, counted before anything reads a body or asks the store. A limiter
 * that fails is reported and lets the request through: a limiter outage must not become an API
 * outage. Each check returns a promise only when the limiter answers asynchronously.
 */
export class RateLimits {
  private constructor(
    private readonly limiter: RateLimiter,
    private readonly authFailureLimit: Limit | null,
    private readonly perKeyLimit: Limit | null,
    private readonly anonymousLimit: Limit | null,
    private readonly clientAddress: ClientAddress,
    private readonly report: (error: unknown, request: Request) => void,
  ) {}

  /** The limits `options` ask for, or `null` when they are off. */
  static create(
    options: RateLimitOptions | false | undefined,
    clientAddress: ClientAddress,
    report: (error: unknown, request: Request) => void,
  ): RateLimits | null {
    if (options === false) return null;
    const settings = options ?? {};
    const limit = (key: keyof typeof DEFAULT_RATE_LIMITS, name: string, what: string): Limit | null => {
      const setting = settings[key] ?? DEFAULT_RATE_LIMITS[key];
      if (setting === false) return null;
      const rule = checkRateLimitRule({ name, limit: setting.limit, windowSeconds: setting.windowSeconds }, `rateLimit.${key}`);
      const within = `more than ${rule.limit} in ${plural(rule.windowSeconds, "second")}`;
      return {
        rule,
        policy: `"${name}";q=${rule.limit};w=${Math.max(1, Math.ceil(rule.windowSeconds))}`,
        refusal: (seconds) => `${what} (${within}); retry in ${plural(seconds, "second")}`,
      };
    };
    const authFailures = limit("authFailures", "auth-failures", "too many requests with an invalid or missing API key from this address");
    const perKey = limit("perKey", "per-key", "too many requests with this API key");
    const anonymous = limit("anonymous", "anonymous", "too many requests from this address");
    if (!authFailures && !perKey && !anonymous) return null;
    return new RateLimits(settings.limiter ?? createMemoryRateLimiter(), authFailures, perKey, anonymous, clientAddress, report);
  }

  /** Counts an authenticated request against its key's bucket; throws (or rejects with) a 429 past it. */
  perKey(principal: Principal, request: Request): void | Promise<void> {
    if (this.perKeyLimit === null) return;
    return this.take(this.perKeyLimit, principal.rateLimitKey ?? principal.orgId, request);
  }

  /** Counts a request that failed authentication against its address; throws (or rejects with) a 429 past it. */
  authFailure(request: Request): void | Promise<void> {
    if (this.authFailureLimit === null) return;
    return this.byAddress(this.authFailureLimit, request);
  }

  /** Counts a request without a key against its address; throws (or rejects with) a 429 past it. */
  anonymous(request: Request): void | Promise<void> {
    if (this.anonymousLimit === null) return;
    return this.byAddress(this.anonymousLimit, request);
  }

  private byAddress(limit: Limit, request: Request): void | Promise<void> {
    const address = this.clientAddress(request);
    if (typeof address !== "string" || address === "") return;
    return this.take(limit, addressBucket(address), request);
  }

  private take(limit: Limit, key: string, request: Request): void | Promise<void> {
    let wait: number | Promise<number>;
    try {
      wait = this.limiter.take(limit.rule, key, Date.now());
    } catch (error) {
      this.report(error, request);
      return;
    }
    if (typeof wait === "number") {
      if (wait > 0) throw tooManyRequests(limit, wait);
      return;
    }
    return Promise.resolve(wait).then(
      (ms) => {
        if (typeof ms === "number" && ms > 0) throw tooManyRequests(limit, ms);
      },
      (error: unknown) => this.report(error, request),
    );
  }
}

/** The 429 of a rule, with `Retry-After` and the `RateLimit-Policy` and `RateLimit` fields of the IETF httpapi draft. */
function tooManyRequests(limit: Limit, waitMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpError(429, limit.refusal(seconds), {
    "retry-after": String(seconds),
    "ratelimit-policy": limit.policy,
    ratelimit: `"${limit.rule.name}";r=0;t=${seconds}`,
  });
}

function plural(count: number, unit: string): string {
  return `${count} ${count === 1 ? unit : `${unit}s`}`;
}
