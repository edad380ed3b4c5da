// The delivery log and the leases behind it: every attempt is logged before it is sent, an attempt
// whose sender stopped shows as `unknown`, a worker's heartbeat keeps a slow delivery its own, and
// a worker paused past its lease never overwrites what the instance that took over wrote.
import { MemoryStore } from "@agent-sessions/memory";
import { afterEach, describe, expect, it } from "vitest";
import { createEngine, type Engine, type EngineOptions, type Store } from "../src/index.js";

const ORG = "org_00000000000000000000000000000001";
const T0 = Date.UTC(2026, 0, 1);
const URL_ = "https://hooks.example.com/h";

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

/** A receiver whose answers the test releases one by one, and what it was sent. */
function receiver() {
  const sent: string[] = [];
  const waiting: Array<(status: number) => void> = [];
  let arrived: (() => void) | null = null;
  const fetch: EngineOptions["fetch"] = async (_input, init) => {
    sent.push(new Headers(init?.headers).get("webhook-id")!);
    arrived?.();
    const status = await new Promise<number>((resolve) => waiting.push(resolve));
    return new Response(null, { status });
  };
  return {
    sent,
    fetch,
    /** Resolves once `count` requests arrived. */
    async arrivals(count: number): Promise<void> {
      while (sent.length < count) await new Promise<void>((resolve) => (arrived = resolve));
    },
    answer(status: number): void {
      waiting.shift()!(status);
    },
  };
}

function engine(store: Store, clock: { now: number }, options: Partial<EngineOptions> = {}): Engine {
  const made = createEngine({ store, clock: () => clock.now, webhooks: { resolveHost: async () => ["93.184.215.14"] }, ...options });
  engines.push(made);
  return made;
}

