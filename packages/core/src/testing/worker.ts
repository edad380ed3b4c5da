import type { FetchFunction } from "../engine/deliveries.js";
import { createEngine, type Engine, type EngineOptions } from "../engine/engine.js";
import type { CreateFormInput } from "../kinds/form.js";
import type { Store } from "../store.js";
import { orgId, T0 } from "./fixtures.js";
import { destroyStore, type StoreSuiteOptions } from "./runner.js";

/** One webhook request as a test receiver got it. */
export interface ReceivedWebhook {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
}

/** A webhook receiver for tests: a real server, or an in-process `fetch`. */
export interface TestReceiver {
  readonly url: string;
  /** The `fetch` engines send with; absent for a real server (the global `fetch` is used). */
  readonly fetch?: FetchFunction;
  /** Every request answered so far, in order. */
  readonly received: ReceivedWebhook[];
  /** The status answered from now on (initially 204). */
  answer(status: number): void;
  close(): Promise<void>;
}

/** A receiver inside the test process: engines call its `fetch`; nothing listens on a port. */
export function memoryReceiver(url = "https://hooks.example.com/agent-sessions"): TestReceiver {
  let status = 204;
  const received: ReceivedWebhook[] = [];
  return {
    url,
    received,
    answer(next) {
      status = next;
    },
    async close() {},
    async fetch(_input, init) {
      const headers = new Headers(init?.headers);
      received.push({
        id: headers.get("webhook-id") ?? "",
        timestamp: headers.get("webhook-timestamp") ?? "",
        signature: headers.get("webhook-signature") ?? "",
        body: String(init?.body ?? ""),
      });
      return new Response(null, { status });
    },
  };
}

/** How an adapter's worker conformance file hands the suite its stores and its test runner. */
export interface WorkerConformanceOptions extends StoreSuiteOptions {
  /** Where webhooks go. Default: `memoryReceiver()`. */
  readonly receiver?: () => TestReceiver | Promise<TestReceiver>;
  /** How many form sessions expire at one moment in the three-instance test. Default: 1000. */
  readonly sessions?: number;
}

/** Resolves once `check` holds, polling; fails after `ms` with `what`. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const FORM: CreateFormInput = { name: "Intake", slug: "intake", fields: [{ name: "email", type: "email", required: true }] };

/**
 * The worker suite every store adapter passes: due deadlines settled exactly once by several
 * engines, webhook deliveries at least once (duplicates only with the same `webhook-id`) after
 * crashes and receiver outages, retries on the schedule, and confirmed actions executed with
 * their attempts recorded. Everything goes through the frozen Store contract.
 */
