import { MemoryStore } from "@agent-sessions/memory";
import { beforeEach, describe, expect, it } from "vitest";
import { AgentSessionsError, type CreateFormInput, createEngine, type Engine, type SessionEvent, type Store } from "../src/index.js";

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const ORG = "org_00000000000000000000000000000001";
const OTHER = "org_00000000000000000000000000000002";

function setup(store: Store = new MemoryStore()) {
  const clock = { now: T0 };
  const engine = createEngine({ store, clock: () => clock.now });
  const seen: SessionEvent[] = [];
  engine.events.on("*", (_type, event) => seen.push(event));
  return { engine, clock, store, seen };
}

async function failure(promise: Promise<unknown>): Promise<AgentSessionsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AgentSessionsError) return error;
    throw error;
  }
  throw new Error("expected the operation to fail");
}

const intake: CreateFormInput = {
  name: "Support intake",
  slug: "support-intake",
  fields: [
    { name: "email", type: "email", required: true },
    { name: "issue", type: "textarea", required: true },
    { name: "session_id", type: "hidden" },
  ],
  allowPartial: true,
};

describe("engine: forms and form sessions", () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it("creates a form, reads it by id and slug, and refuses a taken slug", async () => {
    const form = await t.engine.forms.create(ORG, intake);
    expect(form.id).toMatch(/^form_[0-9a-f]{32}$/);
    expect(await t.engine.forms.get(ORG, "support-intake")).toEqual(form);
    expect(await t.engine.forms.get(ORG, form.id)).toEqual(form);
    const taken = await failure(t.engine.forms.create(ORG, intake));
    expect(taken.code).toBe("conflict");
    expect(taken.message).toBe('slug: "support-intake" is already used by another form');
    expect((await failure(t.engine.forms.get(OTHER, "support-intake"))).code).toBe("not_found");
  });

  it("names the field of every bad input and rejects unknown fields by name", async () => {
    const cases: Array<[unknown, string]> = [
      [{ ...intake, slug: "Support Intake" }, "slug: must be lowercase letters and digits separated by single hyphens (at most 64)"],
      [{ ...intake, colour: "red" }, "colour is not a known field"],
      [
        { ...intake, fields: [{ name: "a", type: "radio" }] },
        "fields[0].type: must be one of text, email, number, textarea, select, checkbox, date, url, tel, hidden",
      ],
      [{ ...intake, fields: [{ name: "a", type: "select" }] }, "fields[0].options: a select field needs at least one option"],
      [
        {
          ...intake,
          fields: [
            { name: "a", type: "text" },
            { name: "a", type: "text" },
          ],
        },
        'fields[1].name: "a" is used by another field',
      ],
      [{ fields: intake.fields }, "name is required"],
      ["nope", "the body must be a JSON object"],
    ];
    for (const [input, message] of cases) {
      const error = await failure(t.engine.forms.create(ORG, input as never));
      expect([error.code, error.message]).toEqual(["invalid_input", message]);
    }
  });

  it("runs a session from created to submitted, emitting each event once", async () => {
    await t.engine.forms.create(ORG, intake);
    const created = await t.engine.formSessions.create(ORG, "support-intake", {
      expiresIn: 3600,
      prefill: { email: "user@example.com", session_id: "sess_internal_ref" },
      metadata: { thread_id: "thread_42" },
    });
    expect(created).toMatchObject({ status: "created", expiresAt: T0 + 3600_000, metadata: { thread_id: "thread_42" } });
    t.clock.now += 1000;
    expect((await t.engine.formSessions.open(created.id)).status).toBe("open");
    expect((await t.engine.formSessions.open(created.id)).openedAt).toBe(T0 + 1000);
    const submitted = await t.engine.formSessions.submit(created.id, {
      values: { issue: "Printer on fire", session_id: "forged" },
    });
    expect(submitted.submission).toMatchObject({
      values: { email: "user@example.com", issue: "Printer on fire", session_id: "sess_internal_ref" },
      partial: false,
      missingFields: [],
    });
    expect(t.seen.map((event) => event.type)).toEqual(["form.created", "session.created", "session.opened", "submission.created"]);
    const timeline = await t.engine.timeline(ORG, created.id);
    expect(timeline.map((event) => [event.seq, event.type])).toEqual([
      [1, "session.created"],
      [2, "session.opened"],
      [3, "submission.created"],
    ]);
    expect(timeline).toEqual(t.seen.slice(1));
  });

  it("records a partial submission with its missing fields", async () => {
    await t.engine.forms.create(ORG, intake);
    const session = await t.engine.formSessions.create(ORG, "support-intake");
    const submitted = await t.engine.formSessions.submit(session.id, { values: { email: "a@b.co" } });
    expect(submitted.submission).toMatchObject({ partial: true, missingFields: ["issue"] });
    expect(t.seen.at(-1)?.payload).toMatchObject({ partial: true, missing_fields: ["issue"] });
  });

  it("shows a session as expired once its deadline passed, before any sweep, and refuses a submission", async () => {
    await t.engine.forms.create(ORG, intake);
    const session = await t.engine.formSessions.create(ORG, "support-intake", { expiresIn: 60 });
    t.clock.now = T0 + 60_000;
    expect((await t.engine.formSessions.get(ORG, session.id)).status).toBe("expired");
    expect(t.seen.some((event) => event.type === "session.expired")).toBe(false);
    const error = await failure(t.engine.formSessions.submit(session.id, { values: { email: "a@b.co", issue: "x" } }));
    expect(error.code).toBe("expired");
    // The refused submission still persisted the expiry, once.
    expect(t.seen.filter((event) => event.type === "session.expired")).toHaveLength(1);
    expect((await t.engine.tick()).events).toBe(0);
    expect((await t.engine.timeline(ORG, session.id)).map((event) => event.type)).toEqual(["session.created", "session.expired"]);
  });

  it("never lists a session under a status its deadline ended, before any sweep", async () => {
    await t.engine.forms.create(ORG, intake);
    const expiring = await t.engine.formSessions.create(ORG, "support-intake", { expiresIn: 60 });
    const live = await t.engine.formSessions.create(ORG, "support-intake", { expiresIn: 3600 });
    t.clock.now = T0 + 60_000;
    const created = await t.engine.formSessions.list(ORG, { status: "created" });
    expect(created.data.map((session) => session.id)).toEqual([live.id]);
    expect(created.total).toBe(1);
    // Listing persisted the expiry, once, as the worker would have.
    expect(t.seen.filter((event) => event.type === "session.expired").map((event) => event.recordId)).toEqual([expiring.id]);
    const expired = await t.engine.formSessions.list(ORG, { status: "expired" });
    expect(expired.data.map((session) => [session.id, session.status])).toEqual([[expiring.id, "expired"]]);
    expect(expired.total).toBe(1);
    expect((await t.engine.tick()).events).toBe(0);
  });

  it("extends a live session and refuses to extend a submitted one", async () => {
    await t.engine.forms.create(ORG, intake);
    const session = await t.engine.formSessions.create(ORG, "support-intake", { expiresIn: 60 });
    expect((await t.engine.formSessions.extend(ORG, session.id, { expiresIn: 1800 })).expiresAt).toBe(T0 + 1_860_000);
    t.clock.now = T0 + 100_000;
    expect((await t.engine.formSessions.get(ORG, session.id)).status).toBe("created");
    await t.engine.formSessions.submit(session.id, { values: { email: "a@b.co", issue: "x" } });
    const error = await failure(t.engine.formSessions.extend(ORG, session.id, { expiresIn: 60 }));
    expect(error.code).toBe("illegal_transition");
    expect((await failure(t.engine.formSessions.extend(ORG, session.id, { expiresIn: 0 }))).message).toBe("expiresIn: must be at least 1");
    expect((await failure(t.engine.formSessions.extend(OTHER, session.id, { expiresIn: 60 }))).code).toBe("not_found");
  });

  it("lets exactly one of twenty different concurrent submissions win", async () => {
    await t.engine.forms.create(ORG, intake);
    const session = await t.engine.formSessions.create(ORG, "support-intake");
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => t.engine.formSessions.submit(session.id, { values: { email: "a@b.co", issue: `#${i}` } })),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") expect((result.reason as AgentSessionsError).code).toBe("illegal_transition");
    }
    expect(t.seen.filter((event) => event.type === "submission.created")).toHaveLength(1);
  });

  it("refuses metadata over its limit, naming it", async () => {
    await t.engine.forms.create(ORG, intake);
    const error = await failure(t.engine.formSessions.create(ORG, "support-intake", { metadata: { blob: "x".repeat(17_000) } }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(/^metadata: must be at most 16384 bytes as JSON/);
  });
});

