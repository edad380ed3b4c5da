import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createWorkflow, type EventDraft, type Wait, type Workflow, type WorkflowCommand, workflowMachine } from "../../src/index.js";
import { deepFreeze, HOUR, MINUTE, newId, ok, refusal, SECOND, T0 } from "./helpers.js";

// A wait's options (issue 18): on_timeout's resolve_with, pattern, since and remind_before.

const machine = workflowMachine;
const INBOX = newId("inb");
/** A workflow with one inbox that lives a day. */
const start = deepFreeze(
  ok(
    machine.transition(
      createWorkflow({ id: newId("sess"), orgId: newId("org"), name: "signup" }, T0).state,
      { type: "createInbox", inboxId: INBOX, ttlSeconds: 24 * 3600 },
      T0,
    ),
  ),
);

type WaitCommand = Extract<WorkflowCommand, { type: "createWait" }>;

function wait(options: Partial<WaitCommand> = {}): WaitCommand {
  return { type: "createWait", waitId: newId("wait"), waitType: "otp", inboxId: INBOX, timeoutSeconds: 600, ...options };
}

function message(subject: string, body = "", messageId = newId("msg")): WorkflowCommand {
  return { type: "receiveMessage", messageId, inboxId: INBOX, from: "noreply@example.com", subject, body };
}

function types(events: readonly EventDraft[]): string[] {
  return events.map((event) => event.type);
}

/** Applies `command` at `now` and answers the next state and the events of the transition. */
function run(state: Workflow, command: WorkflowCommand, now: number): { state: Workflow; events: readonly EventDraft[] } {
  const result = machine.transition(state, command, now);
  if (!result.ok) throw new Error(`refused: ${result.error.message}`);
  return { state: result.state, events: result.events };
}

describe("on_timeout: resolve_with", () => {
  it.each([
    ["an object", { fallback: true, code: null }],
    ["null", null],
    ["a string", "000000"],
    ["a list", [1, "two", { three: 3 }]],
  ])("completes the wait at its timeout with the value as given (%s), timed out, with one wait.completed", (_what, value) => {
    const WAIT = newId("wait");
    const state = deepFreeze(ok(machine.transition(start, wait({ waitId: WAIT, onTimeout: { resolveWith: value } }), T0 + MINUTE)));
    const deadline = T0 + MINUTE + 600 * SECOND;
    expect(state.waits[0]).toMatchObject({ status: "pending", onTimeout: { resolveWith: value }, result: null });
    expect(state.waits[0]!.timedOut).toBeUndefined();
    expect(machine.dueAt(state)).toBe(deadline);
    expect(machine.settle(state, deadline - 1).state).toBe(state);
    const settled = machine.settle(state, deadline + HOUR);
    expect(settled.events).toEqual([{ type: "wait.completed", at: deadline, payload: { waitId: WAIT, timedOut: true } }]);
    expect(settled.state.waits[0]).toMatchObject({ status: "completed", timedOut: true, completedAt: deadline });
    expect(settled.state.waits[0]!.result).toEqual(value);
    expect(settled.state.updatedAt).toBe(deadline);
    expect(machine.dueAt(settled.state)).toBeNull();
    expect(machine.settle(settled.state, deadline + 2 * HOUR).events).toEqual([]);
  });

  it("still completes with a message that comes before the timeout, not timed out", () => {
    let state = ok(machine.transition(start, wait({ onTimeout: { resolveWith: "fallback" } }), T0 + SECOND));
    state = ok(machine.transition(state, message("Code", "Your code: 482913"), T0 + MINUTE));
    expect(state.waits[0]).toMatchObject({ status: "completed", result: { code: "482913" } });
    expect(state.waits[0]!.timedOut).toBeUndefined();
    expect(machine.settle(state, T0 + 2 * HOUR).events).toEqual([]);
  });

  it('times out as before with on_timeout "fail", which the wait keeps since it was given', () => {
    const state = ok(machine.transition(start, wait({ onTimeout: "fail" }), T0));
    expect(state.waits[0]!.onTimeout).toBe("fail");
    const settled = machine.settle(state, T0 + HOUR);
    expect(types(settled.events)).toEqual(["wait.timed_out"]);
    expect(settled.state.waits[0]).toMatchObject({ status: "timed_out", result: null });
  });

  it("is cancelled, not resolved, when its session completes first", () => {
    const state = ok(machine.transition(start, wait({ onTimeout: { resolveWith: 1 } }), T0));
    const done = run(state, { type: "complete" }, T0 + MINUTE);
    expect(types(done.events)).toEqual(["session.completed", "wait.cancelled"]);
    expect(machine.settle(done.state, T0 + HOUR).events).toEqual([]);
  });
});

