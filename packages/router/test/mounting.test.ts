// The router mounted under a path, and the adapters that hand it a host's requests: node:http
// (and Express) through `toNodeHandler`, Next.js route handlers and a Worker module. The hosts
// themselves run in packages/cli/test/hosts.test.ts; these tests pin what the adapters promise.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createEngine, type EngineOptions } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter, type RouterOptions } from "@agent-sessions/router";
import { nextRouteHandlers } from "@agent-sessions/router/next";
import { type NodeHandler, toNodeHandler } from "@agent-sessions/router/node";
import { workerModule } from "@agent-sessions/router/workers";
import { afterEach, describe, expect, it } from "vitest";

const ORG = "org_00000000000000000000000000000001";
const KEY = "mounting_key_0123456789abcdef";
const FORM = { name: "Intake", slug: "intake", fields: [{ name: "email", label: "Email", type: "email", required: true }] };
const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };

function mounted(options: Partial<RouterOptions> = {}, engineOptions: Partial<EngineOptions> = {}) {
  const engine = createEngine({ store: new MemoryStore(), ...engineOptions });
  const router = createRouter({ engine, apiKeys: [{ orgId: ORG, key: KEY }], rateLimit: false, basePath: "/agent-sessions", ...options });
  return { engine, router };
}

describe("a router with a basePath", () => {
  it("answers below its basePath only, and names hosted URLs after the request's origin and the basePath", async () => {
    const { router } = mounted();
    expect(router.basePath).toBe("/agent-sessions");
    const post = (url: string, body: unknown) => router.fetch(new Request(url, { method: "POST", headers: auth, body: JSON.stringify(body) }));
    expect((await post("http://127.0.0.1:3000/agent-sessions/v1/forms", FORM)).status).toBe(201);
    const outside = await post("http://127.0.0.1:3000/v1/forms/intake/sessions", {});
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({ error: "Not found", message: "No endpoint at POST /v1/forms/intake/sessions" });
    const created = await post("http://127.0.0.1:3000/agent-sessions/v1/forms/intake/sessions", {});
    const session = (await created.json()) as { id: string; url: string };
    expect(session.url).toBe(`http://127.0.0.1:3000/agent-sessions/f/${session.id}`);
    const page = await router.fetch(new Request(session.url));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    // A path of another method answers 405 with the allowed ones, under the basePath too.
    const wrongMethod = await router.fetch(new Request("http://127.0.0.1:3000/agent-sessions/v1/forms", { method: "DELETE", headers: auth }));
    expect(wrongMethod.status).toBe(405);
  });

  it("takes publicUrl as the whole start of hosted URLs, basePath included", async () => {
    const { router } = mounted({ publicUrl: "https://forms.example.com/intake-pages/" });
    const post = (path: string, body: unknown) =>
      router.fetch(new Request(`http://127.0.0.1/agent-sessions${path}`, { method: "POST", headers: auth, body: JSON.stringify(body) }));
    await post("/v1/forms", FORM);
    const session = (await (await post("/v1/forms/intake/sessions", {})).json()) as { id: string; url: string };
    expect(session.url).toBe(`https://forms.example.com/intake-pages/f/${session.id}`);
  });

  it("keeps a basePath without its trailing slashes, and refuses one that is not a plain path, by name", () => {
    expect(mounted({ basePath: "/api/agent-sessions//" }).router.basePath).toBe("/api/agent-sessions");
    expect(mounted({ basePath: "/" }).router.basePath).toBe("");
    expect(mounted({ basePath: undefined }).router.basePath).toBe("");
    for (const basePath of ["agent-sessions", "/a?b=1", "/a/:id", "/a/*", "https://example.com/a", "/a//b"]) {
      expect(() => mounted({ basePath })).toThrow(new TypeError(`createRouter: basePath '${basePath}' is not a path such as /agent-sessions`));
    }
  });
});

