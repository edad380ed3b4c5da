// serve's structured logs: one JSON line per request and per background failure, at --log-level.
import { MemoryStore } from "@agent-sessions/memory";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Logger, loggedPath, parseLogLevel } from "../src/logs.js";
import { parseServeArgs, UsageError } from "../src/options.js";
import { type RunningServer, startServer } from "../src/serve.js";

const KEY = "sk_logs_test_key_0123456789";

const optionsOf = (args: string[], env: Record<string, string> = {}) => {
  const parsed = parseServeArgs(["--store", "memory", "--port", "0", "--api-key", `org_logs:${KEY}`, ...args], env);
  if (parsed.help) throw new Error("unexpected help");
  return parsed.options;
};

/** Starts serve with its log lines collected, parsed. */
async function logged(args: string[], tickIntervalMs = 1000) {
  const lines: string[] = [];
  const server = await startServer(optionsOf(args), { writeLog: (line) => lines.push(line), tickIntervalMs });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { server, lines, entries };
}

describe("serve: log level", () => {
  it("takes --log-level, else AGENT_SESSIONS_LOG_LEVEL, else info, and refuses anything else", () => {
    expect(optionsOf([]).logLevel).toBeUndefined();
    expect(optionsOf(["--log-level", "warn"]).logLevel).toBe("warn");
    expect(optionsOf([], { AGENT_SESSIONS_LOG_LEVEL: "ERROR" }).logLevel).toBe("error");
    expect(optionsOf(["--log-level", "debug"], { AGENT_SESSIONS_LOG_LEVEL: "silent" }).logLevel).toBe("debug");
    expect(() => optionsOf(["--log-level", "loud"])).toThrow(
      new UsageError("--log-level: 'loud' is not a log level; give one of: debug, info, warn, error, silent"),
    );
    expect(() => parseLogLevel("trace", "AGENT_SESSIONS_LOG_LEVEL")).toThrow(/AGENT_SESSIONS_LOG_LEVEL: 'trace' is not a log level/);
  });

  it("writes the lines at its level and above, each one JSON object with time, level and message", () => {
    const lines: string[] = [];
    const logger = new Logger(
      "warn",
      (line) => lines.push(line),
      () => Date.UTC(2026, 0, 2, 3, 4, 5),
    );
    logger.debug("a");
    logger.info("b");
    logger.warn("c", { n: 1 });
    logger.error("d", { skipped: undefined });
    expect(lines).toEqual([
      '{"time":"2026-01-02T03:04:05.000Z","level":"warn","msg":"c","n":1}\n',
      '{"time":"2026-01-02T03:04:05.000Z","level":"error","msg":"d"}\n',
    ]);
    const silent = new Logger("silent", (line) => lines.push(line));
    silent.error("never");
    expect(lines).toHaveLength(2);
  });

  it("masks the capability of a hosted form page or a review link, and drops every query", () => {
    expect(loggedPath("http://h/f/sess_0123456789abcdef0123456789abcdef")).toBe("/f/:id");
    expect(loggedPath("http://h/f/sess_0123456789abcdef0123456789abcdef/more?x=1")).toBe("/f/:id");
    expect(loggedPath("http://h:8080/r/rv_secret-token#frag")).toBe("/r/:token");
    expect(loggedPath("http://h/api/v1/sessions?api_key=secret")).toBe("/api/v1/sessions");
    expect(loggedPath("http://h")).toBe("/");
  });
});

describe("serve: request and failure logs", () => {
  let server: RunningServer | null = null;
  afterEach(async () => {
    vi.restoreAllMocks();
    await server?.close();
    server = null;
  });

  it("logs one line per request with its method, masked path, status, duration, request id and organization, and nothing secret", async () => {
    const run = await logged([]);
    server = run.server;
    const auth = { authorization: `Bearer ${KEY}`, "x-request-id": "req-42" };
    expect((await fetch(`${server.url}/api/v1/sessions?limit=1`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/sessions`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const page = await fetch(`${server.url}/f/sess_0123456789abcdef0123456789abcdef?secret=s3cr3t`);
    await page.body?.cancel();
    await (await fetch(`${server.url}/healthz`)).text();

    const requests = run.entries().filter((entry) => entry.msg === "request");
    expect(requests).toHaveLength(3); // not the health probe: that is debug
    expect(requests[0]).toMatchObject({ level: "info", method: "GET", path: "/api/v1/sessions", status: 200, request_id: "req-42", org: "org_logs" });
    expect(requests[0]!.duration_ms).toBeTypeOf("number");
    expect(Date.parse(String(requests[0]!.time))).not.toBeNaN();
    expect(requests[1]).toMatchObject({ path: "/api/v1/sessions", status: 401 });
    expect(requests[1]).not.toHaveProperty("org");
    expect(requests[2]).toMatchObject({ method: "GET", path: "/f/:id", status: page.status });
    const all = run.lines.join("");
    for (const secret of [KEY, "wrong", "sess_0123456789abcdef0123456789abcdef", "s3cr3t", "limit=1"]) expect(all).not.toContain(secret);
  });

  it("logs an internal error at error with its request, and the request's 500", async () => {
    vi.spyOn(MemoryStore.prototype, "list").mockRejectedValueOnce(new Error("the store lost a page"));
    const run = await logged([]);
    server = run.server;
    const answer = await fetch(`${server.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(answer.status).toBe(500);
    expect(await answer.text()).not.toContain("the store lost a page");
    expect(run.entries()).toEqual([
      expect.objectContaining({ level: "error", msg: "internal error", method: "GET", path: "/api/v1/sessions", message: "the store lost a page" }),
      expect.objectContaining({ level: "info", msg: "request", path: "/api/v1/sessions", status: 500, org: "org_logs" }),
    ]);
  });

  it("logs the health probes at debug", async () => {
    const run = await logged(["--log-level", "debug"]);
    server = run.server;
    await (await fetch(`${server.url}/healthz`)).text();
    expect(run.entries()).toEqual([expect.objectContaining({ level: "debug", msg: "request", method: "GET", path: "/healthz", status: 200 })]);
  });

  it("logs a background failure at error, one line, and logs no request below its level", async () => {
    const failing = vi.spyOn(MemoryStore.prototype, "claimDue").mockRejectedValueOnce(new Error("the store is down"));
    const run = await logged(["--log-level", "warn"], 20);
    server = run.server;
    await vi.waitFor(() => expect(run.entries().some((entry) => entry.msg === "background work failed")).toBe(true));
    expect(failing).toHaveBeenCalled();
    await (await fetch(`${server.url}/healthz`)).text();
    const [failure] = run.entries();
    expect(failure).toMatchObject({ level: "error", msg: "background work failed", error: "Error", message: "the store is down" });
    expect(run.lines.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
    expect(run.entries().filter((entry) => entry.msg === "request")).toEqual([]);
  });
});
