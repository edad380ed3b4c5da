import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, it } from "vitest";
import { type AgentSessionsError, createEngine, createMemoryNotifier, type Engine, type SessionEvent, type Store } from "../src/index.js";

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const ORG = "org_00000000000000000000000000000001";
const OTHER = "org_00000000000000000000000000000002";

function setup(options: { store?: Store; clock?: () => number } = {}) {
  const clock = { now: T0 };
  const engine = createEngine({ store: options.store ?? new MemoryStore(), clock: options.clock ?? (() => clock.now) });
  return { engine, clock };
}

/** Collects what a watch yields until `count` events arrived (then aborts it) or `ms` passed. */
async function collect(engine: Engine, id: string, options: { afterSeq?: number; count: number; ms?: number; orgId?: string }) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.ms ?? 2000);
  const types: string[] = [];
  try {
    for await (const event of engine.watch(options.orgId ?? ORG, id, { afterSeq: options.afterSeq ?? 0, signal: controller.signal })) {
      types.push(event.type);
      if (types.length >= options.count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return types;
}

/** What a refused operation was refused with: its code and message. */
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: AgentSessionsError) => [error.code, error.message],
  );

const listeners = (engine: Engine) => engine.events.all.get("*")?.length ?? 0;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("engine.watch", () => {
  it("yields the events after afterSeq, then each write as it happens, until the signal aborts", async () => {
    const { engine } = setup();
    const session = await engine.workflows.create(ORG, { name: "watched" });
    const inbox = await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 60 });
    const watching = collect(engine, session.id, { afterSeq: 1, count: 3 });
    setTimeout(() => void engine.workflows.postMessage(ORG, inbox.id, { from: "a@b.co", subject: "s", body: "b" }), 20);
    setTimeout(() => void engine.workflows.complete(ORG, session.id), 40);
    expect(await watching).toEqual(["inbox.created", "message.received", "session.completed"]);

    const controller = new AbortController();
    const seen: string[] = [];
    const ended = (async () => {
      for await (const event of engine.watch(ORG, session.id, { afterSeq: 4, signal: controller.signal })) seen.push(event.type);
    })();
    await tick();
    controller.abort();
    await ended; // ends on abort, having yielded nothing new
    expect(seen).toEqual([]);
  });

  it("reads once with a signal aborted from the start, and gives a write's events together in batches()", async () => {
    const { engine } = setup();
    const session = await engine.workflows.create(ORG, { name: "batches" });
    const inbox = await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 60 });
    const wait = await engine.workflows.createWait(ORG, session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 60 });
    const batches: string[][] = [];
    for await (const batch of engine.watch(ORG, session.id, { afterSeq: 1, signal: AbortSignal.abort() }).batches()) {
      batches.push(batch.map((event) => event.type));
    }
    expect(batches).toEqual([["inbox.created", "wait.created"]]);

    const controller = new AbortController();
    const held = (async () => {
      for await (const batch of engine.watch(ORG, session.id, { afterSeq: 3, signal: controller.signal }).batches()) return batch;
      return [];
    })();
    await tick();
    await engine.workflows.postMessage(ORG, inbox.id, { from: "a@b.co", subject: "code", body: "Your code: 482913" });
    const batch = await held;
    expect(batch.map((event) => [event.type, event.payload.waitId ?? null])).toEqual([
      ["message.received", null],
      ["wait.completed", wait.id],
    ]);
  });

  it("answers not found for an unknown id, another organization's record, or text that is no id", async () => {
    const { engine } = setup();
    const session = await engine.workflows.create(ORG, { name: "mine" });
    const signal = AbortSignal.abort();
    const refusals = await Promise.all([
      refusal(collect(engine, session.id, { orgId: OTHER, count: 1 })),
      refusal(collect(engine, `sess_${"0".repeat(32)}`, { count: 1 })),
      refusal(collect(engine, "nope", { count: 1 })),
      refusal(engine.watch(ORG, session.id, { afterSeq: -1, signal })[Symbol.asyncIterator]().next()),
    ]);
    expect(refusals).toEqual([
      ["not_found", `Session ${session.id} not found`],
      ["not_found", `Session sess_${"0".repeat(32)} not found`],
      ["not_found", "Record nope not found"],
      ["invalid_input", "afterSeq: must be a whole number from 0"],
    ]);
    expect(listeners(engine)).toBe(0);
  });

  it("never misses a write made between its first read and its sleep", async () => {
    const inner = new MemoryStore();
    const store = Object.create(inner) as MemoryStore;
    const { engine } = setup({ store });
    const session = await engine.workflows.create(ORG, { name: "racy" });
    let raced = false;
    // The watch's first read sees the record as it was; a write lands before the read returns.
    store.get = async (orgId, id) => {
      const record = await inner.get(orgId, id);
      if (!raced && id === session.id) {
        raced = true;
        await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 60 });
      }
      return record;
    };
    const started = Date.now();
    expect(await collect(engine, session.id, { afterSeq: 1, count: 1, ms: 5000 })).toEqual(["inbox.created"]);
    expect(raced).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("leaves no listener behind: many watches aborted, broken off or never started", async () => {
    const { engine } = setup();
    const sessions = await Promise.all(Array.from({ length: 5 }, (_, i) => engine.workflows.create(ORG, { name: `s${i}` })));
    expect(listeners(engine)).toBe(0);
    const controllers: AbortController[] = [];
    const signal = () => controllers[controllers.push(new AbortController()) - 1]!.signal;
    // Watches asleep, and watches holding a batch their consumer never reads.
    const asleep = sessions.flatMap((session) =>
      Array.from({ length: 40 }, () => engine.watch(ORG, session.id, { afterSeq: 1, signal: signal() })[Symbol.asyncIterator]()),
    );
    const pending = asleep.map((iterator) => iterator.next());
    const unread = sessions.map((session) => engine.watch(ORG, session.id, { signal: signal() })[Symbol.asyncIterator]());
    await Promise.all(unread.map((iterator) => iterator.next()));
    engine.watch(ORG, sessions[0]!.id, { signal: signal() }); // never iterated: never listens
    await tick();
    expect(listeners(engine)).toBe(1); // one listener serves every watch
    for (const controller of controllers) controller.abort();
    expect(listeners(engine)).toBe(0); // at once, even for the watches whose consumer went away
    expect((await Promise.all(pending)).every((result) => result.done)).toBe(true);
    // A consumer that breaks off leaves nothing either.
    expect(await collect(engine, sessions[1]!.id, { count: 1 })).toEqual(["session.created"]);
    expect(listeners(engine)).toBe(0);
    // Writes after all that reach nobody and cost nothing.
    await engine.workflows.complete(ORG, sessions[2]!.id);
    expect(listeners(engine)).toBe(0);
  });

  it("is woken by another instance's write through the notifier, and by polling without one", async () => {
    for (const options of [{ notifier: createMemoryNotifier() }, { pollIntervalMs: 20 }]) {
      const store = new MemoryStore();
      const writer = createEngine({ store, ...("notifier" in options ? { notifier: options.notifier } : {}) });
      const reader = createEngine({ store, ...options });
      const session = await writer.workflows.create(ORG, { name: "across" });
      const started = Date.now();
      const watching = collect(reader, session.id, { afterSeq: 1, count: 1, ms: 5000 });
      await tick();
      await writer.workflows.complete(ORG, session.id);
      expect(await watching).toEqual(["session.completed"]);
      expect(Date.now() - started).toBeLessThan(2000);
      await writer.close();
      await reader.close();
    }
  });

  it("persists a deadline when it passes, so the expiry's event shows without a worker", async () => {
    const { engine } = setup({ clock: () => Date.now() });
    const form = await engine.forms.create(ORG, { name: "Quick", fields: [{ name: "a", type: "text" }] });
    const session = await engine.formSessions.create(ORG, form.id, { expiresIn: 1 });
    expect(await collect(engine, session.id, { afterSeq: 1, count: 1, ms: 4000 })).toEqual(["session.expired"]);
    expect((await engine.timeline(ORG, session.id)).map((event: SessionEvent) => event.type)).toEqual(["session.created", "session.expired"]);
  });
});

