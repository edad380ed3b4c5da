import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createEngine, createMemoryNotifier, type EngineOptions, type Store } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const KEY_A = "key_of_org_a";
const KEY_B = "key_of_org_b";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);
const asB = { authorization: `Bearer ${KEY_B}` };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function setup(options: Partial<EngineOptions> = {}, store: Store = new MemoryStore()) {
  const clock = { now: T0 };
  const engine = createEngine({ store, clock: () => clock.now, ...options });
  const router = createRouter({
    engine,
    apiKeys: [
      { orgId: "org_00000000000000000000000000000001", key: KEY_A },
      { orgId: "org_00000000000000000000000000000002", key: KEY_B },
    ],
    onError: (error) => {
      throw error;
    },
  });
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY_A}` }) {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await router.fetch(new Request(`http://localhost${path}`, init));
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
  return { engine, router, call, clock };
}

describe("webhook endpoints over HTTP", () => {
  let received: Array<{ id: string; body: string }>;
  let server: ReturnType<typeof createServer>;
  let url: string;
  beforeEach(async () => {
    received = [];
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        received.push({ id: String(request.headers["webhook-id"]), body });
        response.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("creates with 201 and a whsec_ secret, lists and reads without it, logs deliveries, deletes", async () => {
    const t = setup({ webhooks: { allowPrivateAddresses: true } });
    const created = await t.call("POST", "/v1/webhooks", { url, events: ["session.created", "session.completed"] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^wh_[0-9a-f]{32}$/),
      url,
      events: ["session.created", "session.completed"],
      description: null,
      status: "active",
      created_at: "2025-01-15T10:30:00.000Z",
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/=]{40,}$/),
    });
    const id = created.body.id;
    const { secret, ...shown } = created.body;
    expect((await t.call("GET", `/v1/webhooks/${id}`)).body).toEqual(shown);
    const list = await t.call("GET", "/v1/webhooks");
    expect(list.body).toEqual({ data: [shown], pagination: { limit: 20, offset: 0, total: 1, nextCursor: null } });
    expect(JSON.stringify(list.body)).not.toContain(secret);

    // One tick per event: deliveries within a tick run concurrently, in no set order.
    const session = await t.call("POST", "/api/v1/sessions", { name: "signup" });
    expect(await t.engine.tick()).toMatchObject({ deliveries: 1 });
    t.clock.now += 1; // the log orders attempts by when they started
    await t.call("POST", `/api/v1/sessions/${session.body.id}/complete`);
    expect(await t.engine.tick()).toMatchObject({ deliveries: 1 });
    const timeline = await t.call("GET", `/api/v1/sessions/${session.body.id}/timeline`);
    expect(received.map((r) => r.id)).toEqual(timeline.body.events.map((e: { id: string }) => e.id));

    const deliveries = await t.call("GET", `/v1/webhooks/${id}/deliveries?limit=1`);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.data).toEqual([
      {
        id: expect.stringMatching(/^dlv_[0-9a-f]{32}$/),
        event_id: timeline.body.events[1].id,
        event_type: "session.completed",
        attempt: 1,
        status: "succeeded",
        outcome: "succeeded",
        status_code: 200,
        error: null,
        duration_ms: expect.any(Number),
        attempted_at: expect.stringMatching(ISO),
        next_attempt_at: null,
        instance: expect.stringMatching(/^worker_/),
      },
    ]);
    expect(deliveries.body.pagination).toMatchObject({ limit: 1, total: 2, nextCursor: expect.any(String) });
    const older = await t.call("GET", `/v1/webhooks/${id}/deliveries?cursor=${deliveries.body.pagination.nextCursor}`);
    expect(older.body.data.map((a: { event_type: string }) => a.event_type)).toEqual(["session.created"]);

    expect(await t.call("DELETE", `/v1/webhooks/${id}`)).toEqual({ status: 200, body: { id, deleted: true } });
    expect((await t.call("GET", `/v1/webhooks/${id}`)).status).toBe(404);
    expect((await t.call("DELETE", `/v1/webhooks/${id}`)).status).toBe(404);
    expect((await t.call("GET", `/v1/webhooks/${id}/deliveries`)).status).toBe(404);
    expect((await t.call("GET", "/v1/webhooks")).body.pagination.total).toBe(0);
  });

  it("answers 400 naming the field, refuses private targets with a clear message, and keeps organizations apart", async () => {
    const t = setup();
    const bad: Array<[unknown, string]> = [
      [{ events: ["*"] }, "url is required"],
      [{ url: "mailto:ops@example.com" }, "url: must start with https:// or http://"],
      [{ url: "https://example.com/h", events: "session.expired" }, "events: must be an array"],
      [
        { url: "https://example.com/h", events: ["session.expired", "Bad Type"] },
        'events[1]: must be "*", an event type such as "session.expired", or a prefix such as "session.*"',
      ],
      [{ url: "https://example.com/h", secret: "mine" }, "secret is not a known field"],
      [
        { url },
        "url: 127.0.0.1 is a special-purpose address (loopback); webhooks to private and special-purpose addresses are refused unless the server allows them",
      ],
      [
        { url: "http://localhost:8080/h" },
        "url: localhost is a loopback name; webhooks to private and special-purpose addresses are refused unless the server allows them",
      ],
    ];
    for (const [body, message] of bad) {
      expect(await t.call("POST", "/v1/webhooks", body)).toEqual({ status: 400, body: { error: "Invalid request", message } });
    }
    const { body: hook } = await t.call("POST", "/v1/webhooks", { url: "https://hooks.example.com/a" });
    for (const [method, path] of [
      ["GET", `/v1/webhooks/${hook.id}`],
      ["DELETE", `/v1/webhooks/${hook.id}`],
      ["GET", `/v1/webhooks/${hook.id}/deliveries`],
      ["GET", "/v1/webhooks/not-an-id"],
    ] as const) {
      expect((await t.call(method, path, undefined, asB)).status, `${method} ${path}`).toBe(404);
    }
    expect((await t.call("GET", "/v1/webhooks", undefined, asB)).body.pagination.total).toBe(0);
    expect((await t.call("GET", `/v1/webhooks/${hook.id}`)).status).toBe(200);
    expect((await t.call("GET", `/v1/webhooks/${hook.id}/deliveries?cursor=abc`)).body.message).toBe(
      "cursor: must be the nextCursor of a previous page",
    );
  });

  it("documents the webhook endpoints in the OpenAPI document", async () => {
    const t = setup();
    const { body: document } = await t.call("GET", "/openapi.json");
    expect(Object.keys(document.paths["/v1/webhooks"]).sort()).toEqual(["get", "post"]);
    expect(Object.keys(document.paths["/v1/webhooks/{id}"]).sort()).toEqual(["delete", "get"]);
    expect(document.paths["/v1/webhooks/{id}/deliveries"].get.responses["200"]).toBeDefined();
    expect(document.components.schemas.CreatedWebhookEndpoint.required).toContain("secret");
    expect(document.components.schemas.WebhookEndpoint.properties.secret).toBeUndefined();
  });
});

