import { createEngine, type Engine } from "../engine/engine.js";
import type { FormSessionStatus } from "../kinds/form-session.js";
import { threadKind } from "../kinds/thread.js";
import { webhookKind } from "../kinds/webhook.js";
import type { Store } from "../store.js";
import { describeDecisionRaces } from "./decisions.js";
import { type Outcome, orgId, race, T0 } from "./fixtures.js";
import { checkCapabilities, destroyStore, probeCapabilities, type StoreSuiteOptions } from "./runner.js";
import { memoryReceiver } from "./worker.js";

/** How an adapter's concurrency file hands the suite its stores and its test runner. */
export interface EngineConcurrencyOptions extends StoreSuiteOptions {
  /** How many engines share the store, as servers behind one load balancer would. Default: 3. */
  readonly instances?: number;
}

const wins = <T>(outcomes: readonly Outcome<T>[]) => outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value] : []));
const codes = <T>(outcomes: readonly Outcome<T>[]) => outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.code]));

/**
 * The engine's invariants under concurrent callers, on one store (a wait's `resolve_with` reaches
 * a long-poll held by another instance; its reminders are written and delivered once across three
 * workers): a limit across records holds
 * (30 webhook creates → exactly 20 live), commands that commute all succeed (30 messages into
 * one inbox, 25 context updates of one thread, refused only for a limit they break), and real
 * conflicts have exactly one winner (50 submits of one form session, 50 confirms of one action,
 * confirms racing cancels), the others refused with a stable code, never a 5xx, and lists of form
 * sessions by status count them as of now before any worker ran, each expiry written once even
 * when several engines list at the same moment. The calls are spread over several engines
 * sharing the store: one engine queues its own writes of a record, so only writes of different
 * instances meet in the store's compare-and-set. A form session's reminders are each written and
 * delivered once however many engines tick or list at their moment, and none after its deadline.
 * The submit race needs
 * `capabilities.unscopedReads`; the suite reads the flags from a first store, so await it.
 */