export function runWorkerConformance(options: WorkerConformanceOptions): void {
  const sessionCount = options.sessions ?? 1000;
  const { describe, it, expect, beforeEach, afterEach } = options.test;

  describe(`Worker conformance: ${options.name}`, () => {
    let store: Store;
    let receiver: TestReceiver;
    let org: string;
    let clock: { now: number };
    let errors: unknown[];
    const engines: Engine[] = [];

    function engine(extra: Partial<EngineOptions> = {}): Engine {
      const made = createEngine({
        store,
        clock: () => clock.now,
        ...(receiver.fetch ? { fetch: receiver.fetch } : {}),
        webhooks: { allowPrivateAddresses: true, retrySchedule: [1000, 2000, 4000] },
        onWorkerError: (error) => errors.push(error),
        ...extra,
      });
      engines.push(made);
      return made;
    }

    beforeEach(async () => {
      store = await options.create();
      receiver = await (options.receiver ?? memoryReceiver)();
      org = orgId();
      clock = { now: T0 };
      errors = [];
    });
    afterEach(async () => {
      await Promise.all(engines.splice(0).map((made) => made.close()));
      await receiver.close();
      await destroyStore(options, store);
    });

    it(`records ${sessionCount} expiries at one moment exactly once over three engines, and delivers each`, async () => {
      const [a, b, c] = [engine(), engine(), engine()];
      await a!.webhooks.create(org, { url: receiver.url, events: ["session.expired"] });
      await a!.forms.create(org, FORM);
      const sessions: string[] = [];
      for (let i = 0; i < sessionCount; i++) {
        const creator = [a, b, c][i % 3]!;
        sessions.push((await creator.formSessions.create(org, "intake", { expiresIn: 60 })).id);
      }
      clock.now = T0 + 60_000;
      for (const made of [a, b, c]) made!.start({ intervalMs: 5, batch: 50 });
      await eventually(() => new Set(receiver.received.map((r) => r.id)).size >= sessionCount, `${sessionCount} deliveries`);
      await Promise.all([a, b, c].map((made) => made!.stop()));

      const expired = new Map<string, string>();
      for (const id of sessions) {
        const events = (await store.timeline(org, id)).filter((event) => event.type === "session.expired");
        expect(events).toHaveLength(1);
        expired.set(events[0]!.id, id);
      }
      expect(expired.size).toBe(sessionCount);
      const bodies = new Map<string, string>();
      for (const request of receiver.received) {
        expect(expired.has(request.id)).toBe(true);
        // A repeat delivery is the same delivery: the same webhook-id carries the same body.
        const body = JSON.parse(request.body) as { type: string; data: { session_id: string } };
        expect(body.type).toBe("session.expired");
        expect(body.data.session_id).toBe(expired.get(request.id));
        expect(bodies.get(request.id) ?? request.body).toBe(request.body);
        bodies.set(request.id, request.body);
      }
      expect(bodies.size).toBe(sessionCount);
      expect(errors).toEqual([]);
    });

    it("never lists a session under a status its deadline ended, and persists that end once", async () => {
      const made = engine();
      await made.webhooks.create(org, { url: receiver.url, events: ["session.expired"] });
      await made.forms.create(org, FORM);
      const expiring = await made.formSessions.create(org, "intake", { expiresIn: 60 });
      const live = await made.formSessions.create(org, "intake", { expiresIn: 3600 });
      clock.now = T0 + 60_000;
      // No worker round ran: the expiry is only a deadline in the store until the list persists it.
      const created = await Promise.all([1, 2, 3].map(() => made.formSessions.list(org, { status: "created" })));
      for (const page of created) {
        expect(page.data.map((session) => session.id)).toEqual([live.id]);
        expect(page.total).toBe(1);
      }
      const expired = await made.formSessions.list(org, { status: "expired" });
      expect(expired.data.map((session) => [session.id, session.status])).toEqual([[expiring.id, "expired"]]);
      expect((await store.timeline(org, expiring.id)).filter((event) => event.type === "session.expired")).toHaveLength(1);
      expect(await made.tick()).toMatchObject({ events: 0, deliveries: 1 });
      expect(receiver.received).toHaveLength(1);
      expect(errors).toEqual([]);
    });

    it("hands a crashed instance's claimed deadline to another once its lease runs out", async () => {
      const writer = engine();
      await writer.webhooks.create(org, { url: receiver.url, events: ["session.expired"] });
      await writer.forms.create(org, FORM);
      const session = await writer.formSessions.create(org, "intake", { expiresIn: 10 });
      // The crashed instance claimed the deadline and never wrote; the survivor waits out the lease.
      expect(await store.claimDue({ now: T0 + 10_000, limit: 10, leaseMs: 30_000, owner: "crashed" })).toHaveLength(1);
      const survivor = engine();
      expect(await survivor.tick(T0 + 20_000)).toMatchObject({ claimed: 0, events: 0, deliveries: 0 });
      expect(await survivor.tick(T0 + 40_000)).toMatchObject({ claimed: 1, events: 1, deliveries: 1 });
      const expired = (await store.timeline(org, session.id)).filter((event) => event.type === "session.expired");
      expect(expired).toHaveLength(1);
      expect(receiver.received.map((r) => r.id)).toEqual([expired[0]!.id]);
    });

    it("delivers an event written just before its instance died, from a new instance", async () => {
      const dying = engine();
      await dying.webhooks.create(org, { url: receiver.url, events: ["session.created"] });
      const workflow = await dying.workflows.create(org, { name: "signup" });
      const [created] = await store.timeline(org, workflow.id);
      // The process is gone before any worker ran: the delivery waits in the store's outbox.
      expect(receiver.received).toHaveLength(0);
      const leased = await store.claimOutbox({ now: T0, limit: 10, leaseMs: 5000, owner: "dying", topic: "delivery" });
      expect(leased).toHaveLength(1);
      const restarted = engine();
      expect(await restarted.tick(T0 + 4999)).toMatchObject({ deliveries: 0 });
      expect(await restarted.tick(T0 + 5000)).toMatchObject({ deliveries: 1 });
      expect(receiver.received.map((r) => r.id)).toEqual([created!.id]);
      expect(JSON.parse(receiver.received[0]!.body)).toEqual({
        type: "session.created",
        timestamp: new Date(T0).toISOString(),
        data: { sessionId: workflow.id },
      });
    });

    it("retries a receiver that is down on the schedule, logs every attempt, and delivers once it is up", async () => {
      const worker = engine();
      const hook = await worker.webhooks.create(org, { url: receiver.url, events: ["session.created"] });
      const workflow = await worker.workflows.create(org, { name: "signup" });
      receiver.answer(503);
      expect(await worker.tick(T0)).toMatchObject({ deliveries: 1 });
      expect(await worker.tick(T0 + 999)).toMatchObject({ deliveries: 0 });
      clock.now = T0 + 1000;
      expect(await worker.tick(T0 + 1000)).toMatchObject({ deliveries: 1 });
      receiver.answer(200);
      clock.now = T0 + 3000;
      expect(await worker.tick(T0 + 3000)).toMatchObject({ deliveries: 1 });
      expect(await worker.tick(T0 + 1_000_000)).toMatchObject({ deliveries: 0 });

      const [created] = await store.timeline(org, workflow.id);
      expect(receiver.received.map((r) => r.id)).toEqual([created!.id, created!.id, created!.id]);
      const log = await worker.webhooks.deliveries(org, hook.id);
      expect(log.total).toBe(3);
      expect(log.data.map((a) => [a.attempt, a.outcome, a.statusCode, a.eventId, a.nextAttemptAt])).toEqual([
        [3, "succeeded", 200, created!.id, null],
        [2, "retrying", 503, created!.id, T0 + 3000],
        [1, "retrying", 503, created!.id, T0 + 1000],
      ]);
      expect(log.data[1]!.error).toBe("the endpoint answered HTTP 503");
      expect(new Set(log.data.map((a) => a.deliveryId)).size).toBe(1);
    });

    it("marks a delivery failed once the schedule is spent", async () => {
      const worker = engine();
      const hook = await worker.webhooks.create(org, { url: receiver.url });
      await worker.workflows.create(org, { name: "signup" });
      receiver.answer(500);
      for (const at of [0, 1000, 3000, 7000, 100_000]) {
        clock.now = T0 + at;
        await worker.tick(T0 + at);
      }
      expect(receiver.received).toHaveLength(4);
      const log = await worker.webhooks.deliveries(org, hook.id, { limit: 2 });
      expect(log.data.map((a) => [a.attempt, a.outcome])).toEqual([
        [4, "failed"],
        [3, "retrying"],
      ]);
      const rest = await worker.webhooks.deliveries(org, hook.id, { cursor: log.nextCursor! });
      expect(rest.data.map((a) => a.attempt)).toEqual([2, 1]);
      expect(rest.nextCursor).toBeNull();
    });

    it("runs an executor that throws twice then succeeds: one action.succeeded, three attempts", async () => {
      const keys: string[] = [];
      const worker = engine({
        actionRetryDelaysMs: [1000],
        actions: {
          send_email: async (action, context) => {
            keys.push(context.idempotencyKey);
            if (context.attempt < 3) throw new Error(`SMTP unavailable (${context.attempt})`);
            return { sent_to: action.preview.to };
          },
        },
      });
      const thread = await worker.threads.create(org);
      const action = await worker.threads.proposeAction(org, thread.id, { tool: "send_email", preview: { to: "a@b.co" } });
      const { action: confirmed } = await worker.threads.decideAction(org, thread.id, action.id, { confirmed: true });
      expect(confirmed.status).toBe("processing");
      for (const at of [0, 1000, 2000, 3000]) {
        clock.now = T0 + at;
        await worker.tick(T0 + at);
      }
      const done = await worker.threads.getAction(org, thread.id, action.id);
      expect(done).toMatchObject({ status: "succeeded", attempts: 3, result: { sent_to: "a@b.co" }, error: null });
      expect(keys).toEqual([action.id, action.id, action.id]);
      const events = (await store.timeline(org, thread.id)).filter((event) => event.type.startsWith("action."));
      expect(events.map((event) => [event.type, event.payload.attempts ?? null])).toEqual([
        ["action.proposed", null],
        ["action.confirmed", null],
        ["action.attempt_failed", 1],
        ["action.attempt_failed", 2],
        ["action.succeeded", 3],
      ]);
      expect(events.slice(1).every((event) => event.payload.callback_id === confirmed.callbackId)).toBe(true);
      expect(errors).toEqual([]);
    });

    it("fails an action after its last attempt, and re-runs one whose worker died mid-run", async () => {
      let hung = 0;
      const dying = engine({
        maxActionAttempts: 2,
        actionRetryDelaysMs: [1000],
        actions: {
          refund: () => {
            throw new Error("card declined");
          },
          export: () => {
            hung++;
            return new Promise(() => {}); // the process dies while this runs
          },
        },
      });
      const thread = await dying.threads.create(org);
      const refund = await dying.threads.proposeAction(org, thread.id, { tool: "refund", preview: {} });
      await dying.threads.decideAction(org, thread.id, refund.id, { confirmed: true });
      await dying.tick(T0);
      clock.now = T0 + 1000;
      await dying.tick(T0 + 1000);
      expect(await dying.threads.getAction(org, thread.id, refund.id)).toMatchObject({ status: "failed", attempts: 2, error: "card declined" });

      const exported = await dying.threads.proposeAction(org, thread.id, { tool: "export", preview: {} });
      await dying.threads.decideAction(org, thread.id, exported.id, { confirmed: true });
      void dying.tick(T0 + 1000, { leaseMs: 10_000 }); // never finishes
      await eventually(() => hung === 1, "the first run to start");
      const survivor = engine({ actions: { export: async () => "exported", refund: () => null } });
      expect(await survivor.tick(T0 + 5000)).toMatchObject({ actions: 0 });
      expect(await survivor.tick(T0 + 11_000)).toMatchObject({ actions: 1 });
      expect(await survivor.threads.getAction(org, thread.id, exported.id)).toMatchObject({ status: "succeeded", result: "exported", attempts: 1 });
    });
  });
}
