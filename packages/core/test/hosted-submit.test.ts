import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, it } from "vitest";
import { type AgentSessionsError, createEngine, type FormSession, type Store } from "../src/index.js";

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const ORG = "org_00000000000000000000000000000001";

const READS = new Set(["get", "getUnscoped", "timeline", "resolveAlias", "list", "listDue"]);
const WRITES = new Set(["insert", "insertWithinLimit", "compareAndSet"]);

/** A store that counts the reads and writes made through it. */
function countingStore(inner: Store) {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function" || typeof name !== "string") return value;
      return (...args: unknown[]) => {
        calls.push(name);
        return value.apply(target, args);
      };
    },
  });
  return {
    store,
    /** The reads and writes since the last call, then starts counting again. */
    take(): { reads: number; writes: number; calls: string[] } {
      const taken = calls.splice(0);
      return { reads: taken.filter((call) => READS.has(call)).length, writes: taken.filter((call) => WRITES.has(call)).length, calls: taken };
    },
  };
}

async function setup() {
  const memory = new MemoryStore();
  const counted = countingStore(memory);
  const clock = { now: T0 };
  // The organization's webhook endpoints are listed once an hour, not each second, so no count here includes that list.
  const engine = createEngine({ store: counted.store, clock: () => clock.now, webhooks: { endpointCacheMs: 3_600_000 } });
  const form = await engine.forms.create(ORG, {
    name: "Support intake",
    fields: [
      { name: "email", type: "email", required: true },
      { name: "issue", type: "textarea", required: true },
      { name: "urgent", type: "checkbox" },
      { name: "session_id", type: "hidden" },
    ],
    allowPartial: true,
  });
  // A new session, the store's count starting after it.
  const newSession = async () => {
    const session = await engine.formSessions.create(ORG, form.id, { prefill: { session_id: "crm-4711" }, expiresIn: 600 });
    counted.take();
    return session;
  };
  counted.take();
  return { engine, memory, clock, form, newSession, take: counted.take };
}

const good = { email: "ada@example.com", issue: "Login fails", session_id: "forged", "submit-as": "partial" };

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: AgentSessionsError) => [error.code, error.message],
  );

