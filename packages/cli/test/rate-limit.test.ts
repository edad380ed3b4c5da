// serve's rate limits end to end: the real binary with its defaults and with --rate-limit off, two
// servers sharing their buckets through Redis, and the settings' flags and environment.
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { parseServeArgs, UsageError } from "../src/options.js";
import { type RunningServer, startServer } from "../src/serve.js";
import { run, serve } from "./binary.js";

const get = (url: string, key: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/forms`, { headers: { authorization: `Bearer ${key}`, ...headers } });

async function statuses(count: number, send: () => Promise<Response>): Promise<Record<number, number>> {
  const seen: Record<number, number> = {};
  for (let i = 0; i < count; i++) {
    const response = await send();
    await response.arrayBuffer();
    seen[response.status] = (seen[response.status] ?? 0) + 1;
  }
  return seen;
}

const optionsOf = (args: string[], env: Record<string, string> = {}) => {
  const parsed = parseServeArgs(["--store", "memory", ...args], env);
  if (parsed.help) throw new Error("unexpected help");
  return parsed.options;
};

const inProcess: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(inProcess.splice(0).map((server) => server.close(0)));
});

describe("agent-sessions serve: rate limits", () => {
  it("answers the 21st bad key from one client with a 429 by default, and lets a valid key through", async () => {
    const { url } = await serve(["--port", "0", "--api-key", "org:good-key"]);
    expect(await statuses(20, () => get(url, "wrong"))).toEqual({ 401: 20 });
    const refused = await get(url, "wrong");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(refused.headers.get("retry-after")).toMatch(/^[1-3]$/);
    expect(refused.headers.get("ratelimit-policy")).toBe('"auth-failures";q=20;w=60');
    expect(refused.headers.get("ratelimit")).toMatch(/^"auth-failures";r=0;t=[1-3]$/);
    expect(await refused.json()).toMatchObject({ error: "Too many requests" });
    expect((await get(url, "good-key")).status).toBe(200);
  });

  it("answers every bad key with a 401 under --rate-limit off", async () => {
    const { url, banner } = await serve(["--port", "0", "--api-key", "org:good-key", "--rate-limit", "off"]);
    expect(banner).toContain("Rate limits: off");
    expect(await statuses(30, () => get(url, "wrong"))).toEqual({ 401: 30 });
  });

  it("takes per-rule limits from AGENT_SESSIONS_RATE_LIMIT", async () => {
    const { url } = await serve(["--port", "0", "--api-key", "org:good-key"], { AGENT_SESSIONS_RATE_LIMIT: "auth-failures=3/60,per-key=5/60" });
    expect(await statuses(4, () => get(url, "wrong"))).toEqual({ 401: 3, 429: 1 });
    expect(await statuses(6, () => get(url, "good-key"))).toEqual({ 200: 5, 429: 1 });
    const refused = await get(url, "good-key");
    expect(refused.headers.get("ratelimit-policy")).toBe('"per-key";q=5;w=60');
  });

  it("ignores X-Forwarded-For unless --trust-proxy names the proxy it comes from", async () => {
    const mine = await startServer(optionsOf(["--port", "0", "--api-key", "org:k", "--rate-limit", "auth-failures=3/60"]));
    inProcess.push(mine);
    const from = (address: string) => () => get(mine.url, "wrong", { "x-forwarded-for": address });
    expect(await statuses(3, from("203.0.113.1"))).toEqual({ 401: 3 });
    // Every request came from this test's socket, whatever the header said.
    expect((await from("203.0.113.2")()).status).toBe(429);

    const proxied = await startServer(
      optionsOf(["--port", "0", "--api-key", "org:k", "--rate-limit", "auth-failures=3/60", "--trust-proxy", "loopback"]),
    );
    inProcess.push(proxied);
    const via = (address: string) => () => get(proxied.url, "wrong", { "x-forwarded-for": address });
    expect(await statuses(4, via("203.0.113.1"))).toEqual({ 401: 3, 429: 1 });
    expect((await via("203.0.113.2")()).status).toBe(401);
  });

  it("shares its buckets with every server on the same Redis store", async () => {
    const prefix = `t-serve-rate-${Math.random().toString(36).slice(2, 10)}`;
    const store = `redis://127.0.0.1:6379?prefix=${prefix}`;
    const redis = new Redis({ host: "127.0.0.1", port: 6379 });
    try {
      const first = await startServer(optionsOf(["--port", "0", "--api-key", "org:k", "--store", store]));
      inProcess.push(first);
      const second = await startServer(optionsOf(["--port", "0", "--api-key", "org:k", "--store", store]));
      inProcess.push(second);
      expect(await statuses(10, () => get(first.url, "wrong"))).toEqual({ 401: 10 });
      expect(await statuses(10, () => get(second.url, "wrong"))).toEqual({ 401: 10 });
      expect((await get(first.url, "wrong")).status).toBe(429);
      expect((await get(second.url, "wrong")).status).toBe(429);
      expect(await redis.keys(`${prefix}:rate:*`)).toEqual([`${prefix}:rate:auth-failures:127.0.0.1`]);
    } finally {
      await Promise.all(inProcess.splice(0).map((server) => server.close(0)));
      for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
        const keys = await redis.keys(pattern);
        if (keys.length > 0) await redis.del(...keys);
      }
      await redis.quit();
    }
  });
});

