import { MemoryStore } from "@agent-sessions/memory";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AgentSessionsError,
  createEngine,
  createMemoryNotifier,
  type Engine,
  type EngineOptions,
  matchesFilter,
  type SessionEvent,
  signWebhook,
} from "../src/index.js";
import { webhookMachine } from "../src/machines/webhook.js";
import { httpReceiver } from "./http-receiver.js";

const ORG = "org_00000000000000000000000000000001";
const OTHER = "org_00000000000000000000000000000002";

/** The error an operation failed with. */
const failure = (promise: Promise<unknown>): Promise<AgentSessionsError> =>
  promise.then(
    () => Promise.reject(new Error("expected the operation to fail")),
    (error: AgentSessionsError) => error,
  );

describe("webhook signatures, checked by the standardwebhooks package", () => {
  let receiver: Awaited<ReturnType<typeof httpReceiver>>;
  let engine: Engine;
  beforeEach(async () => {
    receiver = await httpReceiver();
    // The real clock: the verifier refuses timestamps more than five minutes from its own.
    engine = createEngine({ store: new MemoryStore(), webhooks: { allowPrivateAddresses: true } });
  });
  afterEach(async () => {
    await engine.close();
    await receiver.close();
  });

  it("signs every delivery so an independent verifier accepts it, and refuses a tampered body or a stale timestamp", async () => {
    const hook = await engine.webhooks.create(ORG, { url: receiver.url, events: ["session.created"] });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(hook.secret.slice("whsec_".length))).toHaveLength(32);
    const workflow = await engine.workflows.create(ORG, { name: "signup" });
    expect(await engine.tick()).toMatchObject({ deliveries: 1 });

    const [request] = receiver.received;
    const [created] = await engine.timeline(ORG, workflow.id);
    const headers = { "webhook-id": request!.id, "webhook-timestamp": request!.timestamp, "webhook-signature": request!.signature };
    const verifier = new Webhook(hook.secret);
    expect(verifier.verify(request!.body, headers)).toEqual({
      type: "session.created",
      timestamp: new Date(created!.at).toISOString(),
      data: { sessionId: workflow.id },
    });
    expect(request!.id).toBe(created!.id);
    expect(receiver.headers[0]!["content-type"]).toBe("application/json");

    const tampered = request!.body.replace(workflow.id, "sess_00000000000000000000000000000000");
    expect(() => verifier.verify(tampered, headers)).toThrow(/signature/i);
    expect(() => new Webhook(`whsec_${btoa("another secret of 24 bytes!")}`).verify(request!.body, headers)).toThrow();

    // A signature made ten minutes ago is valid as a signature but refused as stale.
    const staleSeconds = Math.floor(Date.now() / 1000) - 600;
    const stale = {
      ...headers,
      "webhook-timestamp": String(staleSeconds),
      "webhook-signature": await signWebhook(hook.secret, request!.id, staleSeconds, request!.body),
    };
    expect(() => verifier.verify(request!.body, stale)).toThrow(/too old/i);
  });

  it("signs exactly as the reference implementation does", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const reference = new Webhook(secret).sign("evt_1", new Date(1_700_000_000_000), '{"type":"x"}');
    expect(await signWebhook(secret, "evt_1", 1_700_000_000, '{"type":"x"}')).toBe(reference);
  });
});

describe("webhook endpoint machine: send_test", () => {
  const endpoint = {
    id: "wh_00000000000000000000000000000001",
    orgId: ORG,
    url: "https://hooks.example.com/in",
    events: [],
    description: null,
    secret: "whsec_x",
    status: "active" as const,
    createdAt: 0,
    updatedAt: 0,
    deletedAt: null,
  };
  const delivery = { id: "dlv_1", orgId: ORG, topic: "delivery", payload: { type: "webhook.test" }, availableAt: 5 };

  it.each([
    ["active", true],
    ["deleted", false],
  ] as const)("on an %s endpoint: enqueues the delivery with no event and the state unchanged, or refuses", (status, accepted) => {
    const state = { ...endpoint, status };
    const result = webhookMachine.transition(state, { type: "send_test", delivery }, 10);
    if (!accepted) {
      expect(result).toMatchObject({ ok: false, error: { code: "conflict" } });
      return;
    }
    expect(result).toEqual({ ok: true, state, events: [], effects: { outbox: [delivery] } });
  });
});