export async function runEngineConcurrency(options: EngineConcurrencyOptions): Promise<void> {
  const instances = options.instances ?? 3;
  const { describe, it, expect, beforeEach, afterEach } = options.test;
  const capabilities = await probeCapabilities(options);
  // The submit race goes through the hosted page's operation, which finds a session by id alone.
  const itByIdAlone = (title: string, body: () => Promise<void>) =>
    capabilities.unscopedReads ? it(title, body) : it.skip(`${title} (skipped: needs capabilities.unscopedReads)`, () => {});

  describe(`Engine concurrency: ${options.name}`, () => {
    let store: Store;
    let engines: Engine[];
    let engine: Engine;
    let org: string;
    /** The engines' clock. */
    let now = T0;
    /** The engine that serves call `index`. */
    const via = (index: number) => engines[index % engines.length]!;

    beforeEach(async () => {
      store = await options.create();
      checkCapabilities(store, capabilities);
      now = T0;
      engines = Array.from({ length: instances }, () =>
        createEngine({
          store,
          clock: () => now,
          webhooks: { allowPrivateAddresses: true },
          actions: { send_email: () => ({ sent: true }) },
        }),
      );
      engine = engines[0]!;
      org = orgId();
    });
    afterEach(async () => {
      await Promise.all(engines.map((made) => made.close()));
      await destroyStore(options, store);
    });

    /** A new organization with a form and form sessions, `expiring` of them past their deadline of 1 s, the rest live. */
    async function sessionsPastDeadline(expiring: number, live = 0): Promise<{ org: string; expired: string[]; created: string[] }> {
      const own = orgId();
      const form = await engine.forms.create(own, { name: "Intake", fields: [{ name: "answer", type: "text", required: true }] });
      const make = async (count: number, input: { expiresIn: number }) => {
        const ids: string[] = [];
        for (let i = 0; i < count; i++) ids.push((await engine.formSessions.create(own, form.id, input)).id);
        return ids.sort().reverse(); // newest id first, as lists answer
      };
      const expired = await make(expiring, { expiresIn: 1 });
      const created = await make(live, { expiresIn: 3600 });
      now += 2000;
      return { org: own, expired, created };
    }

    it("counts and pages form sessions by their status as of now, before any worker ran", async () => {
      // Each query is the first list of its organization once the deadlines passed: nothing was written since.
      const cases = [
        { query: { status: "expired" }, total: 2, page: 2 },
        { query: { status: "created", limit: 1 }, total: 0, page: 0 },
        { query: { status: "created", limit: 1, offset: 1 }, total: 0, page: 0 },
      ];
      for (const { query, total, page } of cases) {
        const made = await sessionsPastDeadline(2);
        const answered = await engine.formSessions.list(made.org, query as { status: FormSessionStatus });
        expect({ total: answered.total, ids: answered.data.map((session) => session.id) }, JSON.stringify(query)).toEqual({
          total,
          ids: made.expired.slice(0, page),
        });
        for (const session of answered.data) expect(session.status).toBe("expired");
      }
    });

    it("writes each expiry once when engines list by status at once", async () => {
      const made = await sessionsPastDeadline(30, 2);
      const outcomes = await race(12, (index) =>
        via(index).formSessions.list(made.org, { status: index % 2 === 0 ? "expired" : "created", limit: 100 }),
      );
      expect(codes(outcomes)).toEqual([]);
      wins(outcomes).forEach((page, index) => {
        const ids = index % 2 === 0 ? made.expired : made.created;
        expect({ total: page.total, ids: page.data.map((session) => session.id) }).toEqual({ total: ids.length, ids });
      });
      for (const id of made.expired) {
        const expiries = (await engine.timeline(made.org, id)).filter((event) => event.type === "session.expired");
        expect(expiries).toHaveLength(1);
      }
      expect(await store.listDue(made.org, "form_session", now, 100)).toEqual([]);
    });

    it("sends each reminder of a form session exactly once over three workers, and none after its deadline", async () => {
      const receiver = memoryReceiver();
      const workers = Array.from({ length: 3 }, () =>
        createEngine({ store, clock: () => now, fetch: receiver.fetch!, webhooks: { allowPrivateAddresses: true } }),
      );
      try {
        const [first] = workers;
        await first!.webhooks.create(org, { url: receiver.url, events: ["session.expiring", "session.expired"] });
        const form = await first!.forms.create(org, { name: "Intake", fields: [{ name: "answer", type: "text", required: true }] });
        const session = await first!.formSessions.create(org, form.id, { expiresIn: 3600, remindBefore: [600, 60] });
        expect(session.reminders).toEqual([T0 + 3000_000, T0 + 3540_000]);
        const rounds = async (count: number) => {
          for (let round = 0; round < count; round++) await Promise.all(workers.map((worker) => worker.tick(now)));
        };
        const sent = async (type: string) => {
          const events = (await engine.timeline(org, session.id)).filter((event) => event.type === type);
          return events.map((event) => ({ id: event.id, at: event.at, remindBefore: event.payload.remind_before }));
        };
        const delivered = () =>
          receiver.received.map((request) => {
            const body = JSON.parse(request.body) as { type: string; data: { session_id: string; remind_before?: number } };
            return { id: request.id, type: body.type, sessionId: body.data.session_id, remindBefore: body.data.remind_before };
          });

        now = T0 + 3000_000 - 1; // a millisecond before the first reminder: nothing is due
        await rounds(2);
        expect(await sent("session.expiring")).toEqual([]);

        now = T0 + 3000_000 + 1000; // past the first reminder
        await rounds(3);
        const firstSent = await sent("session.expiring");
        expect(firstSent.map(({ at, remindBefore }) => [at, remindBefore])).toEqual([[T0 + 3000_000, 600]]);
        expect(delivered()).toEqual([{ id: firstSent[0]!.id, type: "session.expiring", sessionId: session.id, remindBefore: 600 }]);

        // Past the second: lists by status (which write what time did before they count) race the workers.
        now = T0 + 3540_000 + 1000;
        const outcomes = await race<unknown>(9, (index) =>
          index % 3 === 0 ? workers[index / 3]!.tick(now) : via(index).formSessions.list(org, { status: "created" }),
        );
        expect(codes(outcomes)).toEqual([]);
        await rounds(2);
        const bothSent = await sent("session.expiring");
        expect(bothSent.map(({ at, remindBefore }) => [at, remindBefore])).toEqual([
          [T0 + 3000_000, 600],
          [T0 + 3540_000, 60],
        ]);
        expect(delivered().map(({ id, remindBefore }) => [id, remindBefore])).toEqual(bothSent.map(({ id, remindBefore }) => [id, remindBefore]));
        expect((await engine.formSessions.get(org, session.id)).reminders).toBe(undefined);

        // The deadline: the session expires once, and no reminder follows.
        now = T0 + 7200_000;
        await rounds(3);
        expect(await sent("session.expiring")).toHaveLength(2);
        expect((await sent("session.expired")).map(({ at }) => at)).toEqual([T0 + 3600_000]);
        expect(delivered().map(({ type }) => type)).toEqual(["session.expiring", "session.expiring", "session.expired"]);
        expect(await store.listDue(org, "form_session", now, 100)).toEqual([]);
      } finally {
        await Promise.all(workers.map((worker) => worker.close()));
      }
    });

    it(`keeps exactly ${webhookKind.limits.liveEndpoints} of 30 concurrent webhook creates, and a delete frees one place`, async () => {
      const create = (index: number) => via(index).webhooks.create(org, { url: `https://hooks.example.com/agent-sessions/${index}` });
      const outcomes = await race(30, create);
      expect(wins(outcomes)).toHaveLength(webhookKind.limits.liveEndpoints);
      const refusal = `an organization keeps at most ${webhookKind.limits.liveEndpoints} webhook endpoints; delete one first`;
      for (const outcome of outcomes.filter((o) => !o.ok)) expect(outcome).toEqual({ ok: false, code: "conflict", message: refusal });
      expect((await engine.webhooks.list(org, { limit: 100 })).total).toBe(webhookKind.limits.liveEndpoints);

      await engine.webhooks.delete(org, wins(outcomes)[0]!.id);
      const again = await race(5, (index) => create(100 + index));
      expect(wins(again)).toHaveLength(1);
      expect(codes(again)).toEqual(["conflict", "conflict", "conflict", "conflict"]);
      expect((await engine.webhooks.list(org, { limit: 100 })).total).toBe(webhookKind.limits.liveEndpoints);
    });

    it("takes all of 30 concurrent messages into one inbox", async () => {
      const workflow = await engine.workflows.create(org, { name: "sign-up" });
      const inbox = await engine.workflows.createInbox(org, workflow.id, { ttlSeconds: 3600 });
      const outcomes = await race(30, (index) =>
        via(index).workflows.postMessage(org, inbox.id, {
          from: `sender${index}@example.com`,
          subject: "Your code",
          body: `Code ${100_000 + index}`,
        }),
      );
      expect(codes(outcomes)).toEqual([]);
      const { messages } = await engine.workflows.getInbox(org, inbox.id);
      expect(messages).toHaveLength(30);
      expect(new Set(messages.map((message) => message.id))).toEqual(new Set(wins(outcomes).map((message) => message.id)));
    });

    it("answers a long-poll held on one engine with a wait's resolve_with value once another engine passes its timeout", async () => {
      // The waiter reads the store again every 20 ms, as an instance without a notifier does.
      const waiter = createEngine({ store, clock: () => now, pollIntervalMs: 20 });
      try {
        const workflow = await engine.workflows.create(org, { name: "sign-up" });
        const inbox = await engine.workflows.createInbox(org, workflow.id, { ttlSeconds: 3600 });
        const fallback = { code: null, reason: "no mail came", tries: [1, 2] };
        const wait = await engine.workflows.createWait(org, workflow.id, {
          type: "otp",
          inboxId: inbox.id,
          timeoutSeconds: 60,
          onTimeout: { resolve_with: fallback },
        });
        expect(wait).toMatchObject({ status: "pending", onTimeout: { resolveWith: fallback } });
        const held = waiter.workflows.waitFor(org, wait.id, { signal: AbortSignal.timeout(20_000) });
        await new Promise((resolve) => setTimeout(resolve, 50));
        now = T0 + 61_000;
        await Promise.all(engines.map((each) => each.tick(now)));
        const answered = await held;
        expect(answered).toMatchObject({ id: wait.id, sessionId: workflow.id, status: "completed", timedOut: true, completedAt: T0 + 60_000 });
        expect(answered.result).toEqual(fallback);
        const endings = (await engine.timeline(org, workflow.id)).filter((event) => event.type.startsWith("wait.") && event.type !== "wait.created");
        expect(endings.map((event) => [event.type, event.at, event.payload])).toEqual([
          ["wait.completed", T0 + 60_000, { waitId: wait.id, timedOut: true }],
        ]);
        expect(await store.listDue(org, "workflow", now, 100)).toEqual([]);
      } finally {
        await waiter.close();
      }
    });

    it("sends each reminder of a wait exactly once over three workers, and none after it ended", async () => {
      const receiver = memoryReceiver();
      const workers = Array.from({ length: 3 }, () =>
        createEngine({ store, clock: () => now, fetch: receiver.fetch!, webhooks: { allowPrivateAddresses: true } }),
      );
      try {
        const [first] = workers;
        await first!.webhooks.create(org, { url: receiver.url, events: ["wait.expiring", "wait.timed_out", "wait.completed"] });
        const workflow = await first!.workflows.create(org, { name: "sign-up" });
        const inbox = await first!.workflows.createInbox(org, workflow.id, { ttlSeconds: 7200 });
        const create = (remindBefore: number[]) =>
          first!.workflows.createWait(org, workflow.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 3600, remindBefore });
        // The older wait takes the message that comes; the other waits until its timeout.
        const answered = await create([600, 60]);
        const timing = await create([600, 60]);
        expect(timing.reminders).toEqual([T0 + 3000_000, T0 + 3540_000]);
        const rounds = async (count: number) => {
          for (let round = 0; round < count; round++) await Promise.all(workers.map((worker) => worker.tick(now)));
        };
        const sent = async () =>
          (await engine.timeline(org, workflow.id))
            .filter((event) => event.type === "wait.expiring")
            .map((event) => ({ id: event.id, at: event.at, waitId: event.payload.waitId, remindBefore: event.payload.remindBefore }));
        // What the receiver got of one type, by event id: deliveries of one moment leave in any order.
        const delivered = (type: string) =>
          receiver.received
            .flatMap((request) => {
              const body = JSON.parse(request.body) as { type: string; data: { waitId: string; remindBefore?: number } };
              return body.type === type ? [{ id: request.id, waitId: body.data.waitId, remindBefore: body.data.remindBefore }] : [];
            })
            .sort((a, b) => (a.id < b.id ? -1 : 1));
        const byId = <T extends { id: string }>(items: T[]) => [...items].sort((a, b) => (a.id < b.id ? -1 : 1));

        now = T0 + 3000_000 - 1; // a millisecond before the first reminders: nothing is due
        await rounds(2);
        expect(await sent()).toEqual([]);

        now = T0 + 3000_000 + 1000; // past the first reminder of both waits
        await rounds(3);
        const first600 = await sent();
        expect(first600.map(({ at, waitId, remindBefore }) => [at, waitId, remindBefore])).toEqual([
          [T0 + 3000_000, answered.id, 600],
          [T0 + 3000_000, timing.id, 600],
        ]);
        expect(delivered("wait.expiring")).toEqual(byId(first600.map(({ id, waitId, remindBefore }) => ({ id, waitId, remindBefore }))));

        // One wait gets its code, which drops its reminder at 60 s; the other's comes once.
        await first!.workflows.postMessage(org, inbox.id, { from: "a@example.com", subject: "Code", body: "Your code: 482913" });
        now = T0 + 3540_000 + 1000;
        const outcomes = await race<unknown>(9, (index) =>
          index % 3 === 0 ? workers[index / 3]!.tick(now) : via(index).workflows.getWait(org, timing.id),
        );
        expect(codes(outcomes)).toEqual([]);
        await rounds(2);
        const both = await sent();
        expect(both.map(({ at, waitId, remindBefore }) => [at, waitId, remindBefore])).toEqual([
          [T0 + 3000_000, answered.id, 600],
          [T0 + 3000_000, timing.id, 600],
          [T0 + 3540_000, timing.id, 60],
        ]);
        expect(delivered("wait.expiring").map(({ id }) => id)).toEqual(byId(both).map(({ id }) => id));

        // The timeout: the pending wait times out once, and no reminder follows.
        now = T0 + 7200_000;
        await rounds(3);
        expect(await sent()).toHaveLength(3);
        expect(delivered("wait.timed_out").map(({ waitId }) => waitId)).toEqual([timing.id]);
        expect(delivered("wait.completed").map(({ waitId }) => waitId)).toEqual([answered.id]);
        expect(await store.listDue(org, "workflow", now, 100)).toEqual([]);
      } finally {
        await Promise.all(workers.map((worker) => worker.close()));
      }
    });

    it(`applies 25 concurrent context updates of one thread, refusing only those past ${threadKind.limits.contextVariables} variables`, async () => {
      const thread = await engine.threads.create(org, { contextVariables: { PLAN: "pro", LOCALE: "en" } });
      // Every fifth update sets two variables, so which ones fit depends on the order they land in.
      const patches = Array.from({ length: 25 }, (_, index) =>
        index % 5 === 0 ? { [`KEY_${index}`]: index, [`KEY_${index}_B`]: index } : { [`KEY_${index}`]: index },
      );
      const outcomes = await race(patches.length, (index) => via(index).threads.updateContext(org, thread.id, { contextVariables: patches[index]! }));
      const stored = (await engine.threads.get(org, thread.id)).contextVariables;
      const expected = { PLAN: "pro", LOCALE: "en", ...Object.assign({}, ...patches.filter((_, index) => outcomes[index]!.ok)) };
      expect(stored).toEqual(expected);
      const count = Object.keys(stored).length;
      expect(count).toBeLessThanOrEqual(threadKind.limits.contextVariables);
      outcomes.forEach((outcome, index) => {
        if (outcome.ok) return;
        expect(outcome).toMatchObject({
          code: "invalid_input",
          message: expect.stringContaining(`at most ${threadKind.limits.contextVariables} variables`),
        });
        // Refused for the limit: it would break it even now, since variables were only added.
        expect(count + Object.keys(patches[index]!).length).toBeGreaterThan(threadKind.limits.contextVariables);
      });
    });

    itByIdAlone("lets exactly one of 50 concurrent submits of one form session win, and keeps its values", async () => {
      const form = await engine.forms.create(org, { name: "Intake", fields: [{ name: "answer", type: "text", required: true }] });
      const session = await engine.formSessions.create(org, form.id);
      const outcomes = await race(50, (index) => via(index).formSessions.submit(session.id, { values: { answer: `answer ${index}` } }));
      expect(wins(outcomes)).toHaveLength(1);
      for (const code of codes(outcomes)) expect(["illegal_transition", "conflict"]).toContain(code);
      const winner = outcomes.findIndex((outcome) => outcome.ok);
      expect((await engine.formSessions.get(org, session.id)).submission?.values).toEqual({ answer: `answer ${winner}` });
      const submitted = (await engine.timeline(org, session.id)).filter((event) => event.type === "submission.created");
      expect(submitted).toHaveLength(1);
    });

    it("records one decision of 50 concurrent confirms of one action, and queues its run once", async () => {
      const thread = await engine.threads.create(org);
      const action = await engine.threads.proposeAction(org, thread.id, { tool: "send_email", preview: { to: "ada@example.com" } });
      const outcomes = await race(50, (index) => via(index).threads.decideAction(org, thread.id, action.id, { confirmed: true }));
      // Confirming a confirmed action answers it as it is: every caller sees the one decision.
      expect(codes(outcomes)).toEqual([]);
      expect(new Set(wins(outcomes).map((answer) => answer.action.callbackId)).size).toBe(1);
      const confirmed = (await engine.timeline(org, thread.id)).filter((event) => event.type === "action.confirmed");
      expect(confirmed).toHaveLength(1);
      const runs = await store.claimOutbox({ now: T0, limit: 10, leaseMs: 60_000, owner: "test", topic: "action" });
      expect(runs).toHaveLength(1);
    });

    it("lets either the confirms or the cancels of one action win a race of 50, never both", async () => {
      const thread = await engine.threads.create(org);
      const action = await engine.threads.proposeAction(org, thread.id, { tool: "send_email", preview: { to: "ada@example.com" } });
      const confirms = (index: number) => index % 2 === 0;
      const outcomes = await race(50, (index) => via(index).threads.decideAction(org, thread.id, action.id, { confirmed: confirms(index) }));
      const decided = (await engine.timeline(org, thread.id)).filter(
        (event) => event.type === "action.confirmed" || event.type === "action.cancelled",
      );
      expect(decided).toHaveLength(1);
      const confirmedWon = decided[0]!.type === "action.confirmed";
      outcomes.forEach((outcome, index) => {
        if (confirms(index) === confirmedWon) expect(outcome.ok).toBe(true);
        else expect(outcome).toMatchObject({ ok: false, code: "illegal_transition" });
      });
      expect((await engine.threads.getAction(org, thread.id, action.id)).status).toBe(confirmedWon ? "processing" : "cancelled");
    });

    describeDecisionRaces(
      options.test,
      {
        store: () => store,
        engine: () => engine,
        via,
        engines: () => engines,
        org: () => org,
        setNow: (ms) => {
          now = ms;
        },
      },
      itByIdAlone,
    );
  });
}
