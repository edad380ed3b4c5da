// `serve --store` and `migrate` on the real binary: SQLite by default, surviving a restart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run, serve } from "./binary.js";
import { stop } from "./processes.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "agent-sessions-cli-"));
  dirs.push(dir);
  return dir;
}

const key = "k";
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };

/**
 * Starts two `serve` processes with `args`, holds a long-poll on a wait on the second and posts
 * the message that completes it on the first: the second answers within 3 s only if a write on
 * one instance wakes the other.
 */
async function expectCrossInstanceWake(args: string[], options: { cwd?: string } = {}): Promise<void> {
  const a = await serve(args, {}, options);
  const b = await serve(args, {}, options);
  // Both instances are up and their store answers with the schema this release needs.
  for (const { url } of [a, b]) {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${url}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 200, body: { status: "ready" } });
  }
  const post = async (url: string, path: string, body: unknown) =>
    (await (await fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) })).json()) as { id: string };
  const session = await post(a.url, "/api/v1/sessions", { name: "otp" });
  const inbox = await post(a.url, `/api/v1/sessions/${session.id}/inboxes`, { ttlSeconds: 600 });
  const wait = await post(a.url, `/api/v1/sessions/${session.id}/waits`, { type: "otp", inboxId: inbox.id, timeoutSeconds: 600 });
  const started = Date.now();
  const held = fetch(`${b.url}/api/v1/waits/${wait.id}?timeout=20`, { headers });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await post(a.url, `/api/v1/inboxes/${inbox.id}/messages`, { from: "bank@example.com", subject: "code", body: "Your code: 482913" });
  expect(await (await held).json()).toMatchObject({ status: "completed", result: { code: "482913" } });
  expect(Date.now() - started).toBeLessThan(3000);
}