describe("webhook event filters", () => {
  it("matches event filters: all, one type, or a prefix", () => {
    expect(matchesFilter([], "session.expired")).toBe(true);
    expect(matchesFilter(["*"], "session.expired")).toBe(true);
    expect(matchesFilter(["session.expired"], "session.expired")).toBe(true);
    expect(matchesFilter(["session.*"], "session.expired")).toBe(true);
    expect(matchesFilter(["session.*"], "sessions.expired")).toBe(false);
    expect(matchesFilter(["action.succeeded", "wait.*"], "session.expired")).toBe(false);
  });
});

describe("webhook endpoints and deliveries", () => {
  let receiver: Awaited<ReturnType<typeof httpReceiver>>;
  const engines: Engine[] = [];
  const clock = { now: Date.UTC(2026, 0, 15, 10, 0, 0) };
  const errors: unknown[] = [];
  function engine(options: Partial<EngineOptions> = {}): Engine {
    const made = createEngine({
      store: new MemoryStore(),
      clock: () => clock.now,
      webhooks: { allowPrivateAddresses: true, retrySchedule: [1000] },
      onWorkerError: (error) => errors.push(error),
      ...options,
    });
    engines.push(made);
    return made;
  }
  beforeEach(async () => {
    receiver = await httpReceiver();
    errors.length = 0;
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((made) => made.close()));
    await receiver.close();
  });

  it("names every bad field, refuses private targets by default and keeps organizations apart", async () => {
    const strict = engine({ webhooks: {} });
    const cases: Array<[unknown, string]> = [
      [{}, "url is required"],
      [{ url: 42 }, "url: must be a string"],
      [{ url: "https://example.com", events: "session.expired" }, "events: must be an array"],
      [
        { url: "https://example.com", events: ["Session Expired"] },
        'events[0]: must be "*", an event type such as "session.expired", or a prefix such as "session.*"',
      ],
      [{ url: "https://example.com", colour: "red" }, "colour is not a known field"],
      [
        { url: receiver.url },
        "url: 127.0.0.1 is a special-purpose address (loopback); webhooks to private and special-purpose addresses are refused unless the server allows them",
      ],
    ];
    for (const [input, message] of cases) expect((await failure(strict.webhooks.create(ORG, input as never))).message).toBe(message);

    const resolving = engine({ webhooks: { resolveHost: async () => ["10.0.0.7"] } });
    expect((await failure(resolving.webhooks.create(ORG, { url: "https://hooks.internal.example/" }))).message).toBe(
      "url: hooks.internal.example resolves to 10.0.0.7, a special-purpose address (private-use); webhooks to private and special-purpose addresses are refused unless the server allows them",
    );

    const hook = await strict.webhooks.create(ORG, { url: "https://hooks.example.com/a", events: ["session.*"], description: "CRM" });
    expect(hook).toMatchObject({ url: "https://hooks.example.com/a", events: ["session.*"], description: "CRM", status: "active" });
    expect((await failure(strict.webhooks.get(OTHER, hook.id))).code).toBe("not_found");
    expect((await strict.webhooks.list(OTHER)).total).toBe(0);
    expect((await strict.webhooks.list(ORG)).data.map((h) => h.id)).toEqual([hook.id]);
    await strict.webhooks.delete(ORG, hook.id);
    expect((await failure(strict.webhooks.get(ORG, hook.id))).message).toBe(`Webhook ${hook.id} not found`);
    expect((await strict.webhooks.list(ORG)).total).toBe(0);
  });

  it("refuses at delivery a host that resolves to a private address, and logs why", async () => {
    let resolved = ["93.184.215.14"];
    const guarded = engine({ webhooks: { resolveHost: async () => resolved, retrySchedule: [1000] } });
    const hook = await guarded.webhooks.create(ORG, { url: "https://hooks.example.com/x" });
    resolved = ["127.0.0.1"]; // DNS changed after creation
    await guarded.workflows.create(ORG, { name: "signup" });
    await guarded.tick(clock.now);
    const [attempt] = (await guarded.webhooks.deliveries(ORG, hook.id)).data;
    expect(attempt).toMatchObject({
      outcome: "retrying",
      statusCode: null,
      error:
        "refused: hooks.example.com resolves to 127.0.0.1, a special-purpose address (loopback); webhooks to private and special-purpose addresses are refused unless the server allows them",
    });
  });

  it("fails an attempt the receiver does not answer within the timeout, and follows no redirect", async () => {
    const worker = engine({ webhooks: { allowPrivateAddresses: true, timeoutMs: 200, retrySchedule: [1000] } });
    const hook = await worker.webhooks.create(ORG, { url: receiver.url });
    receiver.hang(true);
    await worker.workflows.create(ORG, { name: "one" });
    await worker.tick(clock.now);
    receiver.hang(false);
    receiver.answer(302);
    clock.now += 1; // the log orders attempts by when they started
    await worker.workflows.create(ORG, { name: "two" });
    await worker.tick(clock.now);
    const log = (await worker.webhooks.deliveries(ORG, hook.id)).data;
    expect(log.map((a) => [a.statusCode, a.error])).toEqual([
      [302, "the endpoint answered HTTP 302"],
      [null, "no answer within 200 ms"],
    ]);
    expect(log[1]!.durationMs).toBeGreaterThanOrEqual(150);
  });

  it("keeps delivering while one receiver hangs: a slow delivery holds up neither its batch nor the batches after it", async () => {
    let releaseSlow = () => {};
    const slowAnswered = new Promise<Response>((resolve) => {
      releaseSlow = () => resolve(new Response(null, { status: 204 }));
    });
    const fast: string[] = [];
    let allFast = () => {};
    const fiveFast = new Promise<"five sent">((resolve) => {
      allFast = () => resolve("five sent");
    });
    const worker = engine({
      fetch: async (input) => {
        if (String(input).startsWith("https://slow.")) return slowAnswered;
        fast.push(String(input));
        if (fast.length === 5) allFast();
        return new Response(null, { status: 204 });
      },
    });
    const slow = await worker.webhooks.create(ORG, { url: "https://slow.example.com/hook", events: ["session.completed"] });
    await worker.webhooks.create(ORG, { url: "https://fast.example.com/hook", events: ["session.created"] });
    const first = await worker.workflows.create(ORG, { name: "first" });
    await worker.workflows.complete(ORG, first.id); // the slow receiver's one delivery, second in line
    for (let i = 0; i < 4; i++) await worker.workflows.create(ORG, { name: `later ${i}` });

    // Batches of two: the slow delivery shares the first batch with a fast one; four fast ones follow.
    const tick = worker.tick(clock.now, { batch: 2 });
    const outcome = await Promise.race([fiveFast, new Promise((resolve) => setTimeout(resolve, 2000, "stuck behind the slow receiver"))]);
    expect(outcome).toBe("five sent");
    expect(fast).toHaveLength(5);
    releaseSlow();
    expect(await tick).toMatchObject({ deliveries: 6 });
    expect((await worker.webhooks.deliveries(ORG, slow.id)).data.map((attempt) => attempt.outcome)).toEqual(["succeeded"]);
    expect(errors).toEqual([]);
  });

  it("sends nothing to a deleted endpoint, and nothing for events its filter leaves out", async () => {
    const worker = engine();
    const kept = await worker.webhooks.create(ORG, { url: `${receiver.url}?kept`, events: ["session.completed"] });
    const dropped = await worker.webhooks.create(ORG, { url: `${receiver.url}?dropped` });
    const workflow = await worker.workflows.create(ORG, { name: "signup" });
    await worker.webhooks.delete(ORG, dropped.id);
    await worker.workflows.complete(ORG, workflow.id);
    await worker.tick(clock.now);
    const completed = (await worker.timeline(ORG, workflow.id)).find((event) => event.type === "session.completed");
    expect(receiver.received.map((r) => r.id)).toEqual([completed!.id]);
    expect((await worker.webhooks.deliveries(ORG, kept.id)).total).toBe(1);
    expect(errors).toEqual([]);
  });

  it("sends a test event to one endpoint alone, whatever its filter, logs it, and refuses another organization's endpoint", async () => {
    const worker = engine();
    const tested = await worker.webhooks.create(ORG, { url: `${receiver.url}?tested`, events: ["session.completed"] });
    const other = await worker.webhooks.create(ORG, { url: `${receiver.url}?other` });
    const { eventId } = await worker.webhooks.sendTest(ORG, tested.id);
    expect(eventId).toMatch(/^evt_[0-9a-f]{32}$/);
    await worker.tick(clock.now);
    expect(receiver.received.map((r) => r.id)).toEqual([eventId]);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: "webhook.test", data: { webhook_id: tested.id } });
    const log = await worker.webhooks.deliveries(ORG, tested.id);
    expect(log.total).toBe(1);
    expect(log.data[0]).toMatchObject({ eventId, eventType: "webhook.test", outcome: "succeeded" });
    expect((await worker.webhooks.deliveries(ORG, other.id)).total).toBe(0);
    expect(await worker.timeline(ORG, tested.id)).toHaveLength(1);
    expect((await failure(worker.webhooks.sendTest(OTHER, tested.id))).code).toBe("not_found");
    await worker.webhooks.delete(ORG, tested.id);
    expect((await failure(worker.webhooks.sendTest(ORG, tested.id))).code).toBe("not_found");
    expect(errors).toEqual([]);
  });

  it("refuses to propose a tool without an executor, naming it, once executors are configured", async () => {
    const worker = engine({ actions: { send_email: () => "ok" } });
    const thread = await worker.threads.create(ORG);
    const refused = await failure(worker.threads.proposeAction(ORG, thread.id, { tool: "wire_money", preview: {} }));
    expect(refused.message).toBe('tool: no executor is registered for "wire_money"; registered tools: send_email');
    const plain = engine();
    const other = await plain.threads.create(ORG);
    expect((await plain.threads.proposeAction(ORG, other.id, { tool: "wire_money", preview: {} })).status).toBe("pending");
  });

  it("runs a confirmed action soon after the confirmation when the worker is started", async () => {
    const worker = engine({ actions: { send_email: async (action) => ({ to: action.preview.to }) } });
    worker.start({ intervalMs: 60_000 });
    const thread = await worker.threads.create(ORG);
    const action = await worker.threads.proposeAction(ORG, thread.id, { tool: "send_email", preview: { to: "a@b.co" } });
    await worker.threads.decideAction(ORG, thread.id, action.id, { confirmed: true });
    // The confirmation's write nudges the worker: no need to wait for the next interval.
    for (let i = 0; i < 200 && (await worker.threads.getAction(ORG, thread.id, action.id)).status === "processing"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await worker.threads.getAction(ORG, thread.id, action.id)).toMatchObject({ status: "succeeded", result: { to: "a@b.co" } });
    await worker.stop();
  });
});