describe("pattern", () => {
  it("takes only a message the pattern matches, with its capture group as the code, for otp and message waits", () => {
    for (const waitType of ["otp", "message"] as const) {
      let state = ok(machine.transition(start, wait({ waitType, pattern: "ref ([A-Z]{3}-\\d{3})" }), T0 + SECOND));
      // A six-digit code the default extractor would take is not what this pattern asks for.
      const plain = run(state, message("Your code", "Your verification code is 482913"), T0 + 2 * SECOND);
      expect(types(plain.events)).toEqual(["message.received"]);
      state = plain.state;
      expect(state.waits[0]!.status).toBe("pending");
      const MSG = newId("msg");
      state = ok(machine.transition(state, message("Booking", "Your booking ref ABC-123 is confirmed", MSG), T0 + 3 * SECOND));
      expect(state.waits[0]).toMatchObject({ status: "completed", result: { messageId: MSG, code: "ABC-123" } });
      expect(state.messages.map((m) => m.consumedBy)).toEqual([null, state.waits[0]!.id]);
    }
  });

  it("reads the subject before the body", () => {
    const state = ok(machine.transition(start, wait({ pattern: "#(\\d+)" }), T0));
    const next = ok(machine.transition(state, message("Ticket #111", "See ticket #222"), T0 + SECOND));
    expect(next.waits[0]!.result).toMatchObject({ code: "111" });
    const bodyOnly = ok(machine.transition(ok(machine.transition(start, wait({ pattern: "#(\\d+)" }), T0)), message("Ticket", "See #222"), T0 + 1));
    expect(bodyOnly.waits[0]!.result).toMatchObject({ code: "222" });
  });

  it("does not take a message whose first match leaves the group out", () => {
    const state = ok(machine.transition(start, wait({ pattern: "code(?:: (\\d+))?" }), T0));
    const next = run(state, message("code", "no digits"), T0 + SECOND);
    expect(types(next.events)).toEqual(["message.received"]);
    expect(types(run(next.state, message("x", "code: 77"), T0 + 2 * SECOND).events)).toEqual(["message.received", "wait.completed"]);
  });

  it("lets a later wait without a pattern take a message an earlier wait's pattern refused", () => {
    const PICKY = newId("wait");
    const ANY = newId("wait");
    let state = ok(machine.transition(start, wait({ waitId: PICKY, pattern: "PIN (\\d{4})" }), T0));
    state = ok(machine.transition(state, wait({ waitId: ANY }), T0 + 1));
    state = ok(machine.transition(state, message("Code", "Your code: 482913"), T0 + 2));
    expect(state.waits.map((w) => [w.id, w.status])).toEqual([
      [PICKY, "pending"],
      [ANY, "completed"],
    ]);
  });

  it("matches a wait created late against the earlier messages no wait took", () => {
    let state = ok(machine.transition(start, message("Welcome", "hello"), T0 + SECOND));
    const MATCHING = newId("msg");
    state = ok(machine.transition(state, message("Sign-in", "PIN 4321", MATCHING), T0 + 2 * SECOND));
    const created = run(state, wait({ pattern: "PIN (\\d{4})" }), T0 + 3 * SECOND);
    expect(types(created.events)).toEqual(["wait.created", "wait.completed"]);
    expect(created.state.waits[0]!.result).toMatchObject({ messageId: MATCHING, code: "4321" });
  });

  it.each([
    ["(a", "is not a regular expression the linear-time engine (RE2 syntax) accepts: missing closing ): `(a`"],
    ["(?=x)(\\d+)", "is not a regular expression the linear-time engine (RE2 syntax) accepts: invalid or unsupported Perl syntax: `(?=`"],
    ["(a)\\1", "is not a regular expression the linear-time engine (RE2 syntax) accepts: invalid escape sequence: `\\1`"],
    ["\\d{6}", "must have exactly one capture group, around the code (it has 0); use (?:…) for other groups"],
    ["(\\w+) (\\d+)", "must have exactly one capture group, around the code (it has 2); use (?:…) for other groups"],
  ])("refuses %s as invalid input naming pattern", (pattern, rule) => {
    const error = refusal(machine.transition(start, wait({ pattern }), T0));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe(rule.startsWith("is ") ? `pattern ${rule}` : `pattern: ${rule}`);
  });

  it("runs a pattern that backtracking engines take exponential time on over a 50 KB body, and returns", () => {
    // (a+)+$ against "aaaa…!" is the classic catastrophic case; the linear-time engine just answers.
    const body = `${"a".repeat(50_000)}!`;
    const state = ok(machine.transition(start, wait({ waitType: "message", pattern: "(a+)+$" }), T0));
    const missed = run(state, message("", body), T0 + 1);
    expect(types(missed.events)).toEqual(["message.received"]);
    const hit = run(missed.state, message("", `${"a".repeat(50_000)}`), T0 + 2);
    expect(types(hit.events)).toEqual(["message.received", "wait.completed"]);
    expect((hit.state.waits[0]!.result as { code: string }).code).toHaveLength(50_000);
  });
});

