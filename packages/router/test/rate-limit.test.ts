import { createEngine, createMemoryRateLimiter, type RateLimiter } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { addressBucket, createRouter, DEFAULT_RATE_LIMITS, type RouterOptions } from "@agent-sessions/router";
import { describe, expect, it } from "vitest";

const ORG = "org_00000000000000000000000000000001";
const KEY = "rate_limit_key_0123456789abcdef0123";
const OTHER_KEY = "rate_limit_key_other_456789abcdef0123";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);

/** A memory limiter whose clock the test moves: no test here sleeps. */
function clockedLimiter(clock: { now: number }): RateLimiter {
  const limiter = createMemoryRateLimiter();
  return { take: (rule, key) => limiter.take(rule, key, clock.now) };
}

/**
 * A router whose client address is the test's `x-test-client` header, standing in for the socket
 * address a server adapter gives (no real deployment should read a header for it).
 */
function setup(options: Partial<RouterOptions> = {}) {
  const clock = { now: T0 };
  const store = new MemoryStore();
  const engine = createEngine({ store, clock: () => clock.now });
  const errors: unknown[] = [];
  const router = createRouter({
    engine,
    apiKeys: [
      { orgId: ORG, key: KEY },
      { orgId: ORG, key: OTHER_KEY },
    ],
    clientAddress: (request) => request.headers.get("x-test-client"),
    rateLimit: { limiter: clockedLimiter(clock) },
    onError: (error) => errors.push(error),
    ...options,
  });
  const call = (path: string, init: { key?: string; from?: string; method?: string; body?: unknown } = {}) =>
    router.fetch(
      new Request(`http://localhost${path}`, {
        method: init.method ?? "GET",
        headers: {
          ...(init.key === undefined ? {} : { authorization: `Bearer ${init.key}` }),
          ...(init.from === undefined ? {} : { "x-test-client": init.from }),
          "content-type": "application/json",
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      }),
    );
  return { router, clock, store, engine, errors, call };
}

/** Sends `count` requests one after another and counts the statuses. */
async function statuses(count: number, send: () => Promise<Response>): Promise<Record<number, number>> {
  const seen: Record<number, number> = {};
  for (let i = 0; i < count; i++) {
    const response = await send();
    await response.arrayBuffer();
    seen[response.status] = (seen[response.status] ?? 0) + 1;
  }
  return seen;
}

describe("failed authentication, per client address", () => {
  it("answers the 21st bad key from one address with a 429, its headers and the JSON error body", async () => {
    const { call } = setup();
    expect(await statuses(20, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }))).toEqual({ 401: 20 });

    const refused = await call("/v1/forms", { key: "wrong", from: "203.0.113.9" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(refused.headers.get("retry-after")).toBe("3");
    expect(refused.headers.get("ratelimit-policy")).toBe('"auth-failures";q=20;w=60');
    expect(refused.headers.get("ratelimit")).toBe('"auth-failures";r=0;t=3');
    expect(await refused.json()).toEqual({
      error: "Too many requests",
      message: "too many requests with an invalid or missing API key from this address (more than 20 in 60 seconds); retry in 3 seconds",
    });
    // A missing key counts as a failure too.
    expect((await call("/v1/forms", { from: "203.0.113.9" })).status).toBe(429);
  });

  it("keeps addresses apart, lets a valid key from a blocked address through, and refills with time", async () => {
    const { call, clock } = setup();
    await statuses(25, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }));
    expect((await call("/v1/forms", { key: "wrong", from: "203.0.113.9" })).status).toBe(429);
    expect((await call("/v1/forms", { key: "wrong", from: "198.51.100.1" })).status).toBe(401);
    // The decision documented in the README: a valid key passes, so a neighbour behind one NAT
    // cannot lock its users out; a 128-bit key is not found by guessing, oracle or not.
    expect((await call("/v1/forms", { key: KEY, from: "203.0.113.9" })).status).toBe(200);
    clock.now += 2999;
    expect((await call("/v1/forms", { key: "wrong", from: "203.0.113.9" })).status).toBe(429);
    clock.now += 1;
    expect(await statuses(2, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }))).toEqual({ 401: 1, 429: 1 });
    clock.now += 60_000;
    expect(await statuses(21, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }))).toEqual({ 401: 20, 429: 1 });
  });

  it("counts the addresses of one IPv6 /64 as one client, and a mapped IPv4 address as that IPv4 address", async () => {
    const { call } = setup();
    for (let i = 0; i < 20; i++) await call("/v1/forms", { key: "wrong", from: `2001:db8:1:2::${(i + 1).toString(16)}` });
    expect((await call("/v1/forms", { key: "wrong", from: "2001:db8:1:2:ffff:ffff:ffff:ffff" })).status).toBe(429);
    expect((await call("/v1/forms", { key: "wrong", from: "2001:db8:1:3::1" })).status).toBe(401);
    await statuses(20, () => call("/v1/forms", { key: "wrong", from: "::ffff:192.0.2.7" }));
    expect((await call("/v1/forms", { key: "wrong", from: "192.0.2.7" })).status).toBe(429);
  });

  it("applies no per-address limit to a request whose address is unknown (the default reads srvx's request.ip)", async () => {
    const { call } = setup({ clientAddress: undefined });
    expect(await statuses(30, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }))).toEqual({ 401: 30 });
    const fromSrvx = setup({ clientAddress: undefined });
    const request = (ip: string) => Object.assign(new Request("http://localhost/v1/forms", { headers: { authorization: "Bearer wrong" } }), { ip });
    for (let i = 0; i < 20; i++) await fromSrvx.router.fetch(request("203.0.113.9"));
    expect((await fromSrvx.router.fetch(request("203.0.113.9"))).status).toBe(429);
    // A forwarded header is nobody's address unless the embedder's clientAddress reads it.
    const forwarded = new Request("http://localhost/v1/forms", { headers: { authorization: "Bearer wrong", "x-forwarded-for": "203.0.113.9" } });
    expect((await fromSrvx.router.fetch(forwarded)).status).toBe(401);
  });
});

