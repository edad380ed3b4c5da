// Retention in the engine: durations read one way everywhere, the worker purging one bounded batch
// of each kind a round, and `engine.purge` on demand with its counts. What each store removes is
// proven by the conformance suite's purge block; this is what core asks of it, and when.
import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, it } from "vitest";
import { createEngine, InvalidInputError, NotFoundError, parseDuration } from "../src/index.js";

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const DAY = 86_400_000;
const ORG = "org_00000000000000000000000000000001";

describe("parseDuration", () => {
  it.each([
    ["30d", 30 * DAY],
    ["12h", 12 * 3_600_000],
    ["90m", 90 * 60_000],
    ["45s", 45_000],
    ["500ms", 500],
    ["2w", 14 * DAY],
    [" 7d ", 7 * DAY],
    [1000, 1000],
  ])("reads %j as %d ms", (text, ms) => {
    expect(parseDuration(text, "field")).toBe(ms);
  });

  it.each(["30", "30x", "-1d", "1.5h", "0d", "d", "", "30 d", 0, -5, 1.5, null, undefined, {}])("refuses %j, naming the field", (value) => {
    let caught: unknown;
    try {
      parseDuration(value, "retention.terminalAfter");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as InvalidInputError).field).toBe("retention.terminalAfter");
    expect((caught as Error).message).toMatch(/^retention\.terminalAfter: must be a /);
  });
});

/** An engine with retention over a memory store, and a clock the test moves. */
function setup(retention?: { terminalAfter: string | number; batch?: number }) {
  const clock = { now: T0 };
  const store = new MemoryStore();
  const engine = createEngine({
    store,
    clock: () => clock.now,
    ...(retention ? { retention } : {}),
    webhooks: { allowPrivateAddresses: true },
    fetch: async () => new Response(null, { status: 204 }),
  });
  return { engine, clock, store };
}

describe("createEngine({ retention })", () => {
  it("refuses a terminalAfter or a batch it cannot read, naming the field", () => {
    expect(() => setup({ terminalAfter: "soon" })).toThrow(/^retention\.terminalAfter: must be a duration/);
    expect(() => setup({ terminalAfter: "30d", batch: 0 })).toThrow(/^retention\.batch: must be a whole number ≥ 1/);
  });

  it("removes terminal records once they have been terminal longer than terminalAfter, one batch of each kind a round", async () => {
    const { engine, clock, store } = setup({ terminalAfter: "30d", batch: 2 });
    const done = [];
    for (let i = 0; i < 3; i++) {
      const workflow = await engine.workflows.create(ORG, { name: `done-${i}` });
      await engine.workflows.complete(ORG, workflow.id);
      done.push(workflow.id);
    }
    const live = await engine.workflows.create(ORG, { name: "live" });
    const thread = await engine.threads.create(ORG);
    await engine.threads.close(ORG, thread.id);
    const hook = await engine.webhooks.create(ORG, { url: "http://127.0.0.1:9/hook", events: ["*"] });
    await engine.webhooks.delete(ORG, hook.id);
    clock.now = T0 + DAY;
    const recent = await engine.workflows.create(ORG, { name: "recent" });
    await engine.workflows.complete(ORG, recent.id);

    // Not yet 30 days: nothing goes, and the worker looks again a minute later.
    expect(await engine.tick(T0 + 30 * DAY - 60_000)).toMatchObject({ purged: 0 });
    clock.now = T0 + 30 * DAY + 1;
    // One batch of each kind: two of the three workflows, the thread, the endpoint.
    expect(await engine.tick()).toMatchObject({ purged: 4 });
    // A full batch of workflows: the next round goes on at once.
    expect(await engine.tick()).toMatchObject({ purged: 1 });
    expect(await engine.tick()).toMatchObject({ purged: 0 });
    for (const id of [...done, thread.id, hook.id]) await expect(engine.records.get(ORG, id)).rejects.toThrow(NotFoundError);
    expect((await engine.workflows.get(ORG, live.id)).status).toBe("active");
    expect((await engine.workflows.get(ORG, recent.id)).status).toBe("completed");
    expect(store.size).toBe(2);
    // A day later the recent one has had its 30 days too.
    expect(await engine.tick(T0 + 31 * DAY + 1)).toMatchObject({ purged: 1 });
  });

  it("looks again a minute after a round that left nothing behind, not every round", async () => {
    const { engine } = setup({ terminalAfter: "1m" });
    const workflow = await engine.workflows.create(ORG, { name: "short" });
    await engine.workflows.complete(ORG, workflow.id);
    expect(await engine.tick(T0 + 30_000)).toMatchObject({ purged: 0 }); // not a minute old yet
    expect(await engine.tick(T0 + 70_000)).toMatchObject({ purged: 0 }); // old enough, but the worker waits
    expect(await engine.tick(T0 + 90_000)).toMatchObject({ purged: 1 });
  });

  it("purges nothing in the worker without retention", async () => {
    const { engine, clock } = setup();
    const workflow = await engine.workflows.create(ORG, { name: "kept" });
    await engine.workflows.complete(ORG, workflow.id);
    clock.now = T0 + 3650 * DAY;
    expect(await engine.tick()).toMatchObject({ purged: 0 });
    expect((await engine.workflows.get(ORG, workflow.id)).status).toBe("completed");
  });
});

