// What serve says at start of its store's durability: each probe against the servers on this
// machine, the judges over the values they can read, and the warning lines of a real `serve`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlStore } from "@agent-sessions/sql";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { judgeMysql, judgePostgres, judgeRedis, judgeSqlite, probeRedisDurability, probeSqlDurability } from "../src/durability.js";
import { serve } from "./binary.js";
import { stop } from "./processes.js";

const dir = mkdtempSync(join(tmpdir(), "agent-sessions-durability-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POSTGRES = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL = "mysql://root@127.0.0.1:3306/test";
const REDIS = "redis://127.0.0.1:6379";

/** The setting and value of each finding, for comparing. */
const named = (findings: readonly { level: string; setting: string; value: string }[]) =>
  findings.map(({ level, setting, value }) => `${level} ${setting}=${value}`);

describe("judging the settings", () => {
  it.each([
    [0, ["warn synchronous=off"]],
    [1, ["warn synchronous=normal"]],
    [2, []],
    [3, []],
  ])("SQLite synchronous %i", (synchronous, expected) => {
    expect(named(judgeSqlite(synchronous))).toEqual(expected);
  });

  it.each([
    [{ synchronous_commit: "on", fsync: "on" }, []],
    [{ synchronous_commit: "local", fsync: "on" }, []],
    [{ synchronous_commit: "remote_apply", fsync: "on" }, []],
    [{ synchronous_commit: "off", fsync: "on" }, ["warn synchronous_commit=off"]],
    [{ synchronous_commit: "off", fsync: "off" }, ["warn fsync=off", "warn synchronous_commit=off"]],
  ])("PostgreSQL %j", (settings, expected) => {
    expect(named(judgePostgres(settings))).toEqual(expected);
  });

  it.each([
    [0, ["warn innodb_flush_log_at_trx_commit=0"]],
    [1, []],
    [2, ["warn innodb_flush_log_at_trx_commit=2"]],
    [3, []],
  ])("MySQL innodb_flush_log_at_trx_commit %i", (value, expected) => {
    expect(named(judgeMysql(value))).toEqual(expected);
  });

  it.each([
    [{ appendonly: "no", appendfsync: "always" }, ["warn appendonly=no"]],
    [{ appendonly: "yes", appendfsync: "always" }, []],
    [{ appendonly: "yes", appendfsync: "everysec" }, ["info appendfsync=everysec"]],
    [{ appendonly: "yes", appendfsync: "no" }, ["warn appendfsync=no"]],
  ])("Redis %j", (config, expected) => {
    expect(named(judgeRedis(config))).toEqual(expected);
  });

  it("names the setting, what it risks and how to fix it", () => {
    const [finding] = judgePostgres({ synchronous_commit: "off", fsync: "on" });
    expect(finding).toMatchObject({ store: "postgres", setting: "synchronous_commit", value: "off" });
    expect(finding!.risk).toMatch(/OS crash or power loss can lose the last acknowledged writes/);
    expect(finding!.fix).toMatch(/synchronous_commit = on/);
  });
});

describe("probing the stores on this machine", () => {
  it("SQLite: nothing at the default (FULL), a warning with ?synchronous=normal", async () => {
    for (const [query, expected] of [
      ["", []],
      ["?synchronous=normal", ["warn synchronous=normal"]],
    ] as const) {
      const store = await openSqlStore(`sqlite:${join(dir, "probe.db")}${query}`);
      await store.migrate(); // a build may lower a WAL file's level once it is read
      expect(named(await probeSqlDurability(store))).toEqual(expected);
      await store.close();
    }
  });

  it("PostgreSQL: nothing on its durable defaults, a warning for a connection with synchronous_commit off", async () => {
    const durable = await openSqlStore(POSTGRES, { maxConnections: 1 });
    expect(await probeSqlDurability(durable)).toEqual([]);
    await durable.close();
    // The URL's options reach the server as each connection's settings, as SET would.
    const relaxed = await openSqlStore(`${POSTGRES}?options=${encodeURIComponent("-c synchronous_commit=off")}`, { maxConnections: 1 });
    expect(named(await probeSqlDurability(relaxed))).toEqual(["warn synchronous_commit=off"]);
    await relaxed.close();
  });

  it("MariaDB: nothing on its durable default (innodb_flush_log_at_trx_commit = 1)", async () => {
    const store = await openSqlStore(MYSQL, { maxConnections: 1 });
    expect(await probeSqlDurability(store)).toEqual([]);
    await store.close();
  });

  it("Redis: this machine's server runs without an append-only file, and that is a warning", async () => {
    const client = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "no"]);
      const findings = await probeRedisDurability(client);
      expect(named(findings)).toEqual(["warn appendonly=no"]);
      expect(findings[0]!.risk).toMatch(/Redis restart or crash, an OS crash or power loss loses every acknowledged write/);
    } finally {
      client.disconnect();
    }
  });

  it("Redis: a server that refuses CONFIG is told at info, saying the setting could not be read", async () => {
    const refusing = { config: async () => Promise.reject(new Error("ERR unknown command 'CONFIG'")) };
    const findings = await probeRedisDurability(refusing);
    expect(named(findings)).toEqual(["info appendonly=unknown"]);
    expect(findings[0]!.risk).toMatch(/^could not be read \(CONFIG GET: ERR unknown command 'CONFIG'\)/);
  });

  it("Redis Cluster: each master is read, and one line is kept for masters that agree", async () => {
    const master = (appendonly: string) => ({
      config: async (_: "GET", name: string) => [name, name === "appendonly" ? appendonly : "everysec"],
    });
    const cluster = { config: async () => [], nodes: () => [master("no"), master("no"), master("yes")] };
    expect(named(await probeRedisDurability(cluster))).toEqual(["warn appendonly=no", "info appendfsync=everysec"]);
  });
});

describe("serve warns at start", () => {
  /** The JSON lines `serve` wrote to stderr about its store's durability. */
  const durabilityLines = (stderr: string) =>
    stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === "store durability");

  const prefix = `as-durability-${Math.random().toString(36).slice(2, 10)}`;
  afterAll(async () => {
    const admin = new Redis(REDIS);
    const keys = await admin.keys(`{${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
  });

  it.each([
    ["Redis without an append-only file", `${REDIS}?prefix=${prefix}`, "appendonly", "no"],
    ["SQLite with ?synchronous=normal", `sqlite:${join(dir, "normal.db")}?synchronous=normal`, "synchronous", "normal"],
  ])("on %s: one warning line naming the setting, its risk and its fix", async (_, store, setting, value) => {
    const { started } = await serve(["--port", "0", "--store", store]);
    await stop(started);
    const lines = durabilityLines(started.output().stderr);
    expect(lines).toEqual([
      {
        time: expect.any(String),
        level: "warn",
        msg: "store durability",
        store: expect.any(String),
        setting,
        value,
        risk: expect.stringMatching(/OS crash or power loss/),
        fix: expect.any(String),
      },
    ]);
  });

  it("on SQLite at the default, nothing", async () => {
    const { started } = await serve(["--port", "0", "--store", `sqlite:${join(dir, "default.db")}`]);
    await stop(started);
    expect(durabilityLines(started.output().stderr)).toEqual([]);
  });
});