describe("serve with an SQL store", () => {
  it("uses ./agent-sessions.db by default, and every session is there after a restart", async () => {
    const cwd = tempDir();
    const first = await serve(["--port", "0", "--api-key", `org:${key}`], { AGENT_SESSIONS_STORE: undefined }, { cwd });
    expect(first.banner).toContain("(store: sqlite:./agent-sessions.db)");
    const created: { id: string; name: string }[] = [];
    for (let index = 0; index < 25; index++) {
      const response = await fetch(`${first.url}/api/v1/sessions`, { method: "POST", headers, body: JSON.stringify({ name: `flow-${index}` }) });
      expect(response.status).toBe(201);
      created.push((await response.json()) as { id: string; name: string });
    }
    const inbox = await fetch(`${first.url}/api/v1/sessions/${created[0]!.id}/inboxes`, {
      method: "POST",
      headers,
      body: JSON.stringify({ ttlSeconds: 600 }),
    });
    expect(inbox.status).toBe(201);
    expect((await stop(first.started, "SIGTERM")).code).toBe(0);

    const second = await serve(["--port", "0", "--api-key", `org:${key}`], { AGENT_SESSIONS_STORE: undefined }, { cwd });
    const listed = (await (await fetch(`${second.url}/api/v1/sessions?limit=100`, { headers })).json()) as {
      data: { id: string; name: string }[];
      pagination: { total: number };
    };
    expect(listed.pagination.total).toBe(25);
    expect(new Set(listed.data.map((session) => session.id))).toEqual(new Set(created.map((session) => session.id)));
    const timeline = (await (await fetch(`${second.url}/api/v1/sessions/${created[0]!.id}/timeline`, { headers })).json()) as {
      events: { type: string }[];
    };
    expect(timeline.events.map((event) => event.type)).toEqual(["session.created", "inbox.created"]);
  });

  it("takes the store from AGENT_SESSIONS_STORE, and --store wins over it", async () => {
    const cwd = tempDir();
    const fromEnv = await serve(["--port", "0", "--api-key", `org:${key}`], { AGENT_SESSIONS_STORE: "sqlite:./from-env.db" }, { cwd });
    expect(fromEnv.banner).toContain("(store: sqlite:./from-env.db)");
    const flag = await serve(
      ["--port", "0", "--api-key", `org:${key}`, "--store", "memory"],
      { AGENT_SESSIONS_STORE: "sqlite:./from-env.db" },
      { cwd },
    );
    expect(flag.banner).toContain("(store: memory)");
  });

  it("wakes a long-poll held on one instance for a message posted on another, over one SQLite file", async () => {
    await expectCrossInstanceWake(["--port", "0", "--api-key", `org:${key}`, "--store", "sqlite:./shared.db"], { cwd: tempDir() });
  });

  it("refuses an unreachable database in one line with exit code 1, without its password", async () => {
    const { code, stdout, stderr } = await run(["serve", "--port", "0", "--store", "postgres://someone:hunter2@127.0.0.1:1/nothing"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toContain("agent-sessions: could not open the store postgres://someone:***@127.0.0.1:1/nothing: ");
    expect(stderr).not.toContain("hunter2");
  });
});

describe("serve with a PostgreSQL store", () => {
  it("keeps two instances in one schema, and wakes a long-poll on one for a message posted on the other (LISTEN/NOTIFY)", async (context) => {
    const { default: pg } = await import("pg");
    const admin = new pg.Pool({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test", max: 1, connectionTimeoutMillis: 3000 });
    admin.on("error", () => {});
    try {
      await admin.query("SELECT 1");
    } catch (error) {
      await admin.end();
      if (process.env.CI === "true") throw new Error(`PostgreSQL at 127.0.0.1:5432 is unreachable (CI=true: required): ${String(error)}`);
      console.warn("\n!!! PostgreSQL at 127.0.0.1:5432 is unreachable: SKIPPING the serve-on-PostgreSQL test !!!\n");
      return context.skip();
    }
    const schema = `as_cli_${Math.random().toString(36).slice(2, 10)}`;
    try {
      await expectCrossInstanceWake([
        "--port",
        "0",
        "--api-key",
        `org:${key}`,
        "--store",
        `postgres://postgres@127.0.0.1:5432/test?schema=${schema}`,
      ]);
      const tables = await admin.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1", [schema]);
      expect(tables.rows[0].n).toBeGreaterThan(0); // the tables went into the schema the URL named
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await admin.end();
    }
  });
});

describe("serve with a Redis store", () => {
  it("keeps two instances under one ?prefix=, and wakes a long-poll on one for a message posted on the other (pub/sub)", async (context) => {
    const { Redis } = await import("ioredis");
    const admin = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on("error", () => {});
    try {
      await admin.connect();
    } catch (error) {
      admin.disconnect();
      if (process.env.CI === "true") throw new Error(`Redis at 127.0.0.1:6379 is unreachable (CI=true: required): ${String(error)}`);
      console.warn("\n!!! Redis at 127.0.0.1:6379 is unreachable: SKIPPING the serve-on-Redis test !!!\n");
      return context.skip();
    }
    const prefix = `as-cli-${Math.random().toString(36).slice(2, 10)}`;
    try {
      await expectCrossInstanceWake(["--port", "0", "--api-key", `org:${key}`, "--store", `redis://127.0.0.1:6379?prefix=${prefix}`]);
      expect((await admin.keys(`{${prefix}:*`)).length).toBeGreaterThan(0); // the keys carry the URL's prefix
    } finally {
      const keys = await admin.keys(`{${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
      admin.disconnect();
    }
  });

  it("refuses a Redis that does not answer, in one line with exit code 1 and no stack", async () => {
    const { code, stdout, stderr } = await run(["serve", "--port", "0", "--store", "redis://127.0.0.1:1"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toEqual([
      "agent-sessions: could not open the store redis://127.0.0.1:1: no answer within 5 s (connect ECONNREFUSED 127.0.0.1:1)",
    ]);
  });
});

describe("agent-sessions migrate", () => {
  it("creates the tables once, then has nothing to do", async () => {
    const cwd = tempDir();
    const first = await run(["migrate", "--store", "sqlite:./app.db"], {}, { cwd });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout.trim()).toBe("agent-sessions migrate: sqlite:./app.db from schema version 0 to 5 (applied 1, 2, 3, 4, 5)");
    const again = await run(["migrate", "--store", "sqlite:./app.db"], {}, { cwd });
    expect(again.stdout.trim()).toBe("agent-sessions migrate: sqlite:./app.db is at schema version 5; nothing to do");

    // serve finds the schema current and starts on it.
    const served = await serve(["--port", "0", "--api-key", `org:${key}`, "--store", "sqlite:./app.db"], {}, { cwd });
    expect((await fetch(`${served.url}/api/v1/sessions`, { headers })).status).toBe(200);
    expect((await fetch(`${served.url}/readyz`)).status).toBe(200);

    // A schema this release does not know (a newer release migrated the file) is not ready: 503,
    // the reason on stderr only; the process stays up (healthz), and is ready again once it is.
    const { openSqlStore } = await import("@agent-sessions/sql");
    const other = await openSqlStore(`sqlite:${join(cwd, "app.db")}`);
    try {
      await other.db.insertInto("schema_migrations").values({ version: 99, name: "from the future", applied_at: 0 }).execute();
      const notReady = await fetch(`${served.url}/readyz`);
      expect({ status: notReady.status, body: await notReady.json() }).toEqual({ status: 503, body: { status: "unavailable" } });
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
      await other.db.deleteFrom("schema_migrations").where("version", "=", 99).execute();
      expect((await fetch(`${served.url}/readyz`)).status).toBe(200);
    } finally {
      await other.close();
    }
    await stop(served.started);
    const notReadyLine = served.started
      .output()
      .stderr.split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: string; msg: string; reason?: string })
      .find((line) => line.msg === "not ready");
    expect(notReadyLine).toMatchObject({ level: "error", reason: expect.stringContaining("the schema is at version 99; this release needs 5") });
  });

  it("says a store without a schema needs nothing, and prints its help", async () => {
    expect((await run(["migrate", "--store", "memory"])).stdout.trim()).toBe("agent-sessions migrate: memory keeps no schema; nothing to do");
    const help = await run(["migrate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: agent-sessions migrate [--store <url>]");
  });
});