describe("agent-sessions serve: settings of its edges", () => {
  it("reads --rate-limit and AGENT_SESSIONS_RATE_LIMIT, the flag first", () => {
    expect(optionsOf([]).rateLimit).toEqual({});
    expect(optionsOf(["--rate-limit", "off"]).rateLimit).toBe(false);
    expect(optionsOf(["--rate-limit", "on"]).rateLimit).toEqual({});
    expect(optionsOf(["--rate-limit", "per-key=5000/2,anonymous=off", "--rate-limit", "auth-failures=10/30s"]).rateLimit).toEqual({
      perKey: { limit: 5000, windowSeconds: 2 },
      anonymous: false,
      authFailures: { limit: 10, windowSeconds: 30 },
    });
    expect(optionsOf([], { AGENT_SESSIONS_RATE_LIMIT: "off" }).rateLimit).toBe(false);
    expect(optionsOf(["--rate-limit", "on"], { AGENT_SESSIONS_RATE_LIMIT: "off" }).rateLimit).toEqual({});
  });

  it.each([
    [
      ["--rate-limit", "sometimes"],
      "--rate-limit: 'sometimes' is not off, on, or <rule>=<limit>/<seconds> or <rule>=off with a rule of auth-failures, per-key, anonymous",
    ],
    [["--rate-limit", "per-ip=5/1"], "--rate-limit: 'per-ip=5/1' is not off, on"],
    [["--rate-limit", "per-key=0/1"], "--rate-limit: 'per-key=0/1' needs a limit of at least 1"],
    [["--rate-limit", "per-key=5/0"], "--rate-limit: 'per-key=5/0' needs a limit of at least 1 and a window above 0"],
    [["--allowed-hosts", "https://forms.example.com"], "--allowed-hosts: 'https://forms.example.com' is not a host"],
    [["--allowed-hosts", "*"], "--allowed-hosts: '*' is not a host"],
    [["--trust-proxy", "my-proxy"], "--trust-proxy: 'my-proxy' is not an IP address; give loopback or the addresses of your proxies"],
  ])("refuses %j", (args, message) => {
    expect(() => optionsOf(args)).toThrow(UsageError);
    expect(() => optionsOf(args)).toThrow(message);
  });

  it("reads --allowed-hosts and --trust-proxy, or their environment variables", () => {
    expect(optionsOf([]).allowedHosts).toEqual([]);
    expect(optionsOf(["--allowed-hosts", " a.example , b.example:8080 "]).allowedHosts).toEqual(["a.example", "b.example:8080"]);
    expect(optionsOf([], { AGENT_SESSIONS_ALLOWED_HOSTS: ".corp.example" }).allowedHosts).toEqual([".corp.example"]);
    expect(optionsOf([]).trustProxy).toBe(false);
    expect(optionsOf(["--trust-proxy", "loopback"]).trustProxy).toBe("loopback");
    expect(optionsOf([], { AGENT_SESSIONS_TRUST_PROXY: "10.0.0.1, ::1" }).trustProxy).toEqual(["10.0.0.1", "::1"]);
    expect(() => optionsOf([], { AGENT_SESSIONS_TRUST_PROXY: "nope" })).toThrow("AGENT_SESSIONS_TRUST_PROXY: 'nope' is not an IP address");
  });

  it("documents every new flag and variable in serve --help", async () => {
    const { stdout } = await run(["serve", "--help"]);
    for (const text of [
      "--allowed-hosts",
      "--rate-limit",
      "--trust-proxy",
      "AGENT_SESSIONS_ALLOWED_HOSTS",
      "AGENT_SESSIONS_RATE_LIMIT",
      "AGENT_SESSIONS_TRUST_PROXY",
      "auth-failures=20/60",
    ]) {
      expect(stdout).toContain(text);
    }
  });
});
