// Every method of the client against the real router, in process (seed usage verbatim where a seed shows it).
import { ApiError, createClient } from "@agent-sessions/client";
import { describe, expect, it } from "vitest";
import { inProcess, KEY, OTHER_KEY } from "./router.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("seed 001: workflow sessions, inboxes, messages, waits", () => {
  it("creates, lists, gets, records, times, replays and completes a session as the seed shows", async () => {
    const { client } = inProcess();
    const session = await client.sessions.create({ name: "user-signup-flow", metadata: { environment: "staging" } });
    expect(session.id).toMatch(/^sess_[0-9a-f]{32}$/);
    expect(session).toMatchObject({ name: "user-signup-flow", status: "active", completedAt: null, inboxes: [], waits: [] });
    expect(session.createdAt).toMatch(ISO);
    await client.sessions.create({ name: "second-flow" });

    const sessions = await client.sessions.list({ status: "active", limit: 20, offset: 0 });
    expect(sessions.data.length).toBe(2);
    expect(sessions.pagination).toMatchObject({ limit: 20, offset: 0, total: 2 });
    const page = await client.sessions.list({ limit: 1 });
    expect(page.data.length).toBe(1);
    expect(page.pagination.nextCursor).toEqual(expect.any(String));
    const next = await client.sessions.list({ limit: 1, cursor: page.pagination.nextCursor! });
    expect(next.data[0]!.id).not.toBe(page.data[0]!.id);

    const inbox = await client.inboxes.create(session.id, { ttlSeconds: 3600 });
    expect(inbox).toMatchObject({ id: expect.stringMatching(/^inb_/), sessionId: session.id, ttlSeconds: 3600 });
    const wait = await client.waits.create(session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    expect(wait).toMatchObject({ id: expect.stringMatching(/^wait_/), status: "pending", result: null });

    const fetched = await client.sessions.get(session.id);
    expect([fetched.status, fetched.inboxes, fetched.waits]).toEqual(["active", [inbox.id], [wait.id]]);

    const step = await client.sessions.recordStep(session.id, { action: "send_email", input: { to: "a@b.c" }, durationMs: 12 });
    expect(step).toMatchObject({ action: "send_email", durationMs: 12 });

    const done = client.waits.waitFor(wait.id, { pollSeconds: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const message = await client.messages.create(inbox.id, { from: "no-reply@example.com", subject: "Your code", body: "Your code is 482913" });
    expect(message.id).toMatch(/^msg_/);
    const completed = await done;
    expect(completed).toMatchObject({ status: "completed", result: { code: "482913", messageId: message.id } });
    expect((await client.waits.get(wait.id)).status).toBe("completed");
    expect((await client.inboxes.get(inbox.id)).messages.map((m) => m.id)).toEqual([message.id]);

    const timeline = await client.sessions.timeline(session.id);
    expect(timeline.events.map((event) => event.type)).toEqual([
      "session.created",
      "inbox.created",
      "wait.created",
      "step.recorded",
      "message.received",
      "wait.completed",
    ]);
    const replay = await client.sessions.replay(session.id);
    expect(replay.steps.map((s) => s.action)).toEqual(["create_inbox", "create_wait", "send_email"]);

    const closed = await client.sessions.complete(session.id);
    expect(closed).toMatchObject({ id: session.id, status: "completed", completedAt: expect.stringMatching(ISO) });
  });

  it("waitFor re-polls until the wait times out, and gives up at the caller's deadline", async () => {
    const { client, calls } = inProcess();
    const session = await client.sessions.create({ name: "nobody-answers" });
    const inbox = await client.inboxes.create(session.id, { ttlSeconds: 60 });
    const slow = await client.waits.create(session.id, { type: "message", inboxId: inbox.id, timeoutSeconds: 60 });
    const began = Date.now();
    const pending = await client.waits.waitFor(slow.id, { timeoutSeconds: 0.6, pollSeconds: 0.25 });
    expect(pending.status).toBe("pending");
    expect(Date.now() - began).toBeGreaterThanOrEqual(550);
    expect(calls.filter((call) => call.url.includes(`/waits/${slow.id}`)).length).toBeGreaterThanOrEqual(3);

    const quick = await client.waits.create(session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 1 });
    const timedOut = await client.waits.waitFor(quick.id, { pollSeconds: 0.3 });
    expect(timedOut.status).toBe("timed_out");
  });

  it("creates a wait with options, and waitFor answers a resolve_with value at its timeout, told apart by timed_out", async () => {
    const { client } = inProcess();
    const session = await client.sessions.create({ name: "fallback" });
    const inbox = await client.inboxes.create(session.id, { ttlSeconds: 60 });
    const since = new Date(Date.now() - 1000).toISOString();
    const wait = await client.waits.create(session.id, {
      type: "otp",
      inboxId: inbox.id,
      timeoutSeconds: 1,
      on_timeout: { resolve_with: { code: null, reason: "no mail" } },
      pattern: "PIN (\\d{4})",
      since,
      remind_before: [600],
    });
    expect(wait).toMatchObject({ status: "pending", timed_out: false, pattern: "PIN (\\d{4})", since, remind_before: [600] });
    const done = await client.waits.waitFor(wait.id, { pollSeconds: 0.3 });
    expect(done).toMatchObject({ status: "completed", timed_out: true, result: { code: null, reason: "no mail" } });
    // The type tells a message's result from a resolve_with value.
    const code = done.timed_out ? null : done.result?.code;
    expect(code).toBeNull();
  });

  it("iterates a session's events: those written, then each new one, resuming after `since`", async () => {
    const { client } = inProcess();
    const session = await client.sessions.create({ name: "watched" });
    const seen: string[] = [];
    const controller = new AbortController();
    const consumer = (async () => {
      for await (const event of client.sessions.events(session.id, { pollSeconds: 1, signal: controller.signal })) {
        seen.push(event.type);
        if (event.type === "inbox.created") return event.id;
      }
      return null;
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.inboxes.create(session.id, { ttlSeconds: 60 });
    const inboxEventId = await consumer;
    expect(seen).toEqual(["session.created", "inbox.created"]);

    await client.sessions.complete(session.id);
    const after: string[] = [];
    for await (const event of client.sessions.events(session.id, { since: inboxEventId! })) {
      after.push(event.type);
      break;
    }
    expect(after).toEqual(["session.completed"]);

    const stopped = new AbortController();
    const iteration = (async () => {
      for await (const _ of client.sessions.events(session.id, {
        since: (await client.sessions.timeline(session.id)).events.at(-1)!.id,
        signal: stopped.signal,
      })) {
        // nothing more comes
      }
    })();
    setTimeout(() => stopped.abort(new Error("enough")), 100);
    await expect(iteration).rejects.toThrow("enough");
    controller.abort();
  });
});

describe("seed 000: forms and form sessions", () => {
  it("creates and lists forms, creates a session by slug with prefill, reads and extends it", async () => {
    const { client } = inProcess();
    const form = await client.forms.create({
      name: "Support intake",
      slug: "support-intake",
      allowPartial: true,
      fields: [
        { name: "email", label: "Email", type: "email", required: true },
        { name: "session_id", type: "hidden" },
      ],
    });
    expect(form).toMatchObject({ id: expect.stringMatching(/^form_/), slug: "support-intake", allowPartial: true });
    expect((await client.forms.get("support-intake")).id).toBe(form.id);
    const forms = await client.forms.list();
    expect(forms.data.map((f) => f.slug)).toEqual(["support-intake"]);

    const session = await client.formSessions.create("support-intake", {
      expires_in: 3600,
      prefill: { email: "user@example.com", session_id: "sess_internal_ref" },
      metadata: { thread_id: "thread_42" },
    });
    expect(session).toMatchObject({ form_id: form.id, status: "created", submission: null, metadata: { thread_id: "thread_42" } });
    expect(session.url).toBe(`http://agent-sessions.test/f/${session.id}`);
    const got = await client.formSessions.get(session.id);
    expect(got.prefill).toEqual({ email: "user@example.com", session_id: "sess_internal_ref" });

    const extended = await client.formSessions.extend(session.id, { expires_in: 1800 });
    expect(Date.parse(extended.expires_at) - Date.parse(session.expires_at)).toBe(1800 * 1000);

    const reminded = await client.formSessions.create("support-intake", { remind_before: [600, 60], prefill: { email: "user@example.com" } });
    expect(reminded.remind_before).toEqual([600, 60]);
    expect(session).not.toHaveProperty("remind_before");
  });

  it("names the form that does not exist and the prefill field that is not one", async () => {
    const { client } = inProcess();
    const missing = await client.formSessions.create("no-such-form", {}).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, error: "Not found" });
    expect((missing as ApiError).message).toContain("no-such-form");

    await client.forms.create({ name: "Intake", slug: "intake", fields: [{ name: "email", type: "email" }] });
    const wrong = await client.formSessions.create("intake", { prefill: { nmae: "x" } }).catch((error: unknown) => error);
    expect(wrong).toMatchObject({ status: 400, error: "Invalid request" });
    expect((wrong as ApiError).message).toMatch(/^prefill\.nmae/);
  });
});

