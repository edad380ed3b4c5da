import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { beforeEach, describe, expect, it } from "vitest";

const KEY_A = "cust_your_api_key";
const KEY_B = "key_of_org_b";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);

function setup(options: { maxBodyBytes?: number } = {}) {
  const clock = { now: T0 };
  const store = new MemoryStore();
  const engine = createEngine({ store, clock: () => clock.now });
  const errors: unknown[] = [];
  const router = createRouter({
    engine,
    apiKeys: [
      { orgId: "org_00000000000000000000000000000001", key: KEY_A },
      { orgId: "org_00000000000000000000000000000002", key: KEY_B },
    ],
    publicUrl: "https://forms.example.com",
    onError: (error) => errors.push(error),
    ...options,
  });
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY_A}` }) {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await router.fetch(new Request(`http://localhost${path}`, init));
    const text = await response.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, body: json, headers: response.headers };
  }
  return { engine, store, router, call, clock, errors };
}

const asB = { authorization: `Bearer ${KEY_B}` };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("seed 001: workflow sessions", () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it("creates, lists, reads, times, replays and completes a session as the seed shows", async () => {
    const created = await t.call("POST", "/api/v1/sessions", { name: "user-signup-flow", metadata: { environment: "staging" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^sess_[0-9a-f]{32}$/),
      name: "user-signup-flow",
      status: "active",
      createdAt: "2025-01-15T10:30:00.000Z",
      updatedAt: "2025-01-15T10:30:00.000Z",
      completedAt: null,
      metadata: { environment: "staging" },
      inboxes: [],
      waits: [],
    });
    const id = created.body.id;

    const list = await t.call("GET", "/api/v1/sessions?status=active&limit=20");
    expect(list.status).toBe(200);
    expect(list.body.pagination).toEqual({ limit: 20, offset: 0, total: 1, nextCursor: null });
    expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([id]);

    const inbox = await t.call("POST", `/api/v1/sessions/${id}/inboxes`, { ttlSeconds: 3600 });
    expect(inbox.status).toBe(201);
    t.clock.now += 1000;
    const wait = await t.call("POST", `/api/v1/sessions/${id}/waits`, { type: "otp", inboxId: inbox.body.id, timeoutSeconds: 120 });
    expect(wait.body).toMatchObject({ status: "pending", type: "otp", inboxId: inbox.body.id, sessionId: id });
    t.clock.now += 149_000;
    const message = await t.call("POST", `/api/v1/inboxes/${inbox.body.id}/messages`, {
      from: "no-reply@example.com",
      subject: "Verify",
      body: "Your code: 482913",
    });
    expect(message.status).toBe(201);
    // The wait timed out at +121 s, before the message at +150 s: the message stays unclaimed.
    expect((await t.call("GET", `/api/v1/waits/${wait.body.id}`)).body).toMatchObject({ status: "timed_out", result: null });

    const got = await t.call("GET", `/api/v1/sessions/${id}`);
    expect(got.body).toMatchObject({ id, inboxes: [inbox.body.id], waits: [wait.body.id] });

    const timeline = await t.call("GET", `/api/v1/sessions/${id}/timeline`);
    expect(timeline.body.events.map((e: { type: string }) => e.type)).toEqual([
      "session.created",
      "inbox.created",
      "wait.created",
      "wait.timed_out",
      "message.received",
    ]);
    expect(timeline.body.events[0]).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      timestamp: "2025-01-15T10:30:00.000Z",
      type: "session.created",
      payload: { sessionId: id },
    });

    const replay = await t.call("POST", `/api/v1/sessions/${id}/replay`);
    expect(replay.body.steps).toEqual([
      {
        index: 0,
        timestamp: "2025-01-15T10:30:00.000Z",
        action: "create_inbox",
        input: { ttlSeconds: 3600 },
        output: { id: inbox.body.id },
        durationMs: 0,
      },
      {
        index: 1,
        timestamp: "2025-01-15T10:30:01.000Z",
        action: "create_wait",
        input: { type: "otp", inboxId: inbox.body.id, timeoutSeconds: 120 },
        output: { id: wait.body.id },
        durationMs: 0,
      },
    ]);

    const completed = await t.call("POST", `/api/v1/sessions/${id}/complete`);
    expect(completed.body).toEqual({ id, status: "completed", completedAt: "2025-01-15T10:32:30.000Z" });
    expect((await t.call("GET", "/api/v1/sessions?status=completed")).body.pagination.total).toBe(1);
  });

  it("answers the seed's errors: 400 name is required, 401, 404", async () => {
    expect(await t.call("POST", "/api/v1/sessions", {})).toMatchObject({
      status: 400,
      body: { error: "Invalid request", message: "name is required" },
    });
    expect(await t.call("GET", "/api/v1/sessions", undefined, {})).toMatchObject({
      status: 401,
      body: { error: "Unauthorized", message: "Invalid or missing API key" },
    });
    expect(await t.call("GET", "/api/v1/sessions/sess_0190e1b0000070008000000000000001")).toMatchObject({
      status: 404,
      body: { error: "Not found", message: "Session sess_0190e1b0000070008000000000000001 not found" },
    });
    expect((await t.call("GET", "/api/v1/sessions?status=paused")).body.message).toBe("status: must be one of active, completed, failed");
    expect((await t.call("GET", "/api/v1/sessions?limit=ten")).body.message).toBe("limit: must be a whole number from 0 to 9007199254740991");
    expect((await t.call("GET", "/api/v1/sessions?colour=red")).body.message).toBe("colour is not a known query parameter");
  });

  it("pages with offset and with the cursor over the same order", async () => {
    for (let i = 0; i < 7; i++) await t.call("POST", "/api/v1/sessions", { name: `s${i}` });
    const byOffset = [
      ...(await t.call("GET", "/api/v1/sessions?limit=3")).body.data,
      ...(await t.call("GET", "/api/v1/sessions?limit=3&offset=3")).body.data,
      ...(await t.call("GET", "/api/v1/sessions?limit=3&offset=6")).body.data,
    ].map((s: { id: string }) => s.id);
    const first = await t.call("GET", "/api/v1/sessions?limit=4");
    const second = await t.call("GET", `/api/v1/sessions?limit=4&cursor=${first.body.pagination.nextCursor}`);
    expect(second.body.pagination.nextCursor).toBeNull();
    expect([...first.body.data, ...second.body.data].map((s: { id: string }) => s.id)).toEqual(byOffset);
    expect(new Set(byOffset).size).toBe(7);
  });

  it("holds a wait open until its message arrives", async () => {
    const { body: session } = await t.call("POST", "/api/v1/sessions", { name: "otp" });
    const { body: inbox } = await t.call("POST", `/api/v1/sessions/${session.id}/inboxes`, { ttlSeconds: 600 });
    const { body: wait } = await t.call("POST", `/api/v1/sessions/${session.id}/waits`, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    const started = Date.now();
    const held = t.call("GET", `/api/v1/waits/${wait.id}?timeout=10`);
    setTimeout(() => void t.call("POST", `/api/v1/inboxes/${inbox.id}/messages`, { from: "a@b.co", subject: "Code", body: "code 991122" }), 100);
    const answered = await held;
    expect(answered.body).toMatchObject({ status: "completed", result: { code: "991122" } });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("answers a held wait as cancelled when its session completes, and never times it out later", async () => {
    const { body: session } = await t.call("POST", "/api/v1/sessions", { name: "otp" });
    const { body: inbox } = await t.call("POST", `/api/v1/sessions/${session.id}/inboxes`, { ttlSeconds: 600 });
    const { body: wait } = await t.call("POST", `/api/v1/sessions/${session.id}/waits`, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    const started = Date.now();
    const held = t.call("GET", `/api/v1/waits/${wait.id}?timeout=10`);
    setTimeout(() => void t.call("POST", `/api/v1/sessions/${session.id}/complete`), 100);
    expect((await held).body).toMatchObject({ id: wait.id, status: "cancelled" });
    expect(Date.now() - started).toBeLessThan(5000);
    t.clock.now += 3_600_000;
    await t.engine.tick();
    const { body: timeline } = await t.call("GET", `/api/v1/sessions/${session.id}/timeline`);
    expect(timeline.events.map((event: { type: string }) => event.type)).toEqual([
      "session.created",
      "inbox.created",
      "wait.created",
      "session.completed",
      "wait.cancelled",
    ]);
  });
});

describe("seed 000: form sessions", () => {
  it("creates a session with the seed's body, reads it and extends it", async () => {
    const t = setup();
    const form = await t.call("POST", "/v1/forms", {
      name: "Support intake",
      slug: "support-intake",
      fields: [
        { name: "email", type: "email", required: true },
        { name: "issue", type: "textarea", required: true },
        { name: "session_id", type: "hidden" },
      ],
      allowPartial: true,
    });
    expect(form.status).toBe(201);
    for (const ref of [form.body.id, "support-intake"]) {
      const created = await t.call("POST", `/v1/forms/${ref}/sessions`, {
        expires_in: 3600,
        prefill: { email: "user@example.com" },
        metadata: { thread_id: "thread_42" },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^sess_[0-9a-f]{32}$/),
        form_id: form.body.id,
        status: "created",
        url: `https://forms.example.com/f/${created.body.id}`,
        expires_at: "2025-01-15T11:30:00.000Z",
        created_at: "2025-01-15T10:30:00.000Z",
        updated_at: "2025-01-15T10:30:00.000Z",
        prefill: { email: "user@example.com" },
        metadata: { thread_id: "thread_42" },
        submission: null,
      });
    }
    const { body: session } = await t.call("POST", "/v1/forms/support-intake/sessions", {});
    expect(session.expires_at).toBe("2025-01-15T11:30:00.000Z"); // default: one hour
    const extended = await t.call("PATCH", `/v1/sessions/${session.id}`, { expires_in: 1800 });
    expect(extended.body.expires_at).toBe("2025-01-15T12:00:00.000Z");
    expect((await t.call("GET", `/v1/sessions/${session.id}`)).body.expires_at).toBe("2025-01-15T12:00:00.000Z");
  });

  it("answers 410 once a session expired, 409 for an illegal extension, 400 naming the field", async () => {
    const t = setup();
    await t.call("POST", "/v1/forms", { name: "F", slug: "f", fields: [{ name: "email", type: "email" }] });
    const { body: session } = await t.call("POST", "/v1/forms/f/sessions", { expires_in: 60 });
    expect((await t.call("PATCH", `/v1/sessions/${session.id}`, { expires_in: "soon" })).body).toEqual({
      error: "Invalid request",
      message: "expires_in: must be a whole number",
    });
    expect((await t.call("POST", "/v1/forms/f/sessions", { prefill: { phone: "1" } })).body.message).toBe('prefill.phone is not a field of form "f"');
    t.clock.now += 60_000;
    expect((await t.call("GET", `/v1/sessions/${session.id}`)).body.status).toBe("expired");
    const gone = await t.call("PATCH", `/v1/sessions/${session.id}`, { expires_in: 60 });
    expect(gone.status).toBe(410);
    expect(gone.body.error).toBe("Gone");
    const { body: other } = await t.call("POST", "/v1/forms/f/sessions", {});
    await t.engine.formSessions.submit(other.id, { values: { email: "a@b.co" } });
    expect((await t.call("PATCH", `/v1/sessions/${other.id}`, { expires_in: 60 })).status).toBe(409);
    expect((await t.call("POST", "/v1/forms/nope/sessions", {})).status).toBe(404);
  });

  it("takes remind_before on create, shows it, sends session.expiring at each moment, and refuses a bad one naming remind_before", async () => {
    const t = setup();
    await t.call("POST", "/v1/forms", { name: "F", slug: "f", fields: [{ name: "email", type: "email" }] });
    const created = await t.call("POST", "/v1/forms/f/sessions", { expires_in: 3600, remind_before: [600, 60] });
    expect(created.status).toBe(201);
    expect(created.body.remind_before).toEqual([600, 60]);
    expect(Object.keys(created.body)).toEqual([
      "id",
      "form_id",
      "status",
      "url",
      "expires_at",
      "created_at",
      "updated_at",
      "prefill",
      "metadata",
      "submission",
      "remind_before",
    ]);
    expect((await t.call("GET", `/v1/sessions/${created.body.id}`)).body.remind_before).toEqual([600, 60]);
    // A session without reminders shows no remind_before, as before.
    const plain = await t.call("POST", "/v1/forms/f/sessions", {});
    expect(plain.body).not.toHaveProperty("remind_before");

    t.clock.now += 50 * 60_000;
    await t.engine.tick();
    const { body: timeline } = await t.call("GET", `/api/v1/sessions/${created.body.id}/timeline`);
    expect(timeline.events.map((event: { type: string }) => event.type)).toEqual(["session.created", "session.expiring"]);
    expect(timeline.events[1]).toMatchObject({
      type: "session.expiring",
      payload: { session_id: created.body.id, expires_at: "2025-01-15T11:30:00.000Z", remind_before: 600 },
    });

    const bad: [unknown, string][] = [
      [[0], "remind_before[0]: must be at least 1"],
      [[-60], "remind_before[0]: must be at least 1"],
      [[1.5], "remind_before[0]: must be a whole number"],
      [Array.from({ length: 11 }, (_, i) => i + 1), "remind_before: must hold at most 10 items"],
      [[60, 60], "remind_before: must not repeat an item"],
      ["600", "remind_before: must be an array"],
      [[30 * 24 * 3600 + 1], "remind_before[0]: must be at most 2592000"],
    ];
    for (const [value, message] of bad) {
      const answer = await t.call("POST", "/v1/forms/f/sessions", { remind_before: value });
      expect({ value, status: answer.status, body: answer.body }).toEqual({ value, status: 400, body: { error: "Invalid request", message } });
    }
    expect((await t.call("POST", "/v1/forms/f/sessions", { remindBefore: [60] })).body.message).toMatch(/remindBefore/);
  });

  it("lists form sessions newest first, by status, with an exact total, for its organization only", async () => {
    const t = setup();
    await t.call("POST", "/v1/forms", { name: "F", slug: "f", fields: [{ name: "email", type: "email" }] });
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      ids.push((await t.call("POST", "/v1/forms/f/sessions", {})).body.id);
      t.clock.now += 1;
    }
    await t.engine.formSessions.submit(ids[1]!, { values: { email: "a@b.co" } });
    const all = await t.call("GET", "/v1/sessions?limit=2");
    expect(all.status).toBe(200);
    expect(all.body.data.map((session: { id: string }) => session.id)).toEqual([ids[2], ids[1]]);
    expect(all.body.data[0]).toMatchObject({ url: `https://forms.example.com/f/${ids[2]}`, status: "created" });
    expect(all.body.pagination).toMatchObject({ limit: 2, offset: 0, total: 3 });
    const submitted = await t.call("GET", "/v1/sessions?status=submitted");
    expect(submitted.body.data.map((session: { id: string }) => session.id)).toEqual([ids[1]]);
    expect(submitted.body.pagination.total).toBe(1);
    expect((await t.call("GET", "/v1/sessions?status=done")).body).toEqual({
      error: "Invalid request",
      message: "status: must be one of created, open, submitted, expired",
    });
    expect((await t.call("GET", "/v1/sessions", undefined, asB)).body.pagination.total).toBe(0);
  });
});