describe("engine.formSessions.hostedSubmit", () => {
  it("submits an open session with one read and one write", async () => {
    const t = await setup();
    const session = await t.newSession();
    await t.engine.formSessions.open(session.id);
    t.take();
    const answer = await t.engine.formSessions.hostedSubmit(session.id, good);
    expect(t.take()).toMatchObject({ reads: 1, writes: 1 });
    expect(answer.outcome).toBe("submitted");
    expect(answer.problems).toEqual({});
    expect(answer.session.formName).toBe("Support intake");
    // The hidden field keeps its prefill; the unticked checkbox is false; an unknown name is ignored.
    expect(answer.session.submission).toMatchObject({
      values: { email: "ada@example.com", issue: "Login fails", urgent: false, session_id: "crm-4711" },
      partial: false,
    });
  });

  it("submits a created session in one write too, opening it in the same write", async () => {
    const t = await setup();
    const session = await t.newSession();
    const answer = await t.engine.formSessions.hostedSubmit(session.id, good);
    expect(t.take()).toMatchObject({ reads: 1, writes: 1 });
    expect(answer.outcome).toBe("submitted");
    expect((await t.engine.timeline(ORG, session.id)).map((event) => event.type)).toEqual([
      "session.created",
      "session.opened",
      "submission.created",
    ]);
  });

  it("answers every problem of a refused post at once and opens the session, in at most one write", async () => {
    const t = await setup();
    const session = await t.newSession();
    const post = { email: "not-an-email", issue: "", urgent: "maybe" };
    const first = await t.engine.formSessions.hostedSubmit(session.id, post);
    expect(t.take()).toMatchObject({ reads: 1, writes: 1 });
    expect(first).toMatchObject({
      outcome: "invalid",
      session: { status: "open", submission: null, formName: "Support intake" },
      problems: { email: "must be an email address", urgent: "must be true or false", issue: "is required" },
    });
    const again = await t.engine.formSessions.hostedSubmit(session.id, post);
    expect(t.take()).toMatchObject({ reads: 1, writes: 0 });
    expect(again.problems).toEqual(first.problems);
    // A partial submission where the form allows it: the missing fields are no problem.
    const partial = await t.engine.formSessions.hostedSubmit(session.id, { email: "ada@example.com" }, { partial: true });
    expect(partial).toMatchObject({ outcome: "submitted", session: { submission: { partial: true, missingFields: ["issue"] } } });
  });

  it("answers an expired session as expired, writing the expiry, and a submitted one as it stands", async () => {
    const t = await setup();
    const session = await t.newSession();
    await t.engine.formSessions.hostedSubmit(session.id, good);
    t.take();
    expect((await t.engine.formSessions.hostedSubmit(session.id, good)).outcome).toBe("submitted"); // a repeat
    expect((await t.engine.formSessions.hostedSubmit(session.id, { ...good, issue: "Other" })).outcome).toBe("already_submitted");
    expect(t.take()).toMatchObject({ reads: 2, writes: 0 });

    const late = await t.newSession();
    t.clock.now += 601_000;
    const expired = await t.engine.formSessions.hostedSubmit(late.id, good);
    expect(t.take()).toMatchObject({ reads: 1, writes: 1 });
    expect(expired).toMatchObject({ outcome: "expired", session: { status: "expired", formName: "Support intake" }, problems: {} });
    expect((await t.engine.timeline(ORG, late.id)).map((event) => event.type)).toEqual(["session.created", "session.expired"]);
  });

  it("reads the form's name for a session stored before sessions kept it", async () => {
    const t = await setup();
    const session = await t.newSession();
    // A record as an earlier release stored it: the same session without formName.
    const stored = (await t.memory.getUnscoped(session.id))!;
    const { formName: _formName, ...old } = stored.data as FormSession;
    expect(
      await t.memory.compareAndSet({ record: { ...stored, version: stored.version + 1, data: old }, events: [], expectedVersion: stored.version }),
    ).toBe(true);
    t.take();
    const answer = await t.engine.formSessions.hostedSubmit(session.id, good);
    expect(answer).toMatchObject({ outcome: "submitted", session: { formName: "Support intake" } });
    expect(t.take()).toMatchObject({ reads: 2, writes: 1 });
    expect((await t.engine.formSessions.hostedOpen(session.id)).formName).toBe("Support intake");
  });

  it("refuses what no page posts, and answers not found for an id that names no form session", async () => {
    const t = await setup();
    const session = await t.newSession();
    expect(await code(t.engine.formSessions.hostedSubmit(session.id, "email=a" as never))).toEqual(["invalid_input", "values: must be an object"]);
    expect((await code(t.engine.formSessions.hostedSubmit(session.id, { email: "a\u0000b" })))?.[0]).toBe("invalid_input");
    // Names no field can have are ignored unread, like any name the form does not declare.
    expect((await t.engine.formSessions.hostedSubmit(session.id, { ...good, "x-y": "\u0000", ["z".repeat(300)]: 1 })).outcome).toBe("submitted");
    expect(await code(t.engine.formSessions.hostedSubmit(`sess_${"0".repeat(32)}`, good))).toEqual([
      "not_found",
      `Session sess_${"0".repeat(32)} not found`,
    ]);
    expect((await code(t.engine.formSessions.hostedSubmit("nope", good)))?.[0]).toBe("not_found");
  });
});

describe("engine.formSessions.hostedOpen", () => {
  it("opens a created session in one read and one write, and shows any other as it is", async () => {
    const t = await setup();
    const session = await t.newSession();
    expect(await t.engine.formSessions.hostedOpen(session.id)).toMatchObject({ status: "open", formName: "Support intake" });
    expect(t.take()).toMatchObject({ reads: 1, writes: 1 });
    expect((await t.engine.formSessions.hostedOpen(session.id)).status).toBe("open");
    expect(t.take()).toMatchObject({ reads: 1, writes: 0 });
    await t.engine.formSessions.hostedSubmit(session.id, good);
    expect((await t.engine.formSessions.hostedOpen(session.id)).status).toBe("submitted");
    const late = await t.newSession();
    t.clock.now += 601_000;
    expect((await t.engine.formSessions.hostedOpen(late.id)).status).toBe("expired");
  });
});
