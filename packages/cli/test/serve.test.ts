// The real `agent-sessions` binary, spawned as a user runs it: node + bin/agent-sessions.js.
import { describe, expect, it } from "vitest";
import { runSmoke } from "../../../examples/smoke/smoke.mjs";
import { parseServeArgs, UsageError } from "../src/options.js";
import { run, serve } from "./binary.js";
import { freePort, stop } from "./processes.js";

const listSessions = (url: string, key?: string) =>
  fetch(`${url}/api/v1/sessions`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

describe("agent-sessions serve", () => {
  it("prints a development key that works, with the URL and a curl line, when no key is configured", async () => {
    const { banner, url, devKey } = await serve(["--port", "0"]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(devKey).toMatch(/^dev_[0-9a-f]{32}$/);
    expect(banner).toContain(`curl -s -X POST ${url}/api/v1/sessions -H "Authorization: Bearer ${devKey}"`);

    const result = await runSmoke({ baseUrl: url, key: devKey! });
    expect(result.requests).toBeGreaterThan(15);
    expect((await listSessions(url, `${devKey}x`)).status).toBe(401);
  });

  it("makes a different development key on every start", async () => {
    const first = await serve(["--port", "0"]);
    const second = await serve(["--port", "0"]);
    expect(first.devKey).not.toBe(second.devKey);
    expect((await listSessions(second.url, first.devKey)).status).toBe(401);
  });

  it("honours repeated --api-key flags, keeps organizations apart and never prints a key", async () => {
    const { banner, url, devKey, started } = await serve(["--port", "0", "--api-key", "orgA:key-a", "--api-key", "orgB:key:with:colons"]);
    expect(devKey).toBeUndefined();
    expect(banner).toContain("orgA, orgB");
    expect(banner).not.toContain("key-a");
    expect(banner).not.toContain("key:with:colons");

    const created = await fetch(`${url}/api/v1/sessions`, {
      method: "POST",
      headers: { authorization: "Bearer key-a", "content-type": "application/json" },
      body: JSON.stringify({ name: "user-signup-flow" }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const asB = await fetch(`${url}/api/v1/sessions/${id}`, { headers: { "x-api-key": "key:with:colons" } });
    expect(asB.status).toBe(404);
    expect((await fetch(`${url}/api/v1/sessions/${id}`, { headers: { "x-api-key": "key-a" } })).status).toBe(200);
    expect((await listSessions(url, "wrong")).status).toBe(401);
    expect((await listSessions(url)).status).toBe(401);

    // Its log on stderr: JSON lines, a start line and one per request with the organization, never a key.
    const { stderr } = started.output();
    const lines = stderr
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ level: "info", msg: "started", url, store: "memory" });
    expect(lines.filter((line) => line.msg === "request").map((line) => [line.status, line.org])).toEqual([
      [201, "orgA"],
      [404, "orgB"],
      [200, "orgA"],
      [401, undefined],
      [401, undefined],
    ]);
    for (const key of ["key-a", "key:with:colons", "wrong"]) expect(stderr).not.toContain(key);
  });

  it("reads AGENT_SESSIONS_API_KEYS and PORT from the environment; flags win over both", async () => {
    const port = await freePort();
    const fromEnv = await serve([], { AGENT_SESSIONS_API_KEYS: " orgA:env-key-a , orgB:env-key-b ,", PORT: String(port) });
    expect(fromEnv.url).toBe(`http://127.0.0.1:${port}`);
    expect(fromEnv.devKey).toBeUndefined();
    expect((await listSessions(fromEnv.url, "env-key-a")).status).toBe(200);
    expect((await listSessions(fromEnv.url, "env-key-b")).status).toBe(200);
    expect((await listSessions(fromEnv.url, "env-key-c")).status).toBe(401);

    const flags = await serve(["--port", "0", "--api-key", "orgC:flag-key"], { AGENT_SESSIONS_API_KEYS: "orgA:env-key-a", PORT: String(port) });
    expect(flags.url).not.toBe(`http://127.0.0.1:${port}`);
    expect((await listSessions(flags.url, "flag-key")).status).toBe(200);
    expect((await listSessions(flags.url, "env-key-a")).status).toBe(401);
  });

  it("puts --public-url into hosted form URLs", async () => {
    const { url } = await serve(["--port", "0", "--api-key", "org:k", "--public-url", "https://forms.example.com/"]);
    const headers = { authorization: "Bearer k", "content-type": "application/json" };
    await fetch(`${url}/v1/forms`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "Intake", slug: "intake", fields: [{ name: "email", type: "email" }] }),
    });
    const session = (await (await fetch(`${url}/v1/forms/intake/sessions`, { method: "POST", headers, body: "{}" })).json()) as {
      id: string;
      url: string;
    };
    expect(session.url).toBe(`https://forms.example.com/f/${session.id}`);
  });

  it("persists timeouts with its sweeper, before anyone reads the session", async () => {
    const { url } = await serve(["--port", "0", "--api-key", "org:k"]);
    const headers = { authorization: "Bearer k", "content-type": "application/json" };
    const post = async (path: string, body: unknown) =>
      (await (await fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) })).json()) as { id: string };
    const workflow = await post("/api/v1/sessions", { name: "nobody-answers" });
    const inbox = await post(`/api/v1/sessions/${workflow.id}/inboxes`, { ttlSeconds: 60 });
    await post(`/api/v1/sessions/${workflow.id}/waits`, { type: "otp", inboxId: inbox.id, timeoutSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2600));

    // The timeline is read as stored: only a sweep has written the timeout by now.
    const { events } = (await (await fetch(`${url}/api/v1/sessions/${workflow.id}/timeline`, { headers })).json()) as {
      events: { type: string }[];
    };
    expect(events.map((event) => event.type)).toEqual(["session.created", "inbox.created", "wait.created", "wait.timed_out"]);
  });

  it("stops on SIGINT and on SIGTERM with exit code 0, promptly", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const { started, url, devKey } = await serve(["--port", "0"]);
      expect((await listSessions(url, devKey)).status).toBe(200);
      const { code, ms } = await stop(started, signal);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(1500);
      expect(started.output().stdout).toContain(`${signal}, stopping`);
      const logged = started
        .output()
        .stderr.trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as { msg: string; signal?: string });
      expect(logged.slice(-2)).toEqual([expect.objectContaining({ msg: "stopping", signal }), expect.objectContaining({ msg: "stopped" })]);
      await expect(listSessions(url, devKey)).rejects.toThrow();
    }
  });

  it("stops within its grace period while a long-poll is open, with exit code 0", async () => {
    const { started, url } = await serve(["--port", "0", "--api-key", "org:k"]);
    const headers = { authorization: "Bearer k", "content-type": "application/json" };
    const post = async (path: string, body: unknown) =>
      (await (await fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) })).json()) as { id: string };
    const workflow = await post("/api/v1/sessions", { name: "held" });
    const inbox = await post(`/api/v1/sessions/${workflow.id}/inboxes`, { ttlSeconds: 60 });
    const wait = await post(`/api/v1/sessions/${workflow.id}/waits`, { type: "otp", inboxId: inbox.id, timeoutSeconds: 60 });
    const held = fetch(`${url}/api/v1/waits/${wait.id}?timeout=30`, { headers }).then(
      (response) => response.status,
      () => "cut",
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { code, ms } = await stop(started, "SIGINT");
    expect(code).toBe(0);
    expect(ms).toBeLessThan(4000);
    expect(await held).toBe("cut");
  });
});