describe("since", () => {
  it("never takes a message received before it, and takes a later one", () => {
    const EARLY = newId("msg");
    let state = ok(machine.transition(start, message("Code", "Your code: 111111", EARLY), T0 + SECOND));
    const created = run(state, wait({ since: T0 + 2 * SECOND }), T0 + 3 * SECOND);
    expect(types(created.events)).toEqual(["wait.created"]);
    state = created.state;
    expect(state.waits[0]).toMatchObject({ status: "pending", since: T0 + 2 * SECOND });
    const LATE = newId("msg");
    state = ok(machine.transition(state, message("Code", "Your code: 222222", LATE), T0 + 4 * SECOND));
    expect(state.waits[0]!.result).toMatchObject({ messageId: LATE, code: "222222" });
    expect(state.messages.find((m) => m.id === EARLY)?.consumedBy).toBeNull();
  });

  it("takes a message received at the very moment, or after an earlier since", () => {
    const state = ok(machine.transition(start, message("Code", "Your code: 111111"), T0 + SECOND));
    expect(types(run(state, wait({ since: T0 + SECOND }), T0 + 3 * SECOND).events)).toEqual(["wait.created", "wait.completed"]);
    expect(types(run(state, wait({ since: T0 }), T0 + 3 * SECOND).events)).toEqual(["wait.created", "wait.completed"]);
  });

  it("may lie ahead, when only messages from then on count", () => {
    let state = ok(machine.transition(start, wait({ since: T0 + MINUTE }), T0));
    state = ok(machine.transition(state, message("Code", "Your code: 111111"), T0 + 30 * SECOND));
    expect(state.waits[0]!.status).toBe("pending");
    state = ok(machine.transition(state, message("Code", "Your code: 222222"), T0 + MINUTE));
    expect(state.waits[0]!.result).toMatchObject({ code: "222222" });
  });

  it("is refused after the wait's timeout, naming since", () => {
    const error = refusal(machine.transition(start, wait({ timeoutSeconds: 60, since: T0 + 61 * SECOND }), T0));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe("since: must not be after the wait times out (2026-01-15T10:01:00.000Z): no message could complete it");
    expect(ok(machine.transition(start, wait({ timeoutSeconds: 60, since: T0 + 60 * SECOND }), T0)).waits).toHaveLength(1);
  });
});