describe("seed 002: threads and pending actions", () => {
  it("updates variables, confirms with 202, cancels with 200 and closes", async () => {
    const t = setup();
    const key = { "x-api-key": KEY_A };
    const thread = await t.call("POST", "/api/v1/threads", {}, key);
    expect(thread.status).toBe(201);
    const id = thread.body.thread_id;
    expect(id).toMatch(/^thread_[0-9a-f]{32}$/);
    const patched = await t.call(
      "PATCH",
      `/api/v1/sessions/${id}`,
      { context_variables: { USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" } },
      key,
    );
    expect(patched.body.context_variables).toEqual({ USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" });
    expect((await t.call("PATCH", `/api/v1/sessions/${id}`, { context_variables: { userPlan: "x" } }, key)).body).toEqual({
      error: "Invalid request",
      message: "context_variables.userPlan: keys must be UPPERCASE_SNAKE_CASE",
    });
    const proposed = await t.call(
      "POST",
      `/api/v1/sessions/${id}/actions`,
      {
        tool: "send_email",
        preview: { to: "user@example.com", subject: "Order Confirmation", body: "Your order #123 has been confirmed..." },
        expires_in: 300,
      },
      key,
    );
    expect(proposed.status).toBe(201);
    expect(proposed.body).toMatchObject({ tool: "send_email", status: "pending", expires_at: "2025-01-15T10:35:00.000Z" });
    const confirmed = await t.call("POST", `/api/v1/sessions/${id}/actions/${proposed.body.action_id}`, { confirmed: true }, key);
    expect(confirmed.status).toBe(202);
    expect(confirmed.body).toEqual({
      thread_id: id,
      action_id: proposed.body.action_id,
      callback_id: expect.stringMatching(/^cb_[0-9a-f]{32}$/),
      status: "processing",
      message: "Action confirmed, executing...",
    });
    const second = await t.call("POST", `/api/v1/sessions/${id}/actions`, { tool: "refund", preview: { amount: 5 } }, key);
    const cancelled = await t.call("POST", `/api/v1/sessions/${id}/actions/${second.body.action_id}`, { confirmed: false }, key);
    expect(cancelled).toMatchObject({
      status: 200,
      body: { thread_id: id, action_id: second.body.action_id, status: "cancelled", message: "Action cancelled" },
    });
    expect((await t.call("POST", `/api/v1/sessions/${id}/actions/${second.body.action_id}`, { confirmed: true }, key)).status).toBe(409);
    expect((await t.call("POST", `/api/v1/sessions/${id}/actions/${second.body.action_id}`, { confirmed: "yes" }, key)).body.message).toBe(
      "confirmed: must be true or false",
    );
    t.clock.now += 900_000;
    const closed = await t.call("POST", `/api/v1/sessions/${id}/close`, undefined, key);
    expect(closed).toMatchObject({
      status: 200,
      body: { thread_id: id, closed_at: "2025-01-15T10:45:00.000Z", duration_seconds: 900, billable: true },
    });
    const action = await t.call("GET", `/api/v1/sessions/${id}/actions/${proposed.body.action_id}`, undefined, key);
    expect(action.body).toMatchObject({ status: "processing", callback_id: confirmed.body.callback_id });
  });

  it("lets an action expire and then refuses its confirmation with 410", async () => {
    const t = setup();
    const { body: thread } = await t.call("POST", "/api/v1/threads", {});
    const { body: action } = await t.call("POST", `/api/v1/sessions/${thread.thread_id}/actions`, { tool: "t", preview: {}, expires_in: 60 });
    t.clock.now += 61_000;
    expect((await t.call("GET", `/api/v1/sessions/${thread.thread_id}/actions/${action.action_id}`)).body).toMatchObject({
      status: "cancelled",
      cancel_reason: "expired",
    });
    expect((await t.call("POST", `/api/v1/sessions/${thread.thread_id}/actions/${action.action_id}`, { confirmed: true })).status).toBe(410);
  });

  it("names the field as the seed does when a rule of the thread refuses it, and as sent when the body names an unknown one", async () => {
    const t = setup();
    const invalid = (message: string) => ({ status: 400, body: { error: "Invalid request", message } });
    const answer = async (method: string, path: string, body: unknown) => {
      const { status, body: answered } = await t.call(method, path, body);
      return { status, body: answered };
    };
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`VAR_${i}`, i]));
    expect(await answer("POST", "/api/v1/threads", { context_variables: many })).toEqual(
      invalid("context_variables: at most 20 variables after the update (this update would leave 21)"),
    );
    const { body: thread } = await t.call("POST", "/api/v1/threads", {});
    const path = `/api/v1/sessions/${thread.thread_id}`;
    expect(await answer("PATCH", path, { context_variables: { BIG: "x".repeat(4087) } })).toEqual(
      invalid("context_variables: at most 4096 bytes of JSON after the update (this update would leave 4097)"),
    );
    // The engine's own spelling of a field is no field of the seed's body.
    expect(await answer("PATCH", path, { contextVariables: { A: 1 } })).toEqual(invalid("contextVariables is not a known field"));
    expect(await answer("POST", `${path}/actions`, { tool: "t", preview: {}, expiresIn: 60 })).toEqual(invalid("expiresIn is not a known field"));
    expect(await answer("POST", "/v1/forms/intake/sessions", { expiresIn: 60 })).toEqual(invalid("expiresIn is not a known field"));
    expect(await answer("POST", `${path}/actions`, { tool: "t", preview: {}, expires_in: 0 })).toEqual(invalid("expires_in: must be at least 1"));
  });
});

describe("seed 003: agent sessions", () => {
  it("creates a session for an agent and refuses an invalid agent id", async () => {
    const t = setup();
    const agent = await t.call("POST", "/v1/agents", { name: "support", capabilities: [{ ref: "search" }], model_id: "model_default" });
    expect(agent.body.id).toMatch(/^agent_[0-9a-f]{32}$/);
    const session = await t.call("POST", "/v1/sessions", {
      agent_id: agent.body.id,
      capabilities: [{ ref: "browse", config: { depth: 2 } }],
      model_id: "model_01933b5a00007000800000000000001",
      tags: ["debugging", "urgent"],
      title: "Debug login issue",
    });
    expect(session.status).toBe(201);
    expect(session.body).toEqual({
      id: expect.stringMatching(/^session_[0-9a-f]{32}$/),
      agent_id: agent.body.id,
      organization_id: "org_00000000000000000000000000000001",
      capabilities: [{ ref: "browse", config: { depth: 2 } }],
      model_id: "model_01933b5a00007000800000000000001",
      tags: ["debugging", "urgent"],
      title: "Debug login issue",
      status: "started",
      started_at: null,
      finished_at: null,
      preview: null,
      output_preview: null,
      usage: null,
      created_at: "2025-01-15T10:30:00.000Z",
      updated_at: "2025-01-15T10:30:00.000Z",
    });
    expect((await t.call("POST", "/v1/sessions", { agent_id: "agent_01933b5a" })).body).toEqual({
      error: "Invalid request",
      message: "agent_id: Invalid agent ID",
    });
    const id = session.body.id;
    expect((await t.call("POST", `/v1/sessions/${id}/messages`, { role: "user", content: "Login fails" })).body.status).toBe("active");
    expect((await t.call("POST", `/v1/sessions/${id}/messages`, { role: "user", content: "Hello?" })).status).toBe(409);
    const idle = await t.call("POST", `/v1/sessions/${id}/messages`, {
      role: "assistant",
      content: "Try again",
      usage: { input_tokens: 10, output_tokens: 3 },
    });
    expect(idle.body).toMatchObject({
      status: "idle",
      preview: "Login fails",
      output_preview: "Try again",
      usage: { input_tokens: 10, output_tokens: 3 },
    });
    expect((await t.call("POST", `/v1/sessions/${id}/finish`)).body.finished_at).toMatch(ISO);
    expect((await t.call("GET", `/v1/sessions/${id}`)).body.id).toBe(id);
  });
});

describe("rules of every endpoint", () => {
  it("keeps organizations apart: another organization's ids answer 404", async () => {
    const t = setup();
    const { body: workflow } = await t.call("POST", "/api/v1/sessions", { name: "mine" });
    const { body: thread } = await t.call("POST", "/api/v1/threads", {});
    const { body: inbox } = await t.call("POST", `/api/v1/sessions/${workflow.id}/inboxes`, { ttlSeconds: 60 });
    await t.call("POST", "/v1/forms", { name: "F", slug: "f", fields: [{ name: "a", type: "text" }] });
    const { body: form } = await t.call("POST", "/v1/forms/f/sessions", {});
    const probes: Array<[string, string, unknown?]> = [
      ["GET", `/api/v1/sessions/${workflow.id}`],
      ["POST", `/api/v1/sessions/${workflow.id}/complete`],
      ["GET", `/api/v1/sessions/${workflow.id}/timeline`],
      ["POST", `/api/v1/inboxes/${inbox.id}/messages`, { from: "a", subject: "b", body: "c" }],
      ["PATCH", `/api/v1/sessions/${thread.thread_id}`, { context_variables: { A: 1 } }],
      ["POST", `/api/v1/sessions/${thread.thread_id}/close`],
      ["GET", `/v1/sessions/${form.id}`],
      ["PATCH", `/v1/sessions/${form.id}`, { expires_in: 60 }],
      ["POST", "/v1/forms/f/sessions", {}],
    ];
    for (const [method, path, body] of probes) {
      const answer = await t.call(method, path, body, asB);
      expect([method, path, answer.status]).toEqual([method, path, 404]);
    }
    expect((await t.call("GET", "/api/v1/sessions", undefined, asB)).body.pagination.total).toBe(0);
    expect((await t.call("GET", `/api/v1/sessions/${workflow.id}`)).body.status).toBe("active");
  });

  it("reads a session by the kind of its record, and answers an id of another kind as not found", async () => {
    const t = setup();
    const { body: workflow } = await t.call("POST", "/api/v1/sessions", { name: "w" });
    const { body: thread } = await t.call("POST", "/api/v1/threads", {});
    const { body: form } = await t.call("POST", "/v1/forms", { name: "F", fields: [{ name: "a", type: "text" }] });
    const { body: formSession } = await t.call("POST", `/v1/forms/${form.id}/sessions`, {});
    const { body: agent } = await t.call("POST", "/v1/agents", { name: "a" });
    const { body: agentSession } = await t.call("POST", "/v1/sessions", { agent_id: agent.id });
    const ids = [workflow.id, thread.thread_id, form.id, formSession.id, agent.id, agentSession.id];
    const answers = async (path: (id: string) => string) =>
      Promise.all(ids.map(async (id) => ((answer) => (answer.status === 200 ? 200 : answer.body.message))(await t.call("GET", path(id)))));
    expect(await answers((id) => `/v1/sessions/${id}`)).toEqual([
      `Session ${workflow.id} not found`,
      `Session ${thread.thread_id} not found`,
      `Session ${form.id} not found`,
      200,
      `Session ${agent.id} not found`,
      200,
    ]);
    expect(await answers((id) => `/api/v1/sessions/${id}`)).toEqual([
      200,
      200,
      `Session ${form.id} not found`,
      `Session ${formSession.id} not found`,
      `Session ${agent.id} not found`,
      `Session ${agentSession.id} not found`,
    ]);
    expect((await t.call("GET", `/v1/sessions/${formSession.id}`)).body.form_id).toBe(form.id);
    expect((await t.call("GET", `/v1/sessions/${agentSession.id}`)).body.agent_id).toBe(agent.id);
    expect((await t.call("GET", `/api/v1/sessions/${thread.thread_id}`)).body.thread_id).toBe(thread.thread_id);
    expect((await t.call("GET", `/api/v1/sessions/${workflow.id}`)).body.name).toBe("w");
    // Another organization's, and the timeline of an unknown id: the same words.
    expect((await t.call("GET", `/v1/sessions/${agentSession.id}`, undefined, asB)).body.message).toBe(`Session ${agentSession.id} not found`);
    expect((await t.call("GET", `/api/v1/sessions/form_${"0".repeat(32)}/timeline`)).body.message).toBe(`Session form_${"0".repeat(32)} not found`);
  });

  it("refuses malformed JSON, unknown fields by name, wrong keys, and bodies over the limit", async () => {
    const t = setup({ maxBodyBytes: 1000 });
    expect((await t.call("POST", "/api/v1/sessions", "{not json")).body).toEqual({ error: "Invalid request", message: "the body is not valid JSON" });
    expect((await t.call("POST", "/api/v1/sessions", { name: "x", colour: "red" })).body.message).toBe("colour is not a known field");
    expect((await t.call("POST", "/api/v1/sessions", { name: "x" }, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await t.call("POST", "/api/v1/sessions", { name: "x" }, { authorization: "Basic abc" })).status).toBe(401);
    const big = await t.call("POST", "/api/v1/sessions", { name: "x", metadata: { blob: "y".repeat(2000) } });
    expect(big).toMatchObject({ status: 413, body: { error: "Payload too large", message: "the request body must be at most 1000 bytes" } });
    expect((await t.call("GET", "/api/v1/sessions")).body.pagination.total).toBe(0);
    expect((await t.call("DELETE", "/api/v1/sessions")).status).toBe(405);
  });

  it("replays a create with the same Idempotency-Key and body, and refuses another body", async () => {
    const t = setup();
    const headers = { authorization: `Bearer ${KEY_A}`, "idempotency-key": "retry-1" };
    const first = await t.call("POST", "/api/v1/sessions", { name: "once" }, headers);
    const again = await t.call("POST", "/api/v1/sessions", { name: "once" }, headers);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await t.call("POST", "/api/v1/sessions", { name: "twice" }, headers);
    expect(other).toMatchObject({ status: 422, body: { message: "Idempotency-Key: this key was already used with a different request" } });
    expect((await t.call("GET", "/api/v1/sessions")).body.pagination.total).toBe(1);
    // The same key in another organization is another key.
    expect((await t.call("POST", "/api/v1/sessions", { name: "once" }, { ...asB, "idempotency-key": "retry-1" })).status).toBe(201);
    // A refused request is remembered too: its retry gets the same 400.
    const bad = await t.call("POST", "/api/v1/sessions", {}, { ...headers, "idempotency-key": "retry-2" });
    expect((await t.call("POST", "/api/v1/sessions", {}, { ...headers, "idempotency-key": "retry-2" })).body).toEqual(bad.body);
  });

  it("answers a 500 with the route's message and no internals, and writes nothing", async () => {
    const t = setup();
    const { store } = t;
    store.insert = async () => {
      throw new Error("disk on fire at /var/lib/secret");
    };
    const failed = await t.call("POST", "/api/v1/sessions", { name: "x" }, { authorization: `Bearer ${KEY_A}`, "idempotency-key": "k" });
    expect(failed).toMatchObject({ status: 500, body: { error: "Internal server error", message: "Failed to create session" } });
    expect(JSON.stringify(failed.body)).not.toMatch(/disk|secret|Error:|at /);
    expect(t.errors).toHaveLength(1);
    expect(store.size).toBe(0);
    // The key was released: a retry after the fault runs again.
    delete (store as Partial<MemoryStore>).insert;
    expect((await t.call("POST", "/api/v1/sessions", { name: "x" }, { authorization: `Bearer ${KEY_A}`, "idempotency-key": "k" })).status).toBe(201);
  });

  it("streams a session's events as Server-Sent Events and long-polls them as JSON", async () => {
    const t = setup();
    const { body: session } = await t.call("POST", "/api/v1/sessions", { name: "watch" });
    const polled = await t.call("GET", `/api/v1/sessions/${session.id}/events`);
    expect(polled.body.events.map((e: { type: string }) => e.type)).toEqual(["session.created"]);
    const since = polled.body.events[0].id;
    const held = t.call("GET", `/api/v1/sessions/${session.id}/events?since=${since}&timeout=10`);
    setTimeout(() => void t.call("POST", `/api/v1/sessions/${session.id}/inboxes`, { ttlSeconds: 60 }), 50);
    expect((await held).body.events.map((e: { type: string }) => e.type)).toEqual(["inbox.created"]);
    expect((await t.call("GET", `/api/v1/sessions/${session.id}/events?since=evt_nope`)).status).toBe(400);

    const controller = new AbortController();
    const response = await t.router.fetch(
      new Request(`http://localhost/api/v1/sessions/${session.id}/events`, {
        headers: { authorization: `Bearer ${KEY_A}`, accept: "text/event-stream" },
        signal: controller.signal,
      }),
    );
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const until = async (needle: string) => {
      while (!text.includes(needle)) text += decoder.decode((await reader.read()).value);
    };
    await until("event: inbox.created");
    await t.call("POST", `/api/v1/sessions/${session.id}/complete`);
    await until("event: session.completed");
    expect(text.match(/^event: .+$/gm)).toEqual(["event: session.created", "event: inbox.created", "event: session.completed"]);
    controller.abort();
    await reader.cancel();
  });

  it("finds the event a poll continues from without reading the whole timeline", async () => {
    const t = setup();
    const { body: session } = await t.call("POST", "/api/v1/sessions", { name: "long" });
    for (let i = 0; i < 30; i++) await t.call("POST", `/api/v1/sessions/${session.id}/inboxes`, { ttlSeconds: 60 });
    const all = (await t.call("GET", `/api/v1/sessions/${session.id}/events`)).body.events;
    let whole = 0;
    const timeline = t.engine.timeline.bind(t.engine);
    t.engine.timeline = (...args) => {
      whole++;
      return timeline(...args);
    };
    for (const at of [30, 15, 0]) {
      const after = await t.call("GET", `/api/v1/sessions/${session.id}/events?since=${all[at].id}`);
      expect(after.body.events.map((event: { id: string }) => event.id)).toEqual(all.slice(at + 1).map((event: { id: string }) => event.id));
    }
    expect(whole).toBe(0);
    // An id that is not one of this session's events is still refused, after a look at the timeline.
    const other = (await t.call("POST", "/api/v1/sessions", { name: "other" })).body;
    const foreign = (await t.call("GET", `/api/v1/sessions/${other.id}/events`)).body.events[0].id;
    expect((await t.call("GET", `/api/v1/sessions/${session.id}/events?since=${foreign}`)).status).toBe(400);
    expect((await t.call("GET", `/api/v1/sessions/${session.id}/events?since=evt_${"0".repeat(32)}`)).status).toBe(400);
  });

  it("reads the store for a stream only as fast as the client reads it", async () => {
    const t = setup();
    const { body: session } = await t.call("POST", "/api/v1/sessions", { name: "slow reader" });
    let reads = 0;
    const timeline = t.store.timeline.bind(t.store);
    t.store.timeline = (...args) => {
      reads++;
      return timeline(...args);
    };
    const response = await t.router.fetch(
      new Request(`http://localhost/api/v1/sessions/${session.id}/events`, {
        headers: { authorization: `Bearer ${KEY_A}`, accept: "text/event-stream" },
      }),
    );
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toContain(": connected to");
    for (let i = 0; i < 20; i++) await t.call("POST", `/api/v1/sessions/${session.id}/inboxes`, { ttlSeconds: 60 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // One batch read ahead for the client, then nothing until it reads.
    const ahead = reads;
    expect(ahead).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reads).toBe(ahead);
    let text = "";
    while ((text.match(/^event: /gm) ?? []).length < 21) text += decoder.decode((await reader.read()).value);
    expect(text.match(/^event: .+$/gm)).toEqual(["event: session.created", ...Array(20).fill("event: inbox.created")]);
    await reader.cancel();
  });

  it("ends a stream whose store read fails and tells onError", async () => {
    const t = setup();
    const { body: session } = await t.call("POST", "/api/v1/sessions", { name: "failing store" });
    const response = await t.router.fetch(
      new Request(`http://localhost/api/v1/sessions/${session.id}/events`, {
        headers: { authorization: `Bearer ${KEY_A}`, accept: "text/event-stream" },
      }),
    );
    t.store.timeline = async () => {
      throw new Error("the store went away");
    };
    const text = await response.text(); // ends: the stream closes instead of hanging
    expect(text).toContain(": connected to");
    expect(text).not.toContain("event: ");
    expect(t.errors.map((error) => (error as Error).message)).toEqual(["the store went away"]);
  });

  it("builds its answers with the Response constructor it is given", async () => {
    class TracedResponse extends Response {}
    const engine = createEngine({ store: new MemoryStore() });
    const router = createRouter({ engine, apiKeys: [{ orgId: "org_a", key: "k" }], Response: TracedResponse });
    const headers = { authorization: "Bearer k", "content-type": "application/json" };
    const created = await router.fetch(new Request("http://localhost/api/v1/sessions", { method: "POST", headers, body: '{"name":"x"}' }));
    const refused = await router.fetch(new Request("http://localhost/api/v1/sessions", { method: "POST", headers, body: "{}" }));
    const missing = await router.fetch(new Request("http://localhost/nowhere"));
    expect([created, refused, missing].map((response) => response instanceof TracedResponse)).toEqual([true, true, true]);
    expect([created.status, refused.status, missing.status]).toEqual([201, 400, 404]);
  });
});