describe("seed 002: threads and pending actions", () => {
  it("creates a thread, updates its context variables, proposes, confirms, cancels and closes", async () => {
    const { client, engine } = inProcess({
      engine: { actions: { send_email: async () => ({ sent: true }), refund: async () => ({ refunded: true }) } },
    });
    const thread = await client.threads.create({ context_variables: { USER_PLAN: "free" } });
    expect(thread).toMatchObject({ thread_id: expect.stringMatching(/^thread_/), status: "active" });

    const updated = await client.threads.updateContext(thread.thread_id, {
      context_variables: { USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" },
    });
    expect(updated.context_variables).toEqual({ USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" });
    const removed = await client.threads.updateContext(thread.thread_id, { context_variables: { ACCOUNT_STATUS: null } });
    expect(removed.context_variables).toEqual({ USER_PLAN: "enterprise" });
    const badKey = await client.threads.updateContext(thread.thread_id, { context_variables: { userPlan: "x" } }).catch((e: unknown) => e);
    expect(badKey).toMatchObject({ status: 400 });
    expect((badKey as ApiError).message).toContain("context_variables.userPlan");

    const action = await client.actions.propose(thread.thread_id, { tool: "send_email", preview: { to: "user@example.com" }, expires_in: 300 });
    expect(action).toMatchObject({ action_id: expect.stringMatching(/^act_/), tool: "send_email", status: "pending" });
    const confirmed = await client.actions.confirm(thread.thread_id, action.action_id);
    expect(confirmed).toMatchObject({ status: "processing", message: "Action confirmed, executing...", callback_id: expect.stringMatching(/^cb_/) });
    await engine.tick();
    await expect.poll(async () => (await client.actions.get(thread.thread_id, action.action_id)).status).toBe("succeeded");

    const other = await client.actions.propose(thread.thread_id, { tool: "refund", preview: { amount: 5 } });
    const cancelled = await client.actions.cancel(thread.thread_id, other.action_id);
    expect(cancelled).toEqual({ thread_id: thread.thread_id, action_id: other.action_id, status: "cancelled", message: "Action cancelled" });

    expect((await client.threads.get(thread.thread_id)).pending_actions).toEqual([]);
    const closed = await client.threads.close(thread.thread_id);
    expect(closed).toMatchObject({ thread_id: thread.thread_id, duration_seconds: expect.any(Number), billable: expect.any(Boolean) });
  });
});

describe("human decisions on actions (issue 18)", () => {
  it("proposes with arguments, a schema and approvers; confirms with edited arguments; denies with a reason; shows who decided", async () => {
    const ran: unknown[] = [];
    const { client, engine } = inProcess({
      engine: {
        actions: {
          send_email: async (action) => {
            ran.push(action.args);
            return { sent: true };
          },
        },
      },
      router: { apiKeys: [{ orgId: "org_a", key: KEY, label: "ops-bot" }] },
    });
    const thread = await client.threads.create();
    const argsSchema = { type: "object", properties: { to: { type: "string", format: "email" } }, required: ["to"], additionalProperties: false };
    const action = await client.actions.propose(thread.thread_id, {
      tool: "send_email",
      preview: { to: "ana@example.com" },
      args: { to: "ana@example.com" },
      args_schema: argsSchema,
      on_expire: "deny",
      remind_before: [60],
      expires_in: 600,
    });
    expect(action).toMatchObject({
      args: { to: "ana@example.com" },
      args_changed: false,
      args_schema: argsSchema,
      on_expire: "deny",
      remind_before: [60],
    });
    expect(action.review_url).toMatch(/^http:\/\/agent-sessions\.test\/r\/\S+$/);
    expect(action.review_urls).toBeUndefined();

    const refused = await client.actions.confirm(thread.thread_id, action.action_id, { args: { to: 42 } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400, message: expect.stringContaining("args.to") });
    expect((await client.actions.get(thread.thread_id, action.action_id)).status).toBe("pending");

    const confirmed = await client.actions.confirm(thread.thread_id, action.action_id, { args: { to: "bob@example.com" } });
    expect(confirmed).toMatchObject({ status: "processing", callback_id: expect.stringMatching(/^cb_/) });
    await engine.tick();
    const done = await client.actions.get(thread.thread_id, action.action_id);
    expect(done).toMatchObject({
      status: "succeeded",
      args: { to: "bob@example.com" },
      original_args: { to: "ana@example.com" },
      args_changed: true,
      decided_by: "org_a/ops-bot",
      decided_via: "api",
      decided_at: expect.stringMatching(ISO),
    });
    expect(ran).toEqual([{ to: "bob@example.com" }]);

    const quorum = await client.actions.propose(thread.thread_id, {
      tool: "send_email",
      preview: { to: "team@example.com" },
      approvers: ["ana@example.com", "bob@example.com"],
      approvals_required: 2,
    });
    expect(quorum).toMatchObject({ approvers: ["ana@example.com", "bob@example.com"], approvals_required: 2, approvals: [] });
    expect(Object.keys(quorum.review_urls ?? {})).toEqual(["ana@example.com", "bob@example.com"]);
    const denied = await client.actions.deny(thread.thread_id, quorum.action_id, { reason: "wrong recipient" });
    expect(denied).toMatchObject({ status: "cancelled", message: "Action cancelled" });
    expect(await client.actions.get(thread.thread_id, quorum.action_id)).toMatchObject({
      status: "cancelled",
      cancel_reason: "person",
      reason: "wrong recipient",
      decided_by: "org_a/ops-bot",
      decided_via: "api",
    });

    const third = await client.actions.propose(thread.thread_id, { tool: "send_email", preview: {} });
    const both = await client.actions
      .decide(thread.thread_id, third.action_id, { confirmed: false, reason: "x".repeat(1001) })
      .catch((e: unknown) => e);
    expect(both).toMatchObject({ status: 400, message: expect.stringContaining("reason") });
    expect(await client.actions.decide(thread.thread_id, third.action_id, { confirmed: false })).toMatchObject({ status: "cancelled" });
    expect((await client.actions.get(thread.thread_id, third.action_id)).reason).toBeNull();
  });
});

describe("seed 003: agents and agent sessions", () => {
  it("creates and lists agents, runs a session through a turn and finishes it", async () => {
    const { client } = inProcess();
    const agent = await client.agents.create({ name: "Support bot", capabilities: [{ ref: "search" }], model_id: "model_a" });
    expect(agent.id).toMatch(/^agent_[0-9a-f]{32}$/);
    expect((await client.agents.get(agent.id)).name).toBe("Support bot");
    expect((await client.agents.list()).data.map((a) => a.id)).toEqual([agent.id]);

    const session = await client.agentSessions.create({ agent_id: agent.id, tags: ["debugging"], title: "Debug login issue" });
    expect(session).toMatchObject({ id: expect.stringMatching(/^session_/), agent_id: agent.id, status: "started", organization_id: "org_a" });
    const turn = await client.agentSessions.postMessage(session.id, { role: "user", content: "I cannot log in" });
    expect(turn).toMatchObject({ status: "active", preview: "I cannot log in" });
    const answered = await client.agentSessions.postMessage(session.id, { role: "assistant", content: "Try resetting", usage: { input_tokens: 10 } });
    expect(answered).toMatchObject({ output_preview: "Try resetting", usage: { input_tokens: 10 } });
    expect((await client.agentSessions.get(session.id)).id).toBe(session.id);
    expect((await client.agentSessions.finish(session.id)).finished_at).toMatch(ISO);

    const invalid = await client.agentSessions.create({ agent_id: "agent_nope" }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400 });
    expect((invalid as ApiError).message).toContain("Invalid agent ID");
  });
});

describe("webhooks", () => {
  it("adds an endpoint (secret once), lists, reads, shows its delivery log and deletes it", async () => {
    const delivered: string[] = [];
    const { client, engine } = inProcess({
      engine: {
        webhooks: { allowPrivateAddresses: true },
        fetch: async (input) => {
          delivered.push(String(input));
          return new Response("ok");
        },
      },
    });
    const endpoint = await client.webhooks.create({ url: "http://127.0.0.1:9/hooks", events: ["session.*"], description: "audit" });
    expect(endpoint).toMatchObject({
      id: expect.stringMatching(/^wh_/),
      status: "active",
      events: ["session.*"],
      secret: expect.stringMatching(/^whsec_/),
    });
    const listed = await client.webhooks.list();
    expect(listed.data.map((w) => w.id)).toEqual([endpoint.id]);
    expect(listed.data[0]).not.toHaveProperty("secret");
    expect(await client.webhooks.get(endpoint.id)).not.toHaveProperty("secret");

    await client.sessions.create({ name: "announced" });
    await engine.tick();
    await expect.poll(async () => (await client.webhooks.deliveries(endpoint.id)).data.length).toBeGreaterThan(0);
    const log = await client.webhooks.deliveries(endpoint.id, { limit: 10 });
    expect(log.data[0]).toMatchObject({ event_type: "session.created", status: "succeeded", status_code: 200, attempt: 1 });
    expect(delivered).toEqual(["http://127.0.0.1:9/hooks"]);

    expect(await client.webhooks.delete(endpoint.id)).toEqual({ id: endpoint.id, deleted: true });
    await expect(client.webhooks.get(endpoint.id)).rejects.toMatchObject({ status: 404 });
  });
});

describe("tenancy and keys", () => {
  it("another organization's key sees a 404, a wrong key a 401 with the seed's body", async () => {
    const { client, fetch } = inProcess();
    const session = await client.sessions.create({ name: "private" });
    const other = createClient({ baseUrl: "http://agent-sessions.test", apiKey: OTHER_KEY, fetch });
    await expect(other.sessions.get(session.id)).rejects.toMatchObject({ status: 404, error: "Not found" });
    const wrong = createClient({ baseUrl: "http://agent-sessions.test", apiKey: "nope", fetch });
    await expect(wrong.sessions.list()).rejects.toMatchObject({ status: 401, error: "Unauthorized", message: "Invalid or missing API key" });
  });
});