describe("engine: tick", () => {
  it("persists each due expiry once, even with three engines ticking one store at once", async () => {
    const store = new MemoryStore();
    const engines = [setup(store), setup(store), setup(store)];
    const [first] = engines;
    await first!.engine.forms.create(ORG, intake);
    const sessions = await Promise.all(Array.from({ length: 50 }, () => first!.engine.formSessions.create(ORG, "support-intake", { expiresIn: 10 })));
    await Promise.all(engines.map(({ engine }) => engine.tick(T0 + 5_000)));
    expect(engines.flatMap(({ seen }) => seen).filter((e) => e.type === "session.expired")).toHaveLength(0);
    const results = await Promise.all(engines.map(({ engine }) => engine.tick(T0 + 10_000, { batch: 7 })));
    expect(results.reduce((sum, result) => sum + result.events, 0)).toBe(50);
    const expired = engines.flatMap(({ seen }) => seen).filter((event) => event.type === "session.expired");
    expect(new Set(expired.map((event) => event.recordId))).toEqual(new Set(sessions.map((s) => s.id)));
    expect(expired).toHaveLength(50);
    expect(expired.every((event) => event.at === T0 + 10_000)).toBe(true);
    expect((await first!.engine.formSessions.list(ORG, { status: "expired", limit: 100 })).total).toBe(50);
  });

  it("times out waits and expires pending actions", async () => {
    const t = setup();
    const workflow = await t.engine.workflows.create(ORG, { name: "signup" });
    const inbox = await t.engine.workflows.createInbox(ORG, workflow.id, { ttlSeconds: 3600 });
    const wait = await t.engine.workflows.createWait(ORG, workflow.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    const thread = await t.engine.threads.create(ORG);
    const action = await t.engine.threads.proposeAction(ORG, thread.id, { tool: "send_email", preview: {}, expiresIn: 30 });
    expect(await t.engine.tick(T0 + 120_000)).toEqual({ claimed: 2, events: 2, deliveries: 0, actions: 0, purged: 0 });
    expect((await t.engine.workflows.getWait(ORG, wait.id)).status).toBe("timed_out");
    expect((await t.engine.threads.getAction(ORG, thread.id, action.id)).cancelReason).toBe("expired");
    expect(t.seen.filter((e) => e.type === "wait.timed_out" || e.type === "action.cancelled").map((e) => [e.type, e.at])).toEqual([
      ["action.cancelled", T0 + 30_000],
      ["wait.timed_out", T0 + 120_000],
    ]);
  });
});

describe("engine: workflows, inboxes and waits", () => {
  let engine: Engine;
  let seen: SessionEvent[];
  beforeEach(() => {
    ({ engine, seen } = setup());
  });

  it("matches an OTP message that arrived before its wait, and replays the steps", async () => {
    const session = await engine.workflows.create(ORG, { name: "user-signup-flow", metadata: { environment: "staging" } });
    expect(session).toMatchObject({ status: "active", inboxes: [], waits: [], completedAt: null });
    const inbox = await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 3600 });
    const message = await engine.workflows.postMessage(ORG, inbox.id, {
      from: "no-reply@example.com",
      subject: "Your code",
      body: "Your verification code is 482913.",
    });
    const wait = await engine.workflows.createWait(ORG, session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    expect(wait).toMatchObject({ status: "completed", result: { messageId: message.id, code: "482913" } });
    expect((await engine.workflows.getWait(ORG, wait.id)).sessionId).toBe(session.id);
    const steps = await engine.workflows.replay(ORG, session.id);
    expect(steps.map((step) => [step.index, step.action, step.input, step.output])).toEqual([
      [0, "create_inbox", { ttlSeconds: 3600 }, { id: inbox.id }],
      [1, "create_wait", { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 }, { id: wait.id }],
    ]);
    expect(seen.map((event) => event.type)).toEqual(["session.created", "inbox.created", "message.received", "wait.created", "wait.completed"]);
    expect((await engine.workflows.complete(ORG, session.id)).status).toBe("completed");
    expect((await engine.workflows.complete(ORG, session.id)).status).toBe("completed");
    expect(seen.filter((event) => event.type === "session.completed")).toHaveLength(1);
  });

  it("refuses a message that would grow a session past its size limit, and keeps what it had", async () => {
    const session = await engine.workflows.create(ORG, { name: "big" });
    const inbox = await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 3600 });
    const body = "x".repeat(60 * 1024);
    let refused: AgentSessionsError | undefined;
    let accepted = 0;
    for (let i = 0; i < 40 && !refused; i++) {
      try {
        await engine.workflows.postMessage(ORG, inbox.id, { from: "a@b.co", subject: `#${i}`, body });
        accepted++;
      } catch (error) {
        refused = error as AgentSessionsError;
      }
    }
    expect(refused?.code).toBe("payload_too_large");
    expect(refused?.message).toBe(`session ${session.id} would exceed 1048576 bytes`);
    expect(accepted).toBe(17); // 17 bodies of 60 KiB and their envelopes fit in 1 MiB; an 18th does not
    expect((await engine.workflows.get(ORG, session.id)).messages).toHaveLength(accepted);
  });

  it("answers not found for another organization's inbox, wait and session", async () => {
    const session = await engine.workflows.create(ORG, { name: "x" });
    const inbox = await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 60 });
    const wait = await engine.workflows.createWait(ORG, session.id, { type: "message", inboxId: inbox.id, timeoutSeconds: 60 });
    const refusals = await Promise.all([
      failure(engine.workflows.get(OTHER, session.id)),
      failure(engine.workflows.postMessage(OTHER, inbox.id, { from: "a", subject: "b", body: "c" })),
      failure(engine.workflows.getWait(OTHER, wait.id)),
      failure(engine.timeline(OTHER, session.id)),
    ]);
    expect(refusals.map((error) => error.message)).toEqual([
      `Session ${session.id} not found`,
      `Inbox ${inbox.id} not found`,
      `Wait ${wait.id} not found`,
      `Session ${session.id} not found`,
    ]);
  });

  it("moves to failed on a critical step error and lists by status", async () => {
    const a = await engine.workflows.create(ORG, { name: "a" });
    await engine.workflows.create(ORG, { name: "b" });
    await engine.workflows.recordStep(ORG, a.id, { action: "charge_card", durationMs: 12, error: { message: "card declined", critical: true } });
    expect((await engine.workflows.get(ORG, a.id)).status).toBe("failed");
    const failed = await engine.workflows.list(ORG, { status: "failed" });
    expect([failed.total, failed.data.map((w) => w.id)]).toEqual([1, [a.id]]);
    expect((await engine.workflows.list(ORG, { limit: 1 })).total).toBe(2);
    expect((await failure(engine.workflows.list(ORG, { limit: 101 }))).message).toBe("limit: must be at most 100");
    // A status the kind does not have is named first, however long, whatever else the query holds.
    for (const status of ["paused", "x".repeat(40)]) {
      const refused = await failure(engine.workflows.list(ORG, { status: status as "active", limit: 101 }));
      expect(refused.message).toBe("status: must be one of active, completed, failed");
    }
  });
});

