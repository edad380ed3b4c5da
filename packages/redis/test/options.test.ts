import { InvalidInputError } from "@agent-sessions/core";
import { openRedisStore, parseRedisUrl, RedisStore } from "@agent-sessions/redis";
import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";

describe("parseRedisUrl", () => {
  it.each([
    ["redis://127.0.0.1:6379", { mode: "single", options: { host: "127.0.0.1", port: 6379 } }],
    ["redis://cache.internal", { mode: "single", options: { host: "cache.internal", port: 6379 } }],
    ["redis://:s%40cret@h:6380/3", { mode: "single", options: { host: "h", port: 6380, db: 3, password: "s@cret" } }],
    ["redis://app:pw@[::1]:7000", { mode: "single", options: { host: "::1", port: 7000, username: "app", password: "pw" } }],
    ["rediss://h:6380/1", { mode: "single", options: { host: "h", port: 6380, db: 1, tls: { servername: "h" } } }],
    [
      "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
      {
        mode: "cluster",
        nodes: [
          { host: "10.0.0.1", port: 7000 },
          { host: "10.0.0.2", port: 7001 },
        ],
        options: {},
      },
    ],
    ["rediss+cluster://u:p@a:7000", { mode: "cluster", nodes: [{ host: "a", port: 7000 }], options: { username: "u", password: "p", tls: {} } }],
  ])("reads %s", (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected);
  });

  it.each([
    ["", /url: must be a redis/],
    ["postgres://h:5432/db", /url: scheme must be redis:\/\//],
    ["127.0.0.1:6379", /url: scheme must be/],
    ["redis://h:99999", /url: port must be 1-65535/],
    ["redis://h:6379/zero", /url: database must be a whole number/],
    ["redis+cluster://a:7000,b", /url: cluster node must be host:port \(got "b"\)/],
    ["redis+cluster://a:7000/2", /url: a cluster URL has no database/],
  ])("refuses %j, naming what is wrong", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(InvalidInputError);
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it("never repeats a password in an error", () => {
    expect(() => parseRedisUrl("redis://user:hunter2@h:0")).toThrow(/user:\*\*\*@/);
    expect(() => parseRedisUrl("redis://user:hunter2@h:0")).not.toThrow(/hunter2/);
  });
});

describe("RedisStore options", () => {
  const client = new Redis({ lazyConnect: true });

  it.each([
    ["an empty prefix", { client, prefix: "" }, /prefix: must be a non-empty string/],
    ["no prefix", { client }, /prefix: must be a non-empty string/],
    ["a prefix with braces", { client, prefix: "a{b}" }, /prefix: must be a non-empty string without '\{' or '\}'/],
    ["something else than a client", { client: {}, prefix: "p" }, /client: must be an ioredis Redis or Cluster client/],
    ["a retention of 0 s", { client, prefix: "p", retention: { terminalTtlSeconds: 0 } }, /retention.terminalTtlSeconds: must be a whole number/],
    ["a retention of 1.5 s", { client, prefix: "p", retention: { terminalTtlSeconds: 1.5 } }, /retention.terminalTtlSeconds/],
  ])("refuses %s, naming it", (_label, options, message) => {
    expect(() => new RedisStore(options as never)).toThrow(message);
  });

  it("refuses an organization id with ':' on write, naming it", async () => {
    const store = new RedisStore({ client, prefix: "p" });
    await expect(store.reserveIdempotencyKey("org:1", "k", { fingerprint: "f", expiresAt: 2, response: null }, 1)).rejects.toThrow(
      /orgId: must be a non-empty string without ':'/,
    );
  });
});

describe("openRedisStore", () => {
  it("makes a client of the URL's kind and quits it on close", async () => {
    const single = openRedisStore("redis://127.0.0.1:1/2", { prefix: "x", redisOptions: { lazyConnect: true } });
    expect(single.client).toBeInstanceOf(Redis);
    expect((single.client as Redis).options).toMatchObject({ host: "127.0.0.1", port: 1, db: 2 });
    const cluster = openRedisStore("redis+cluster://127.0.0.1:1,127.0.0.1:2", { clusterOptions: { lazyConnect: true } });
    expect(cluster.client).toBeInstanceOf(Cluster);
    expect(cluster.prefix).toBe("agent-sessions");
    await single.close();
    await cluster.close();
    expect(single.client.status).toBe("end");
    expect(cluster.client.status).toBe("end");
  });

  it("leaves a client it was given open", async () => {
    const client = new Redis({ lazyConnect: true });
    await new RedisStore({ client, prefix: "p" }).close();
    expect(client.status).toBe("wait");
  });

  it("refuses a bad prefix before connecting", () => {
    expect(() => openRedisStore("redis://127.0.0.1:1", { prefix: "{x}" })).toThrow(/prefix/);
  });

  it("takes the prefix from ?prefix=, unless the options name one", async () => {
    expect(parseRedisUrl("redis://127.0.0.1:1/3?prefix=app")).toMatchObject({ mode: "single", prefix: "app", options: { port: 1, db: 3 } });
    expect(parseRedisUrl("redis+cluster://127.0.0.1:1,127.0.0.1:2?prefix=app")).toMatchObject({ mode: "cluster", prefix: "app" });
    expect(() => parseRedisUrl("redis://127.0.0.1:1?prefx=app")).toThrow('query parameter "prefx" is not known');
    expect(() => parseRedisUrl("redis://127.0.0.1:1?prefix=")).toThrow(/prefix must be non-empty/);
    expect(() => parseRedisUrl("redis://u:secret@127.0.0.1:1?prefix={a}")).toThrow(/u:\*\*\*@/);
    const fromUrl = openRedisStore("redis://127.0.0.1:1?prefix=app", { redisOptions: { lazyConnect: true } });
    const fromOptions = openRedisStore("redis://127.0.0.1:1?prefix=app", { prefix: "other", redisOptions: { lazyConnect: true } });
    expect([fromUrl.prefix, fromOptions.prefix]).toEqual(["app", "other"]);
    await fromUrl.close();
    await fromOptions.close();
  });
});