describe("remind_before", () => {
  const expiring = (waitId: string, deadline: number, seconds: number) => ({
    type: "wait.expiring",
    at: deadline - seconds * SECOND,
    payload: { waitId, expiresAt: new Date(deadline).toISOString(), remindBefore: seconds },
  });

  it("sends each reminder once, at its moment, then the timeout; dueAt follows them", () => {
    const WAIT = newId("wait");
    const deadline = T0 + 3600 * SECOND;
    let state = deepFreeze(ok(machine.transition(start, wait({ waitId: WAIT, timeoutSeconds: 3600, remindBefore: [60, 600] }), T0)));
    expect(state.waits[0]).toMatchObject({ remindBefore: [60, 600], reminders: [deadline - 600 * SECOND, deadline - 60 * SECOND] });
    expect(machine.dueAt(state)).toBe(deadline - 600 * SECOND);
    expect(machine.settle(state, deadline - 600 * SECOND - 1).events).toEqual([]);

    let settled = machine.settle(state, deadline - 300 * SECOND);
    expect(settled.events).toEqual([expiring(WAIT, deadline, 600)]);
    state = settled.state;
    expect(state.updatedAt).toBe(T0);
    expect(state.waits[0]!.reminders).toEqual([deadline - 60 * SECOND]);
    expect(machine.dueAt(state)).toBe(deadline - 60 * SECOND);
    expect(machine.settle(state, deadline - 300 * SECOND).events).toEqual([]);

    settled = machine.settle(state, deadline - 1);
    expect(settled.events).toEqual([expiring(WAIT, deadline, 60)]);
    state = settled.state;
    expect(state.waits[0]!.reminders).toBeUndefined();
    expect(state.waits[0]!.remindBefore).toEqual([60, 600]);
    expect(machine.dueAt(state)).toBe(deadline);
    expect(types(machine.settle(state, deadline).events)).toEqual(["wait.timed_out"]);
  });

  it("sends the reminders whose moments passed in one settle, in order, then the timeout, when time jumps before the deadline", () => {
    const WAIT = newId("wait");
    const deadline = T0 + 3600 * SECOND;
    const state = ok(machine.transition(start, wait({ waitId: WAIT, timeoutSeconds: 3600, remindBefore: [600, 60] }), T0));
    expect(machine.settle(state, deadline - 1).events).toEqual([expiring(WAIT, deadline, 600), expiring(WAIT, deadline, 60)]);
  });

  it("sends none once the deadline passed by the time anyone looks: the timeout alone", () => {
    const state = ok(machine.transition(start, wait({ timeoutSeconds: 3600, remindBefore: [600, 60] }), T0));
    const settled = machine.settle(state, T0 + 2 * HOUR);
    expect(types(settled.events)).toEqual(["wait.timed_out"]);
    expect(settled.state.waits[0]!.reminders).toBeUndefined();
  });

  it("sends none after the wait completed or its session ended, and drops what was left", () => {
    const deadline = T0 + 3600 * SECOND;
    const state = ok(machine.transition(start, wait({ timeoutSeconds: 3600, remindBefore: [600] }), T0));
    const completed = ok(machine.transition(state, message("Code", "Your code: 482913"), T0 + MINUTE));
    expect(completed.waits[0]).toMatchObject({ status: "completed", remindBefore: [600] });
    expect(completed.waits[0]!.reminders).toBeUndefined();
    expect(machine.dueAt(completed)).toBeNull();
    expect(machine.settle(completed, deadline - 1).events).toEqual([]);

    const ended = run(state, { type: "fail", message: "gave up" }, T0 + MINUTE);
    expect(types(ended.events)).toEqual(["session.failed", "wait.cancelled"]);
    expect(ended.state.waits[0]!.reminders).toBeUndefined();
    expect(machine.settle(ended.state, deadline - 1).events).toEqual([]);
  });

  it("skips an entry at or past the time left when the wait is created", () => {
    const state = ok(machine.transition(start, wait({ timeoutSeconds: 60, remindBefore: [60, 600, 30] }), T0));
    expect(state.waits[0]).toMatchObject({ remindBefore: [60, 600, 30], reminders: [T0 + 30 * SECOND] });
    const none = ok(machine.transition(start, wait({ timeoutSeconds: 60, remindBefore: [600] }), T0));
    expect(none.waits[0]!.remindBefore).toEqual([600]);
    expect(none.waits[0]!.reminders).toBeUndefined();
  });
});