/** `store` as an instance whose heartbeats never reach it: paused, or cut off from the store. */
function unheard(store: Store): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === "renewOutbox") return async () => [];
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("delivery log", () => {
  it("logs an attempt as started, with its instance, before the request is sent, and how it ended after", async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    const hooks = receiver();
    const worker = engine(store, clock, { fetch: hooks.fetch, instanceId: "instance-a" });
    const hook = await worker.webhooks.create(ORG, { url: URL_ });
    await worker.workflows.create(ORG, { name: "signup" });
    const round = worker.tick();
    await hooks.arrivals(1);
    const [inFlight] = (await worker.webhooks.deliveries(ORG, hook.id)).data;
    expect(inFlight).toMatchObject({ attempt: 1, outcome: "started", instance: "instance-a", statusCode: null, at: T0 });
    hooks.answer(204);
    await round;
    const page = await worker.webhooks.deliveries(ORG, hook.id);
    expect(page.total).toBe(1);
    expect(page.data[0]).toMatchObject({
      deliveryId: inFlight!.deliveryId,
      attempt: 1,
      outcome: "succeeded",
      statusCode: 204,
      instance: "instance-a",
    });
  });

  it("shows the attempt of a sender that stopped as unknown, and the next instance's attempt after it", async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    const stalled = receiver();
    const dying = engine(unheard(store), clock, { fetch: stalled.fetch, instanceId: "dying" });
    const hook = await dying.webhooks.create(ORG, { url: URL_ });
    await dying.workflows.create(ORG, { name: "signup" });
    const lost = dying.tick(); // its request never gets an answer while the instance is "down"
    await stalled.arrivals(1);

    clock.now = T0 + 3000; // its 3 s lease ran out with no heartbeat heard
    const sent: string[] = [];
    const survivor = engine(store, clock, {
      instanceId: "survivor",
      fetch: async (_input, init) => {
        sent.push(new Headers(init?.headers).get("webhook-id")!);
        return new Response(null, { status: 200 });
      },
    });
    expect(await survivor.tick()).toMatchObject({ deliveries: 1 });
    expect(sent).toEqual(stalled.sent); // the same webhook id: the receiver can tell it is the same event
    const log = (await survivor.webhooks.deliveries(ORG, hook.id)).data;
    expect(log.map((attempt) => [attempt.attempt, attempt.outcome, attempt.instance])).toEqual([
      [2, "succeeded", "survivor"],
      [1, "unknown", "dying"],
    ]);

    // The paused instance comes back: its late answer is logged as its own attempt and settles nothing.
    stalled.answer(500);
    await lost;
    const after = (await survivor.webhooks.deliveries(ORG, hook.id)).data;
    expect(after.map((attempt) => [attempt.attempt, attempt.outcome, attempt.instance])).toEqual([
      [2, "succeeded", "survivor"],
      [1, "retrying", "dying"],
    ]);
    clock.now = T0 + 3_600_000;
    expect(await survivor.tick()).toMatchObject({ deliveries: 0 }); // no retry was scheduled over the success
    expect(sent).toHaveLength(1);
  });

  it("keeps a delivery slower than its lease with the instance sending it: the heartbeat renews it", async () => {
    const store = new MemoryStore();
    const slow = receiver();
    const clock = { now: T0 };
    const sender = engine(store, clock, { fetch: slow.fetch, instanceId: "sender" });
    const other = engine(store, clock, { instanceId: "other", fetch: async () => new Response(null, { status: 200 }) });
    const hook = await sender.webhooks.create(ORG, { url: URL_ });
    await sender.workflows.create(ORG, { name: "signup" });
    const round = sender.tick(T0, { leaseMs: 60 });
    await slow.arrivals(1);
    // Real time passes well beyond the lease while the receiver takes its time; the other instance keeps looking.
    for (let step = 0; step < 8; step++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      clock.now += 30;
      expect(await other.tick(clock.now, { leaseMs: 60 })).toMatchObject({ deliveries: 0 });
    }
    slow.answer(200);
    await round;
    const log = (await sender.webhooks.deliveries(ORG, hook.id)).data;
    expect(log.map((attempt) => [attempt.attempt, attempt.outcome, attempt.instance])).toEqual([[1, "succeeded", "sender"]]);
  });

  it("leases what a long round claims late from the moment of the claim, so another instance does not send it too", async () => {
    const store = new MemoryStore();
    const slow = receiver();
    const clock = { now: T0 };
    const sender = engine(store, clock, { fetch: slow.fetch, instanceId: "sender" });
    const sentByOther: string[] = [];
    const other = engine(store, clock, {
      instanceId: "other",
      fetch: async (_input, init) => {
        sentByOther.push(new Headers(init?.headers).get("webhook-id")!);
        return new Response(null, { status: 200 });
      },
    });
    await sender.webhooks.create(ORG, { url: URL_ });
    await sender.workflows.create(ORG, { name: "first" });
    await sender.workflows.create(ORG, { name: "second" });
    // A window of one: the second delivery is claimed only once the first is done, 10 s into the round.
    const round = sender.tick(T0, { batch: 1 });
    await slow.arrivals(1);
    clock.now = T0 + 10_000;
    slow.answer(200);
    await slow.arrivals(2);
    // The round started at T0, but its second claim was made at T0 + 10 s: its 3 s lease still holds.
    expect(await other.tick(clock.now)).toMatchObject({ deliveries: 0 });
    slow.answer(200);
    await round;
    expect(sentByOther).toEqual([]);
    expect(new Set(slow.sent).size).toBe(2);
  });

  it("keeps renewing the deliveries under way when a claim fails half-way through a round, and fails the round once they end", async () => {
    const store = new MemoryStore();
    const failing = new Proxy(store, {
      get(target, property) {
        if (property === "claimOutbox") {
          return async (options: Parameters<Store["claimOutbox"]>[0]) => {
            if (options.topic === "action") throw new Error("the store went away");
            return target.claimOutbox(options);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const slow = receiver();
    const clock = { now: T0 };
    const sender = engine(failing, clock, { fetch: slow.fetch, instanceId: "sender", onWorkerError: () => {} });
    const other = engine(store, clock, { instanceId: "other", fetch: async () => new Response(null, { status: 200 }) });
    await sender.webhooks.create(ORG, { url: URL_ });
    await sender.workflows.create(ORG, { name: "signup" });
    let ended = false;
    const round = sender.tick(T0, { leaseMs: 60 }).finally(() => (ended = true));
    round.catch(() => {});
    await slow.arrivals(1);
    for (let step = 0; step < 6; step++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      clock.now += 30;
      expect(await other.tick(clock.now, { leaseMs: 60 })).toMatchObject({ deliveries: 0 });
    }
    expect(ended).toBe(false);
    slow.answer(200);
    await expect(round).rejects.toThrow("the store went away");
  });

  it("pages the log of an endpoint an earlier release logged on its timeline after the log of its own, each attempt once", async () => {
    const store = new MemoryStore();
    const clock = { now: T0 };
    let status = 500;
    const worker = engine(store, clock, { fetch: async () => new Response(null, { status }), webhooks: { retrySchedule: [1000, 1000, 1000] } });
    const hook = await worker.webhooks.create(ORG, { url: URL_ });
    // Three attempts as an earlier release kept them: events on the endpoint's own timeline.
    const endpoint = (await store.get(ORG, hook.id))!;
    const legacy = [1, 2, 3].map((attempt, index) => ({
      id: `evt_legacy${attempt}`,
      orgId: ORG,
      recordId: hook.id,
      kind: "webhook" as const,
      seq: 2 + index,
      type: attempt === 3 ? "delivery.succeeded" : "delivery.attempt_failed",
      at: T0 - 10_000 + attempt,
      payload: {
        webhook_id: hook.id,
        delivery_id: "dlv_legacy",
        event_id: "evt_old",
        event_type: "workflow.created",
        attempt,
        status_code: attempt === 3 ? 200 : 500,
        error: null,
        duration_ms: 5,
        next_attempt_at: null,
      },
    }));
    expect(
      await store.compareAndSet({
        record: { ...endpoint, version: endpoint.version + 1, eventCount: endpoint.eventCount + 3 },
        events: legacy,
        expectedVersion: endpoint.version,
      }),
    ).toBe(true);
    // Four attempts of the log of its own: one event failing three times, then delivered.
    await worker.workflows.create(ORG, { name: "signup" });
    for (let round = 0; round < 4; round++) {
      if (round === 3) status = 200;
      await worker.tick();
      clock.now += 1000;
    }
    const full = await worker.webhooks.deliveries(ORG, hook.id, { limit: 100 });
    expect(full.total).toBe(7);
    const order = full.data.map((attempt) => `${attempt.deliveryId === "dlv_legacy" ? "old" : "new"}${attempt.attempt}`);
    expect(order).toEqual(["new4", "new3", "new2", "new1", "old3", "old2", "old1"]);
    expect(full.data.at(-1)).toMatchObject({ outcome: "retrying", statusCode: 500, instance: null });
    for (const limit of [1, 2, 3, 4, 6, 7]) {
      const byCursor: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await worker.webhooks.deliveries(ORG, hook.id, { limit, ...(cursor ? { cursor } : {}) });
        expect(page.data.length).toBeLessThanOrEqual(limit);
        byCursor.push(...page.data.map((attempt) => `${attempt.deliveryId === "dlv_legacy" ? "old" : "new"}${attempt.attempt}`));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(byCursor, `limit ${limit}`).toEqual(order);
      const byOffset: string[] = [];
      for (let offset = 0; offset < 8; offset += limit) {
        const page = await worker.webhooks.deliveries(ORG, hook.id, { limit, offset });
        byOffset.push(...page.data.map((attempt) => `${attempt.deliveryId === "dlv_legacy" ? "old" : "new"}${attempt.attempt}`));
      }
      expect(byOffset, `limit ${limit}`).toEqual(order);
    }
    await expect(worker.webhooks.deliveries(ORG, hook.id, { cursor: "nonsense" })).rejects.toMatchObject({ field: "cursor" });
  });
});