describe("requests per key", () => {
  it("lets a key's burst of 2,000 through at one instant, refuses the 2,001st, and leaves other keys alone", async () => {
    const { call, clock } = setup();
    expect(await statuses(2000, () => call("/v1/forms", { key: KEY, from: "203.0.113.9" }))).toEqual({ 200: 2000 });
    const refused = await call("/v1/forms", { key: KEY, from: "203.0.113.9" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit-policy")).toBe('"per-key";q=2000;w=2');
    expect(refused.headers.get("ratelimit")).toBe('"per-key";r=0;t=1');
    expect((await refused.json()).message).toBe("too many requests with this API key (more than 2000 in 2 seconds); retry in 1 second");
    expect((await call("/v1/forms", { key: OTHER_KEY, from: "203.0.113.9" })).status).toBe(200);
    clock.now += 1;
    expect((await call("/v1/forms", { key: KEY, from: "203.0.113.9" })).status).toBe(200);
  });

  it("refuses before the body is read or anything is written", async () => {
    const { call, store } = setup({ rateLimit: { perKey: { limit: 2, windowSeconds: 60 }, limiter: clockedLimiter({ now: T0 }) } });
    expect((await call("/api/v1/sessions", { key: KEY, method: "POST", body: { name: "one" } })).status).toBe(201);
    expect((await call("/api/v1/sessions", { key: KEY, method: "POST", body: { name: "two" } })).status).toBe(201);
    const refused = await call("/api/v1/sessions", { key: KEY, method: "POST", body: { name: "three" } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-policy")).toBe('"per-key";q=2;w=60');
    expect((await store.list(ORG, { kind: "workflow", limit: 10 })).total).toBe(2);
  });

  it("counts a custom authenticator's requests per organization, or per the rateLimitKey its principal names", async () => {
    const byOrg = setup({
      apiKeys: undefined,
      authenticate: (request) => (request.headers.get("authorization") ? { orgId: ORG } : null),
      rateLimit: { perKey: { limit: 3, windowSeconds: 60 }, limiter: clockedLimiter({ now: T0 }) },
    });
    expect(await statuses(4, () => byOrg.call("/v1/forms", { key: "anything" }))).toEqual({ 200: 3, 429: 1 });
    const byUser = setup({
      apiKeys: undefined,
      authenticate: async (request) => ({ orgId: ORG, rateLimitKey: request.headers.get("authorization") ?? "" }),
      rateLimit: { perKey: { limit: 3, windowSeconds: 60 }, limiter: clockedLimiter({ now: T0 }) },
    });
    expect(await statuses(4, () => byUser.call("/v1/forms", { key: "user-1" }))).toEqual({ 200: 3, 429: 1 });
    expect((await byUser.call("/v1/forms", { key: "user-2" })).status).toBe(200);
  });
});

describe("anonymous requests (the hosted form page), per client address", () => {
  it("lets a burst of 200 page loads through, then answers a 429 page with its headers", async () => {
    const { call, router } = setup();
    const form = await (
      await call("/v1/forms", { key: KEY, method: "POST", body: { name: "Intake", fields: [{ name: "email", type: "email" }] } })
    ).json();
    const session = await (await call(`/v1/forms/${form.id}/sessions`, { key: KEY, method: "POST", body: {} })).json();
    const load = (from: string) => router.fetch(new Request(`http://localhost/f/${session.id}`, { headers: { "x-test-client": from } }));

    expect(await statuses(200, () => load("203.0.113.9"))).toEqual({ 200: 200 });
    const refused = await load("203.0.113.9");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toMatch(/^text\/html/);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit-policy")).toBe('"anonymous";q=200;w=10');
    expect(refused.headers.get("ratelimit")).toBe('"anonymous";r=0;t=1');
    const html = await refused.text();
    expect(html).toContain("<h1>Too many requests from your network</h1>");
    expect(html).toContain("Too many requests from this address (more than 200 in 10 seconds); retry in 1 second.");
    expect((await load("198.51.100.1")).status).toBe(200);
    // The OpenAPI document is key-less too, and answers in JSON.
    const document = await router.fetch(new Request("http://localhost/openapi.json", { headers: { "x-test-client": "203.0.113.9" } }));
    expect(document.status).toBe(429);
    expect((await document.json()).error).toBe("Too many requests");
  });
});

describe("settings", () => {
  it("turns every limit off with rateLimit: false", async () => {
    const { call } = setup({ rateLimit: false });
    expect(await statuses(300, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }))).toEqual({ 401: 300 });
  });

  it("takes per-rule settings, turns single rules off, and keeps the defaults for the others", async () => {
    const clock = { now: T0 };
    const { call } = setup({ rateLimit: { authFailures: { limit: 3, windowSeconds: 10 }, anonymous: false, limiter: clockedLimiter(clock) } });
    expect(await statuses(4, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }))).toEqual({ 401: 3, 429: 1 });
    const refused = await call("/v1/forms", { key: "wrong", from: "203.0.113.9" });
    expect(refused.headers.get("ratelimit-policy")).toBe('"auth-failures";q=3;w=10');
    expect(refused.headers.get("retry-after")).toBe("4");
    expect(await statuses(250, () => call("/openapi.json", { from: "203.0.113.9" }))).toEqual({ 200: 250 });
    expect(DEFAULT_RATE_LIMITS.perKey).toEqual({ limit: 2000, windowSeconds: 2 });
  });

  it("refuses a rule no bucket could follow when the router is made", () => {
    const engine = createEngine({ store: new MemoryStore() });
    const apiKeys = [{ orgId: ORG, key: KEY }];
    expect(() => createRouter({ engine, apiKeys, rateLimit: { perKey: { limit: 0, windowSeconds: 1 } } })).toThrow(
      "rateLimit.perKey.limit: must be a whole number from 1",
    );
    expect(() => createRouter({ engine, apiKeys, rateLimit: { anonymous: { limit: 10, windowSeconds: -1 } } })).toThrow(
      "rateLimit.anonymous.windowSeconds",
    );
  });

  it("waits for a limiter that answers with a promise", async () => {
    const limiter = createMemoryRateLimiter();
    const { call } = setup({
      rateLimit: { authFailures: { limit: 2, windowSeconds: 60 }, limiter: { take: async (rule, key) => limiter.take(rule, key, T0) } },
    });
    expect(await statuses(3, () => call("/v1/forms", { key: "wrong", from: "203.0.113.9" }))).toEqual({ 401: 2, 429: 1 });
  });

  it("reports a limiter that fails and lets the request through: its outage is not the API's", async () => {
    const failing: RateLimiter = {
      take: (rule) => {
        if (rule.name === "per-key") throw new Error("limiter down");
        return Promise.reject(new Error("limiter unreachable"));
      },
    };
    const { call, errors } = setup({ rateLimit: { limiter: failing } });
    expect((await call("/v1/forms", { key: KEY, from: "203.0.113.9" })).status).toBe(200);
    expect((await call("/v1/forms", { key: "wrong", from: "203.0.113.9" })).status).toBe(401);
    expect(errors.map((error) => (error as Error).message)).toEqual(["limiter down", "limiter unreachable"]);
  });
});

describe("addressBucket", () => {
  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["::FFFF:203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002::abcd", "2001:db8:1:2::/64"],
    ["[2001:db8::1]", "2001:db8:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
    ["not-an-address", "not-an-address"],
    ["1:2:3::4::5", "1:2:3::4::5"],
  ])("%s → %s", (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });
});