describe("toNodeHandler on node:http", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server?.closeAllConnections();
    server = undefined;
  });

  /** A real node:http server on a free port whose listener is `listener`; its base URL. */
  async function listen(listener: (req: IncomingMessage & Record<string, unknown>, res: Parameters<NodeHandler>[1]) => void): Promise<string> {
    server = createServer((req, res) => listener(req as IncomingMessage & Record<string, unknown>, res));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  /** What a body parser mounted first does: reads the whole body, and keeps what it made of it as `req.body`. */
  async function parseFirst(req: IncomingMessage & Record<string, unknown>, parse: (text: string) => unknown): Promise<void> {
    let text = "";
    for await (const chunk of req) text += chunk;
    if (text !== "") req.body = parse(text);
  }

  it("streams the body as sent, keeps the client's path and query, and gives the socket's address as the request's ip", async () => {
    const { router } = mounted({ clientAddress: (request) => (request as Request & { ip?: string }).ip ?? "none" });
    const addresses: string[] = [];
    const handler = toNodeHandler(router);
    const base = await listen((req, res) => void handler(req, res));
    const created = await fetch(`${base}/agent-sessions/v1/forms`, { method: "POST", headers: auth, body: JSON.stringify(FORM) });
    expect(created.status).toBe(201);
    const listed = await fetch(`${base}/agent-sessions/v1/forms?limit=1`, { headers: auth });
    expect(((await listed.json()) as { data: unknown[] }).data).toHaveLength(1);
    // The ip reaches the router: a router that reads it sees loopback.
    const seen = createRouter({
      engine: createEngine({ store: new MemoryStore() }),
      authenticate: (request) => {
        addresses.push(String((request as Request & { ip?: string }).ip));
        return null;
      },
    });
    const probe = toNodeHandler(seen);
    server!.removeAllListeners("request");
    server!.on("request", (req, res) => void probe(req, res));
    expect((await fetch(`${base}/v1/forms`)).status).toBe(401);
    expect(addresses).toEqual(["127.0.0.1"]);
  });

  it("sends on a body a parser already read: an object as JSON, a form as a form", async () => {
    const { router } = mounted();
    const handler = toNodeHandler(router);
    const base = await listen((req, res) => {
      const type = String(req.headers["content-type"]);
      const parse = type.includes("json") ? (text: string) => JSON.parse(text) : (text: string) => Object.fromEntries(new URLSearchParams(text));
      void parseFirst(req, parse).then(() => handler(req, res));
    });
    expect((await fetch(`${base}/agent-sessions/v1/forms`, { method: "POST", headers: auth, body: JSON.stringify(FORM) })).status).toBe(201);
    const session = (await (
      await fetch(`${base}/agent-sessions/v1/forms/intake/sessions`, { method: "POST", headers: auth, body: "{}" })
    ).json()) as {
      id: string;
      url: string;
    };
    expect(session.url).toBe(`${base}/agent-sessions/f/${session.id}`);
    const submitted = await fetch(session.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=person%40example.com",
    });
    expect(submitted.status).toBe(200);
    const read = (await (await fetch(`${base}/agent-sessions/v1/sessions/${session.id}`, { headers: auth })).json()) as Record<string, any>;
    expect(read.status).toBe("submitted");
    expect(read.submission.values).toEqual({ email: "person@example.com" });
  });

  it("reports a mount path that is not the router's basePath through next, naming both", async () => {
    const { router } = mounted();
    const handler = toNodeHandler(router);
    const errors: unknown[] = [];
    const base = await listen((req, res) => {
      // As Express mounts it with app.use("/sessions", handler): the mount path cut off the URL.
      req.baseUrl = "/sessions";
      req.originalUrl = req.url;
      req.url = String(req.url).slice("/sessions".length) || "/";
      void handler(req, res, (error) => {
        errors.push(error);
        res.statusCode = 500;
        res.end();
      });
    });
    expect((await fetch(`${base}/sessions/v1/forms`, { headers: auth })).status).toBe(500);
    expect(String(errors[0])).toContain("mounted at '/sessions' but the router's basePath is '/agent-sessions'");
    // Without next, the client gets the router's own 500, with nothing of the cause in it.
    server!.removeAllListeners("request");
    server!.on("request", (req: IncomingMessage & Record<string, unknown>, res) => {
      req.baseUrl = "/sessions";
      void handler(req, res);
    });
    const answer = await fetch(`${base}/sessions/v1/forms`, { headers: auth });
    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({ error: "Internal server error", message: "Internal server error" });
  });

  it("ends a long-poll whose client hung up, instead of holding it to its timeout", async () => {
    const { router } = mounted();
    const handler = toNodeHandler(router);
    const polls: Promise<void>[] = [];
    const base = await listen((req, res) => {
      const handled = handler(req, res);
      if (String(req.url).includes("timeout=")) polls.push(handled);
    });
    const post = async (path: string, body: unknown) =>
      (await (await fetch(`${base}/agent-sessions${path}`, { method: "POST", headers: auth, body: JSON.stringify(body) })).json()) as Record<
        string,
        any
      >;
    const workflow = await post("/api/v1/sessions", { name: "poll" });
    const inbox = await post(`/api/v1/sessions/${workflow.id}/inboxes`, { ttlSeconds: 3600 });
    const wait = await post(`/api/v1/sessions/${workflow.id}/waits`, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    expect(wait.status).toBe("pending");
    const gone = new AbortController();
    const poll = fetch(`${base}/agent-sessions/api/v1/waits/${wait.id}?timeout=30`, { headers: auth, signal: gone.signal }).catch(
      (error: Error) => error.name,
    );
    while (polls.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    gone.abort();
    expect(await poll).toBe("AbortError");
    const ended = await Promise.race([polls[0]!.then(() => "ended"), new Promise((resolve) => setTimeout(resolve, 3000, "still polling"))]);
    expect(ended).toBe("ended");
  });
});