describe("a wait created without options", () => {
  it("holds exactly the fields it held before them, and records the step as before", () => {
    const WAIT = newId("wait");
    const state = ok(machine.transition(start, wait({ waitId: WAIT }), T0));
    expect(Object.keys(state.waits[0]!).sort()).toEqual(
      ["completedAt", "createdAt", "expiresAt", "id", "inboxId", "result", "status", "timeoutSeconds", "type"].sort(),
    );
    expect(state.steps.at(-1)!.input).toEqual({ type: "otp", inboxId: INBOX, timeoutSeconds: 600 });
  });

  it("records a wait's options in its create_wait step as the wire names them", () => {
    const state = ok(
      machine.transition(start, wait({ onTimeout: { resolveWith: { code: null } }, pattern: "(\\d+)", since: T0, remindBefore: [60] }), T0),
    );
    expect(state.steps.at(-1)!.input).toEqual({
      type: "otp",
      inboxId: INBOX,
      timeoutSeconds: 600,
      on_timeout: { resolve_with: { code: null } },
      pattern: "(\\d+)",
      since: new Date(T0).toISOString(),
      remind_before: [60],
    });
  });
});

describe("the due moment", () => {
  /** A random run: waits with and without options, messages, ticks, a finish, the clock moving by random steps. */
  const command = fc.oneof(
    fc
      .record({
        timeout: fc.integer({ min: 1, max: 3600 }),
        remind: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 4000 }), { maxLength: 4 }), { nil: undefined }),
        resolve: fc.boolean(),
        pattern: fc.constantFrom(undefined, "(\\d{6})", "PIN (\\d{4})"),
        since: fc.option(fc.integer({ min: -600, max: 600 }), { nil: undefined }),
      })
      .map((p) => ({ kind: "wait" as const, ...p })),
    fc.constantFrom("Your code: 482913", "PIN 4321", "hello").map((body) => ({ kind: "message" as const, body })),
    fc.constant({ kind: "tick" as const }),
    fc.constant({ kind: "complete" as const }),
  );

  it("makes settle write at least one event whenever dueAt has come, and none before it", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ dt: fc.integer({ min: 0, max: 1200 * SECOND }), command }), { maxLength: 30 }), (steps) => {
        let state: Workflow = start;
        let now = T0;
        for (const step of steps) {
          now += step.dt;
          const c = step.command;
          const cmd: WorkflowCommand =
            c.kind === "wait"
              ? wait({
                  timeoutSeconds: c.timeout,
                  ...(c.remind ? { remindBefore: c.remind } : {}),
                  ...(c.resolve ? { onTimeout: { resolveWith: "fallback" } } : {}),
                  ...(c.pattern ? { pattern: c.pattern } : {}),
                  ...(c.since !== undefined ? { since: Math.max(0, now + c.since * SECOND) } : {}),
                })
              : c.kind === "message"
                ? message("Message", c.body)
                : { type: c.kind };
          const result = machine.transition(state, cmd, now);
          if (result.ok) state = result.state;
          const due = machine.dueAt(state);
          if (due !== null) {
            expect(machine.settle(state, due - 1).events).toEqual([]);
            const settled = machine.settle(state, due);
            expect(settled.events.length).toBeGreaterThan(0);
            // Settling again at the same moment has nothing left to say, and the next due moment is later.
            expect(machine.settle(settled.state, due).events).toEqual([]);
            const next = machine.dueAt(settled.state);
            if (next !== null) expect(next).toBeGreaterThan(due);
          }
          // Each wait sends each reminder at most once over the whole run, and none after it ended.
          const all = machine.settle(state, now + 48 * HOUR);
          for (const w of state.waits as Wait[]) {
            const reminders = all.events.filter((e) => e.type === "wait.expiring" && e.payload.waitId === w.id);
            if (w.status !== "pending") expect(reminders).toEqual([]);
            expect(reminders.length).toBeLessThanOrEqual(w.reminders?.length ?? 0);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