describe("confirmed actions over HTTP", () => {
  it("executes a confirmed action and shows its result; refuses a tool without an executor", async () => {
    const t = setup({ actions: { send_email: async (action) => ({ message_id: `m-${String(action.preview.to)}` }) } });
    const { body: thread } = await t.call("POST", "/api/v1/threads", {});
    expect(await t.call("POST", `/api/v1/sessions/${thread.thread_id}/actions`, { tool: "refund", preview: {} })).toEqual({
      status: 400,
      body: { error: "Invalid request", message: 'tool: no executor is registered for "refund"; registered tools: send_email' },
    });
    const { body: action } = await t.call("POST", `/api/v1/sessions/${thread.thread_id}/actions`, { tool: "send_email", preview: { to: "a@b.co" } });
    const confirmed = await t.call("POST", `/api/v1/sessions/${thread.thread_id}/actions/${action.action_id}`, { confirmed: true });
    expect(confirmed).toMatchObject({ status: 202, body: { status: "processing", callback_id: expect.stringMatching(/^cb_/) } });
    expect(await t.engine.tick()).toMatchObject({ actions: 1 });
    const shown = await t.call("GET", `/api/v1/sessions/${thread.thread_id}/actions/${action.action_id}`);
    expect(shown.body).toMatchObject({
      status: "succeeded",
      callback_id: confirmed.body.callback_id,
      attempts: 1,
      result: { message_id: "m-a@b.co" },
      error: null,
      completed_at: expect.stringMatching(ISO),
    });
    const events = await t.engine.timeline("org_00000000000000000000000000000001", thread.thread_id);
    expect(events.at(-1)).toMatchObject({ type: "action.succeeded", payload: { callback_id: confirmed.body.callback_id } });
  });
});

describe("waits across instances", () => {
  async function otpWait(writer: ReturnType<typeof setup>, reader: ReturnType<typeof setup>) {
    const { body: session } = await writer.call("POST", "/api/v1/sessions", { name: "otp" });
    const { body: inbox } = await writer.call("POST", `/api/v1/sessions/${session.id}/inboxes`, { ttlSeconds: 3600 });
    const { body: wait } = await writer.call("POST", `/api/v1/sessions/${session.id}/waits`, { type: "otp", inboxId: inbox.id, timeoutSeconds: 600 });
    const started = Date.now();
    const polled = reader.call("GET", `/api/v1/waits/${wait.id}?timeout=20`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await writer.call("POST", `/api/v1/inboxes/${inbox.id}/messages`, { from: "a@b.co", subject: "code", body: "Your code: 482913" });
    const answer = await polled;
    return { answer, elapsed: Date.now() - started };
  }

  it("wakes a long-poll held on one instance for a message posted on another, through a notifier", async () => {
    const store = new MemoryStore();
    const notifier = createMemoryNotifier();
    const { answer, elapsed } = await otpWait(setup({ notifier }, store), setup({ notifier }, store));
    expect(answer.body).toMatchObject({ status: "completed", result: { code: "482913" } });
    expect(elapsed).toBeLessThan(5000);
  });

  it("wakes it by polling the store when there is no notifier", async () => {
    const store = new MemoryStore();
    const { answer, elapsed } = await otpWait(setup({}, store), setup({ pollIntervalMs: 20 }, store));
    expect(answer.body).toMatchObject({ status: "completed", result: { code: "482913" } });
    expect(elapsed).toBeLessThan(5000);
  });
});