describe("engine.workflows.waitFor", () => {
  it("answers when the wait completes, as it is when the signal aborts, and at once when it already ended", async () => {
    const { engine } = setup();
    const session = await engine.workflows.create(ORG, { name: "otp" });
    const inbox = await engine.workflows.createInbox(ORG, session.id, { ttlSeconds: 600 });
    const wait = await engine.workflows.createWait(ORG, session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
    expect(await engine.workflows.waitFor(ORG, wait.id, { signal: AbortSignal.abort() })).toMatchObject({ status: "pending", sessionId: session.id });
    expect(await engine.workflows.waitFor(ORG, wait.id, { signal: AbortSignal.timeout(30) })).toMatchObject({ status: "pending" });
    setTimeout(() => void engine.workflows.postMessage(ORG, inbox.id, { from: "a@b.co", subject: "code", body: "code 991122" }), 20);
    expect(await engine.workflows.waitFor(ORG, wait.id)).toMatchObject({ status: "completed", result: { code: "991122" } });
    expect(await engine.workflows.waitFor(ORG, wait.id)).toMatchObject({ status: "completed" });
    expect(await refusal(engine.workflows.waitFor(OTHER, wait.id))).toEqual(["not_found", `Wait ${wait.id} not found`]);
    expect(listeners(engine)).toBe(0);
  });
});

describe("engine.records.get", () => {
  it("reads a record of any kind with its kind and last seq, as of now, within one organization", async () => {
    const { engine, clock } = setup();
    const form = await engine.forms.create(ORG, { name: "F", fields: [{ name: "a", type: "text" }] });
    const session = await engine.formSessions.create(ORG, form.id, { expiresIn: 60 });
    const thread = await engine.threads.create(ORG, {});
    const workflow = await engine.workflows.create(ORG, { name: "w" });
    await engine.workflows.complete(ORG, workflow.id);
    const kinds = await Promise.all([form.id, session.id, thread.id, workflow.id].map((id) => engine.records.get(ORG, id)));
    expect(kinds.map((found) => [found.kind, found.record.id, found.seq])).toEqual([
      ["form", form.id, 1],
      ["form_session", session.id, 1],
      ["thread", thread.id, 1],
      ["workflow", workflow.id, 2],
    ]);
    clock.now += 61_000;
    const expired = await engine.records.get(ORG, session.id);
    expect(expired.kind === "form_session" && expired.record.status).toBe("expired");
    expect(expired.seq).toBe(1); // as stored: the expiry is not written by a read
    expect(await refusal(engine.records.get(OTHER, form.id))).toEqual(["not_found", `Form ${form.id} not found`]);
    expect(await refusal(engine.records.get(ORG, "x".repeat(300)))).toEqual(["not_found", "Record not found"]);
  });
});