describe("notifier: events written on one instance reach listeners on another", () => {
  it("relays each event once to an engine that did not write it", async () => {
    const store = new MemoryStore();
    const notifier = createMemoryNotifier();
    const writer = createEngine({ store, notifier });
    const reader = createEngine({ store, notifier });
    const heard: SessionEvent[] = [];
    reader.events.on("*", (_type, event) => heard.push(event));
    const workflow = await writer.workflows.create(ORG, { name: "signup" });
    const inbox = await writer.workflows.createInbox(ORG, workflow.id, { ttlSeconds: 60 });
    const wait = await writer.workflows.createWait(ORG, workflow.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 60 });
    await writer.workflows.postMessage(ORG, inbox.id, { from: "a@b.co", subject: "code", body: "Your code: 123456" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const timeline = await store.timeline(ORG, workflow.id);
    // The first write is this reader's first news of the record: its last event stands for it.
    expect(heard.map((event) => event.id)).toEqual(timeline.map((event) => event.id));
    expect(heard.some((event) => event.type === "wait.completed" && event.payload.waitId === wait.id)).toBe(true);
    await writer.close();
    await reader.close();
  });

  it("drops another instance's cached endpoint list when an endpoint is created there", async () => {
    const store = new MemoryStore();
    const notifier = createMemoryNotifier();
    const clock = () => Date.UTC(2026, 0, 15);
    const received: string[] = [];
    const fetch = async (_url: string | URL | Request, init?: RequestInit) => {
      received.push(new Headers(init?.headers).get("webhook-id")!);
      return new Response(null, { status: 204 });
    };
    const a = createEngine({ store, notifier, clock, fetch, webhooks: { endpointCacheMs: 3_600_000 } });
    const b = createEngine({ store, notifier, clock, fetch, webhooks: { endpointCacheMs: 3_600_000 } });
    await b.workflows.create(ORG, { name: "before" }); // b caches "no endpoints" for an hour
    await a.webhooks.create(ORG, { url: "https://hooks.example.com/" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const after = await b.workflows.create(ORG, { name: "after" });
    await b.tick();
    expect(received).toEqual([(await store.timeline(ORG, after.id))[0]!.id]);
    await a.close();
    await b.close();
  });

  it("exposes the polling interval for notifier-less instances, and refuses bad options by name", () => {
    expect(createEngine({ store: new MemoryStore() }).pollIntervalMs).toBeNull();
    expect(createEngine({ store: new MemoryStore(), pollIntervalMs: 250 }).pollIntervalMs).toBe(250);
    expect(() => createEngine({ store: new MemoryStore(), pollIntervalMs: 0 })).toThrow("createEngine: pollIntervalMs must be a positive number");
    expect(() => createEngine({ store: new MemoryStore(), actions: { send_email: "smtp" as never } })).toThrow(
      "createEngine: actions.send_email must be a function (the tool's executor)",
    );
    expect(() => createEngine({ store: new MemoryStore(), webhooks: { retrySchedule: [5, -1] } })).toThrow(
      "createEngine: webhooks.retrySchedule must be a list of positive numbers of milliseconds",
    );
  });
});