describe("engine: threads and pending actions", () => {
  it("updates context variables, confirms and cancels actions, and closes with billing", async () => {
    const { engine, clock, seen } = setup();
    const thread = await engine.threads.create(ORG, { contextVariables: { USER_PLAN: "free" } });
    const updated = await engine.threads.updateContext(ORG, thread.id, {
      contextVariables: { USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" },
    });
    expect(updated.contextVariables).toEqual({ USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" });
    const bad = await failure(engine.threads.updateContext(ORG, thread.id, { contextVariables: { userPlan: "x" } }));
    expect(bad.message).toBe("contextVariables.userPlan: keys must be UPPERCASE_SNAKE_CASE");

    const email = await engine.threads.proposeAction(ORG, thread.id, {
      tool: "send_email",
      preview: { to: "user@example.com", subject: "Order Confirmation" },
    });
    const other = await engine.threads.proposeAction(ORG, thread.id, { tool: "refund", preview: { amount: 5 }, expiresIn: 3600 });
    const confirmed = await engine.threads.decideAction(ORG, thread.id, email.id, { confirmed: true });
    expect(confirmed.action).toMatchObject({ status: "processing", callbackId: expect.stringMatching(/^cb_[0-9a-f]{32}$/) });
    const again = await engine.threads.decideAction(ORG, thread.id, email.id, { confirmed: true });
    expect(again.action.callbackId).toBe(confirmed.action.callbackId);
    expect((await failure(engine.threads.decideAction(ORG, thread.id, email.id, { confirmed: false }))).code).toBe("illegal_transition");
    const missing = await failure(engine.threads.decideAction(ORG, thread.id, "act_00000000000000000000000000000000", { confirmed: true }));
    expect([missing.code, missing.message]).toEqual(["not_found", "Action act_00000000000000000000000000000000 not found"]);

    clock.now = T0 + 900_000;
    const closed = await engine.threads.close(ORG, thread.id);
    expect(closed).toMatchObject({ status: "closed", durationSeconds: 900, billable: true, closedAt: T0 + 900_000 });
    expect((await engine.threads.getAction(ORG, thread.id, other.id)).cancelReason).toBe("thread_closed");
    const succeeded = await engine.threads.recordActionOutcome(ORG, thread.id, email.id, { result: { messageId: "m1" } });
    expect(succeeded.action).toMatchObject({ status: "succeeded", attempts: 1, result: { messageId: "m1" } });
    expect(seen.find((e) => e.type === "action.succeeded")?.payload).toMatchObject({ callback_id: confirmed.action.callbackId });
    expect((await failure(engine.threads.updateContext(ORG, thread.id, { contextVariables: { A: 1 } }))).code).toBe("illegal_transition");
  });

  it("uses the configured billing policy", async () => {
    const engine = createEngine({ store: new MemoryStore(), clock: () => T0, billable: () => false });
    const thread = await engine.threads.create(ORG);
    expect((await engine.threads.close(ORG, thread.id)).billable).toBe(false);
  });
});

describe("engine: agents and agent sessions", () => {
  it("creates sessions only for existing, well-formed agent ids and builds the runtime agent", async () => {
    const { engine } = setup();
    const agent = await engine.agents.create(ORG, {
      name: "support",
      capabilities: [{ ref: "search", config: { depth: 1, lang: "en" } }],
      modelId: "model_a",
    });
    expect(agent.id).toMatch(/^agent_[0-9a-f]{32}$/);
    const invalid = await failure(engine.agentSessions.create(ORG, { agentId: "agent_123" }));
    expect([invalid.code, invalid.message]).toEqual(["invalid_input", "agentId: Invalid agent ID"]);
    const absent = await failure(engine.agentSessions.create(OTHER, { agentId: agent.id }));
    expect(absent.code).toBe("invalid_input");
    const session = await engine.agentSessions.create(ORG, {
      agentId: agent.id,
      capabilities: [{ ref: "search", config: { depth: 3 } }, { ref: "browse" }],
      tags: ["debugging", "urgent"],
      title: "Debug login issue",
    });
    expect(session).toMatchObject({ status: "started", startedAt: null, finishedAt: null, usage: null });
    expect(await engine.agentSessions.runtimeAgent(ORG, session.id)).toEqual({
      agentId: agent.id,
      sessionId: session.id,
      name: "support",
      modelId: "model_a",
      capabilities: [{ ref: "search", config: { depth: 3, lang: "en" } }, { ref: "browse" }],
    });
    await engine.agentSessions.postMessage(ORG, session.id, { role: "user", content: "Hi", usage: { input_tokens: 3 } });
    const busy = await failure(engine.agentSessions.postMessage(ORG, session.id, { role: "user", content: "again" }));
    expect(busy.code).toBe("illegal_transition");
    const idle = await engine.agentSessions.postMessage(ORG, session.id, {
      role: "assistant",
      content: "Hello!",
      usage: { input_tokens: 2, output_tokens: 5 },
    });
    expect(idle).toMatchObject({ status: "idle", preview: "Hi", outputPreview: "Hello!", usage: { input_tokens: 5, output_tokens: 5 } });
    expect((await engine.agentSessions.finish(ORG, session.id)).finishedAt).toBe(T0);
  });
});

describe("engine: in-process listeners", () => {
  it("keeps the write and the other listeners when one listener throws", async () => {
    const errors: unknown[] = [];
    const engine = createEngine({ store: new MemoryStore(), clock: () => T0, onListenerError: (error) => errors.push(error) });
    const heard: string[] = [];
    engine.events.on("session.created", () => {
      throw new Error("listener bug");
    });
    engine.events.on("session.created", (event) => heard.push(event.recordId));
    const session = await engine.workflows.create(ORG, { name: "x" });
    expect(heard).toEqual([session.id]);
    expect(errors).toHaveLength(1);
    expect((await engine.workflows.get(ORG, session.id)).id).toBe(session.id);
  });
});