describe("agent-sessions command line", () => {
  it("prints help for the binary and for serve", async () => {
    for (const args of [["--help"], ["-h"], ["serve", "--help"]]) {
      const { code, stdout, stderr } = await run(args);
      expect(code).toBe(0);
      expect(stderr).toBe("");
      expect(stdout).toContain(args[0] === "serve" ? "Usage: agent-sessions serve [options]" : "Usage: agent-sessions <command>");
    }
    const serveHelp = (await run(["serve", "--help"])).stdout;
    for (const flag of ["--port", "--host", "--store", "--api-key", "--public-url", "AGENT_SESSIONS_API_KEYS"]) expect(serveHelp).toContain(flag);
  });

  it("prints its version", async () => {
    const { code, stdout } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [["serve", "--verbose"], "unknown option '--verbose'"],
    [["serve", "--store", "sqlite3:x.db"], "--store: unknown store 'sqlite3:x.db'; give one of: memory, sqlite:<file>"],
    [["serve", "--store", "postgres://u:secret@/db"], '--store: store URL: "postgres://u:***@/db" is not a valid URL'],
    [["serve", "--store", "redis://127.0.0.1:notaport"], "--store: "],
    [["migrate", "--store", "nosuch"], "agent-sessions migrate: --store: unknown store 'nosuch'"],
    [["migrate", "--port", "1"], "agent-sessions migrate: unknown option '--port'"],
    [["serve", "--port", "70000"], "--port: '70000' is not a port"],
    [["serve", "--port"], "'--port <value>' argument missing"],
    [["serve", "extra"], "unexpected argument 'extra'"],
    [["serve", "--api-key", "no-colon-secret"], "--api-key: '…' is not <orgId>:<key>"],
    [["serve", "--api-key", "a:same", "--api-key", "b:same"], "one key is given to two organizations"],
    [["serve", "--public-url", "forms.example.com"], "--public-url: 'forms.example.com' is not a URL"],
    [["launch"], "unknown command 'launch'; the commands are: serve, migrate"],
    [["--verbose"], "unknown option '--verbose'"],
  ])("refuses %j in one line with exit code 2", async (args, message) => {
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).not.toContain("no-colon-secret");
  });

  it("takes the `--` that `pnpm start -- --port 4000` passes on, and nothing after it that is not a flag", () => {
    const parsed = parseServeArgs(["--", "--port", "4000", "--store", "memory"], {});
    expect(parsed.help ? null : parsed.options.port).toBe(4000);
    expect(() => parseServeArgs(["--", "extra"], {})).toThrow(/unexpected argument 'extra'/);
    expect(() => parseServeArgs(["--port", "4000", "--", "--store", "memory"], {})).toThrow(UsageError);
  });

  it("takes a label with a key, <org>/<label>:<key>, and refuses a bad label naming the entry without its key", () => {
    const keys = (entries: string[], env: Record<string, string> = {}) => {
      const parsed = parseServeArgs(
        entries.flatMap((entry) => ["--api-key", entry]),
        env,
      );
      return parsed.help ? [] : parsed.options.apiKeys;
    };
    expect(keys(["org_a/ops-bot:k1", "org_a:k2", "org_b/ci.v2_x-1:k:3"])).toEqual([
      { orgId: "org_a", key: "k1", label: "ops-bot" },
      { orgId: "org_a", key: "k2" },
      { orgId: "org_b", key: "k:3", label: "ci.v2_x-1" },
    ]);
    const fromEnv = parseServeArgs([], { AGENT_SESSIONS_API_KEYS: "org_a/ops:k1, org_b:k2" });
    expect(fromEnv.help ? [] : fromEnv.options.apiKeys).toEqual([
      { orgId: "org_a", key: "k1", label: "ops" },
      { orgId: "org_b", key: "k2" },
    ]);
    expect(keys([`org_a/${"x".repeat(64)}:k1`])[0]?.label).toHaveLength(64);
    // The label is split off at the last slash, so an organization's id may hold one.
    expect(keys(["org/a/ops:k1"])).toEqual([{ orgId: "org/a", key: "k1", label: "ops" }]);
    for (const label of ["", "two words", "x".repeat(65), "é", "ops,bot"]) {
      const entry = `org_a/${label}:secret-key`;
      const refused = (() => {
        try {
          keys([entry]);
        } catch (error) {
          return error;
        }
        return null;
      })();
      expect(refused, label).toBeInstanceOf(UsageError);
      expect((refused as Error).message).toBe(`--api-key: 'org_a/${label}:…' has a label that is not 1 to 64 of A-Z, a-z, 0-9, _, . and -`);
    }
    expect(() => keys(["org_a/ops:same-key", "org_a/ci:same-key"])).toThrow(/one key of organization 'org_a' is given two labels/);
  });

  it("refuses a malformed AGENT_SESSIONS_API_KEYS by name, and a bad PORT", async () => {
    const keys = await run(["serve"], { AGENT_SESSIONS_API_KEYS: "orgA:ok,just-a-key" });
    expect(keys.code).toBe(2);
    expect(keys.stderr).toContain("AGENT_SESSIONS_API_KEYS: '…' is not <orgId>:<key>");
    const port = await run(["serve"], { PORT: "http" });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain("PORT: 'http' is not a port");
  });

  it("prints usage to stderr and exits 2 with no command", async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("Usage: agent-sessions <command>");
  });

  it("reports a port in use in one line with exit code 1", async () => {
    const { url } = await serve(["--port", "0", "--api-key", "org:k"]);
    const port = new URL(url).port;
    const { code, stderr } = await run(["serve", "--port", port, "--api-key", "org:k"]);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`agent-sessions: port ${port} on 127.0.0.1 is already in use; pick another with --port`);
  });
});