describe("engine.purge", () => {
  it("counts what would go on a dry run, then removes it and says how many of each went", async () => {
    const { engine, clock } = setup();
    const workflow = await engine.workflows.create(ORG, { name: "signup" });
    await engine.workflows.createInbox(ORG, workflow.id, { ttlSeconds: 60 });
    await engine.workflows.complete(ORG, workflow.id);
    const hook = await engine.webhooks.create(ORG, { url: "http://127.0.0.1:9/hook", events: ["*"] });
    await engine.webhooks.delete(ORG, hook.id);
    const kept = await engine.threads.create(ORG);
    clock.now = T0 + 10 * DAY;

    const dry = await engine.purge({ olderThan: "7d", dryRun: true, batch: 1 });
    expect(dry).toMatchObject({ dryRun: true, before: T0 + 3 * DAY });
    expect(dry.removed).toMatchObject({ records: 2, aliases: 1 });
    // The endpoint's timeline: webhook.created and webhook.deleted, no delivery attempt.
    expect(dry.byKind.webhook).toMatchObject({ records: 1, events: 2 });
    expect(dry.removed.deliveries).toBe(0);
    expect(dry.removed.events).toBe((dry.byKind.workflow?.events ?? 0) + 2);
    expect(Object.keys(dry.byKind).sort()).toEqual(["webhook", "workflow"]);
    expect((await engine.workflows.get(ORG, workflow.id)).status).toBe("completed");

    expect(await engine.purge({ olderThan: "11d" })).toMatchObject({ removed: { records: 0 } });
    const done = await engine.purge({ olderThan: "7d" });
    expect(done).toEqual({ ...dry, dryRun: false });
    await expect(engine.workflows.get(ORG, workflow.id)).rejects.toThrow(NotFoundError);
    expect((await engine.threads.get(ORG, kept.id)).status).toBe("active");
    expect((await engine.purge({ olderThan: "7d" })).removed.records).toBe(0);
  });

  it("counts a deleted endpoint's delivery attempts as its delivery log", async () => {
    const { engine, clock } = setup();
    const hook = await engine.webhooks.create(ORG, { url: "http://127.0.0.1:9/hook", events: ["*"] });
    const workflow = await engine.workflows.create(ORG, { name: "delivered" });
    expect(await engine.tick()).toMatchObject({ deliveries: 1 });
    await engine.webhooks.delete(ORG, hook.id);
    clock.now = T0 + 2 * DAY;
    const report = await engine.purge({ olderThan: "1d" });
    expect(report.byKind.webhook).toMatchObject({ records: 1, events: 2, deliveries: 1 });
    expect(report.removed.deliveries).toBe(1);
    // The session whose event was delivered is live: it stays.
    expect((await engine.workflows.get(ORG, workflow.id)).status).toBe("active");
  });

  it("takes the engine's retention as the default, and asks for olderThan without one", async () => {
    await expect(setup().engine.purge()).rejects.toThrow(/^olderThan is required/);
    await expect(setup().engine.purge({ olderThan: "later" })).rejects.toThrow(/^olderThan: must be a duration/);
    const { engine } = setup({ terminalAfter: "12h" });
    expect((await engine.purge({ dryRun: true })).before).toBe(T0 - 12 * 3_600_000);
  });
});