describe("nextRouteHandlers", () => {
  it("answers every method through the router, with hosted URLs named after the Host the client asked for", async () => {
    const { router } = mounted();
    const handlers = nextRouteHandlers(router);
    expect(Object.keys(handlers).sort()).toEqual(["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]);
    // As `next start` builds a request: its own hostname in the URL, the client's in Host.
    const asNext = (path: string, method: string, body?: unknown) =>
      new Request(`http://localhost:3000/agent-sessions${path}`, {
        method,
        headers: { ...auth, host: "127.0.0.1:4100" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await handlers.POST(asNext("/v1/forms", "POST", FORM))).status).toBe(201);
    const session = (await (await handlers.POST(asNext("/v1/forms/intake/sessions", "POST", {}))).json()) as { id: string; url: string };
    expect(session.url).toBe(`http://127.0.0.1:4100/agent-sessions/f/${session.id}`);
    const extended = await handlers.PATCH(asNext(`/v1/sessions/${session.id}`, "PATCH", { expires_in: 600 }));
    expect(extended.status).toBe(200);
    expect((await handlers.GET(asNext(`/v1/sessions/${session.id}`, "GET"))).status).toBe(200);
  });
});

describe("workerModule", () => {
  it("sets up once per isolate with the Worker's env, and runs an engine round under waitUntil after each answer", async () => {
    const executed: string[] = [];
    const setups: unknown[] = [];
    const worker = workerModule((env: { KEYS: string }) => {
      setups.push(env);
      return mounted({}, { actions: { send_email: (action) => executed.push(action.id) } });
    });
    const env = { KEYS: "unused" };
    const waiting: Promise<unknown>[] = [];
    const ctx = { waitUntil: (promise: Promise<unknown>) => void waiting.push(promise) };
    const call = async (method: string, path: string, body?: unknown) => {
      const init = { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
      const response = await worker.fetch(new Request(`http://127.0.0.1:8787/agent-sessions${path}`, init), env, ctx);
      return (await response.json()) as Record<string, any>;
    };
    const thread = await call("POST", "/api/v1/threads", {});
    const action = await call("POST", `/api/v1/sessions/${thread.thread_id}/actions`, { tool: "send_email", preview: {}, expires_in: 300 });
    expect((await call("POST", `/api/v1/sessions/${thread.thread_id}/actions/${action.action_id}`, { confirmed: true })).status).toBe("processing");
    expect(waiting).toHaveLength(3);
    await Promise.all(waiting);
    expect(executed).toEqual([action.action_id]);
    expect((await call("GET", `/api/v1/sessions/${thread.thread_id}/actions/${action.action_id}`)).status).toBe("succeeded");
    expect(setups).toEqual([env]);

    // A Cron Trigger's event runs a round too.
    waiting.length = 0;
    await worker.scheduled({}, env, ctx);
    expect(waiting).toHaveLength(1);
    await Promise.all(waiting);
  });
});
