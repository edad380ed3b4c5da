import { describe, expect, it } from "vitest";
import {
  createWorkflow,
  type Inbox,
  type Message,
  type Step,
  type Wait,
  type Workflow,
  type WorkflowCommand,
  workflowKind,
  workflowMachine,
} from "../../src/index.js";
import { accepted, deepFreeze, expectOutcome, HOUR, MINUTE, newId, noop, ok, refusal, refused, SECOND, T0, tableRows } from "./helpers.js";

const machine = workflowMachine;
const ORG = newId("org");

function newWorkflow(): Workflow {
  return createWorkflow({ id: newId("sess"), orgId: ORG, name: "signup" }, T0).state;
}

function withInbox(state: Workflow, inboxId: string, ttlSeconds = 3600, now = T0): Workflow {
  return ok(machine.transition(state, { type: "createInbox", inboxId, ttlSeconds }, now));
}

describe("a new workflow session", () => {
  it("starts with shared frozen empty lists, and a transition gives it lists of its own", () => {
    const [a, b] = [newWorkflow(), newWorkflow()];
    expect(a.inboxes).toBe(b.inboxes);
    expect(Object.isFrozen(a.inboxes) && Object.isFrozen(a.steps) && Object.isFrozen(a.metadata)).toBe(true);
    const next = withInbox(a, newId("inb"));
    expect(next.inboxes).toHaveLength(1);
    expect(a.inboxes).toHaveLength(0);
    expect(b.inboxes).toHaveLength(0);
  });
});

function message(inboxId: string, subject: string, body = "", messageId = newId("msg")): WorkflowCommand {
  return { type: "receiveMessage", messageId, inboxId, from: "noreply@example.com", subject, body };
}

function wait(inboxId: string, waitType: "otp" | "message", timeoutSeconds = 600, waitId = newId("wait")): WorkflowCommand {
  return { type: "createWait", waitId, waitType, inboxId, timeoutSeconds };
}

function eventTypes(result: ReturnType<typeof machine.transition>): string[] {
  return result.ok ? result.events.map((event) => event.type) : [];
}

describe("workflow transition table", () => {
  const INBOX = newId("inb");
  // Active: one inbox (expires T0 + 1 h) and one pending message wait (times out T0 + 31 min).
  const active = ok(machine.transition(withInbox(newWorkflow(), INBOX), wait(INBOX, "message", 1800), T0 + MINUTE));
  const completed = ok(machine.transition(active, { type: "complete" }, T0 + 2 * MINUTE));
  const failed = ok(machine.transition(active, { type: "fail", message: "captcha" }, T0 + 2 * MINUTE));
  const states: Record<Workflow["status"], Workflow> = deepFreeze({ active, completed, failed });

  const commands = {
    createInbox: { type: "createInbox", inboxId: newId("inb"), ttlSeconds: 600 },
    receiveMessage: message(INBOX, "Hello", "hi"),
    "receiveMessage (unknown inbox)": message(newId("inb"), "Hello", "hi"),
    "createWait (otp)": wait(INBOX, "otp", 300),
    "createWait (unknown inbox)": wait(newId("inb"), "otp", 300),
    recordStep: { type: "recordStep", action: "open_page", durationMs: 120 },
    "recordStep (critical error)": {
      type: "recordStep",
      action: "solve_captcha",
      durationMs: 80,
      error: { message: "captcha unsolvable", critical: true },
    },
    complete: { type: "complete" },
    fail: { type: "fail", message: "gave up" },
    tick: { type: "tick" },
  } satisfies Record<string, WorkflowCommand>;

  const terminal = (status: "completed" | "failed") => ({
    createInbox: refused("illegal_transition"),
    receiveMessage: refused("illegal_transition"),
    "receiveMessage (unknown inbox)": refused("illegal_transition"),
    "createWait (otp)": refused("illegal_transition"),
    "createWait (unknown inbox)": refused("illegal_transition"),
    recordStep: refused("illegal_transition"),
    "recordStep (critical error)": refused("illegal_transition"),
    complete: status === "completed" ? noop : refused("illegal_transition"),
    fail: status === "failed" ? noop : refused("illegal_transition"),
    tick: noop,
  });

  const beforeDeadlines = tableRows(
    {
      active: {
        createInbox: accepted("active", "inbox.created"),
        receiveMessage: accepted("active", "message.received", "wait.completed"),
        "receiveMessage (unknown inbox)": refused("invalid_input"),
        "createWait (otp)": accepted("active", "wait.created"),
        "createWait (unknown inbox)": refused("invalid_input"),
        recordStep: accepted("active", "step.recorded"),
        "recordStep (critical error)": accepted("failed", "step.recorded", "session.failed", "wait.cancelled"),
        complete: accepted("completed", "session.completed", "wait.cancelled"),
        fail: accepted("failed", "session.failed", "wait.cancelled"),
        tick: noop,
      },
      completed: terminal("completed"),
      failed: terminal("failed"),
    },
    commands,
    " (10 min in)",
  );

  // Two hours in, the pending wait has timed out (settled first) and the inbox has expired.
  const afterDeadlines = tableRows(
    {
      active: {
        createInbox: accepted("active", "wait.timed_out", "inbox.created"),
        receiveMessage: refused("expired"),
        "receiveMessage (unknown inbox)": refused("invalid_input"),
        "createWait (otp)": accepted("active", "wait.timed_out", "wait.created"),
        "createWait (unknown inbox)": refused("invalid_input"),
        recordStep: accepted("active", "wait.timed_out", "step.recorded"),
        "recordStep (critical error)": accepted("failed", "wait.timed_out", "step.recorded", "session.failed"),
        complete: accepted("completed", "wait.timed_out", "session.completed"),
        fail: accepted("failed", "wait.timed_out", "session.failed"),
        tick: accepted("active", "wait.timed_out"),
      },
      // Their wait was cancelled when they finished: no deadline is left to pass.
      completed: terminal("completed"),
      failed: terminal("failed"),
    },
    commands,
    " (2 h in, wait timed out, inbox expired)",
  );

  it("covers every (status, command) pair on both sides of the deadlines", () => {
    expect(beforeDeadlines).toHaveLength(3 * 10);
    expect(afterDeadlines).toHaveLength(3 * 10);
  });

  it.each(beforeDeadlines)("%s", (_title, status, _name, command, expected) => {
    const state = states[status as Workflow["status"]];
    expect(machine.status(state)).toBe(status);
    expectOutcome(machine.transition(state, command, T0 + 10 * MINUTE), state, machine.status, expected);
  });

  it.each(afterDeadlines)("%s", (_title, status, _name, command, expected) => {
    const state = states[status as Workflow["status"]];
    expectOutcome(machine.transition(state, command, T0 + 2 * HOUR), state, machine.status, expected);
  });
});

describe("workflow waits and messages", () => {
  const INBOX = newId("inb");
  const start = deepFreeze(withInbox(newWorkflow(), INBOX));

  it("cancels pending waits when the session finishes, and leaves ended waits alone", () => {
    const INBOX = newId("inb");
    let state = withInbox(newWorkflow(), INBOX);
    state = ok(machine.transition(state, wait(INBOX, "otp", 60, "wait_done"), T0 + SECOND));
    state = ok(machine.transition(state, message(INBOX, "Code", "Your code: 482913"), T0 + 2 * SECOND));
    state = ok(machine.transition(state, wait(INBOX, "otp", 600, "wait_open"), T0 + 3 * SECOND));
    const result = machine.transition(state, { type: "complete" }, T0 + 4 * SECOND);
    expect(eventTypes(result)).toEqual(["session.completed", "wait.cancelled"]);
    const done = ok(result);
    expect(done.waits.map((w) => [w.id, w.status, w.completedAt])).toEqual([
      ["wait_done", "completed", T0 + 2 * SECOND],
      ["wait_open", "cancelled", T0 + 4 * SECOND],
    ]);
    expect(machine.dueAt(done)).toBeNull();
    expect(eventTypes(machine.transition(done, { type: "tick" }, T0 + 2 * HOUR))).toEqual([]);
  });

  it("completes a wait with a message that arrived before the wait was created", () => {
    const MSG = newId("msg");
    const WAIT = newId("wait");
    const received = ok(machine.transition(start, message(INBOX, "Welcome", "Hello Ada", MSG), T0 + SECOND));
    expect(received.messages[0]?.consumedBy).toBeNull();
    const result = machine.transition(received, wait(INBOX, "message", 600, WAIT), T0 + 2 * SECOND);
    expect(eventTypes(result)).toEqual(["wait.created", "wait.completed"]);
    const next = ok(result);
    expect(next.waits[0]).toMatchObject({
      id: WAIT,
      status: "completed",
      completedAt: T0 + 2 * SECOND,
      result: { messageId: MSG, from: "noreply@example.com", subject: "Welcome", body: "Hello Ada", code: null },
    });
    expect(next.messages[0]?.consumedBy).toBe(WAIT);
  });

  it("does not hand an earlier message that already completed a wait to a second wait", () => {
    let state = ok(machine.transition(start, message(INBOX, "Welcome"), T0 + SECOND));
    state = ok(machine.transition(state, wait(INBOX, "message"), T0 + 2 * SECOND));
    const result = machine.transition(state, wait(INBOX, "message"), T0 + 3 * SECOND);
    expect(eventTypes(result)).toEqual(["wait.created"]);
    expect(ok(result).waits[1]?.status).toBe("pending");
  });

  it("lets an otp wait ignore messages without a code and take the code of the next one", () => {
    const WAIT = newId("wait");
    let state = ok(machine.transition(start, wait(INBOX, "otp", 600, WAIT), T0 + SECOND));
    const plain = machine.transition(state, message(INBOX, "Welcome aboard", "Thanks for signing up"), T0 + 2 * SECOND);
    expect(eventTypes(plain)).toEqual(["message.received"]);
    state = ok(plain);
    expect(state.waits[0]?.status).toBe("pending");
    expect(state.messages[0]?.otp).toBeNull();
    const MSG = newId("msg");
    const coded = machine.transition(state, message(INBOX, "Sign-in", "Your verification code is 482913.", MSG), T0 + 3 * SECOND);
    expect(eventTypes(coded)).toEqual(["message.received", "wait.completed"]);
    expect(coded.ok && coded.events[1]?.payload).toEqual({ waitId: WAIT, messageId: MSG });
    expect(ok(coded).waits[0]).toMatchObject({ status: "completed", result: { messageId: MSG, code: "482913" } });
  });

  it("matches an otp wait created late with the oldest earlier message that holds a code", () => {
    let state = ok(machine.transition(start, message(INBOX, "Welcome", "no code here"), T0 + SECOND));
    const CODED = newId("msg");
    state = ok(machine.transition(state, message(INBOX, "Code", "Your code: 7781", CODED), T0 + 2 * SECOND));
    state = ok(machine.transition(state, message(INBOX, "Code again", "Your code: 9999"), T0 + 3 * SECOND));
    const next = ok(machine.transition(state, wait(INBOX, "otp"), T0 + 4 * SECOND));
    expect(next.waits[0]?.result).toMatchObject({ messageId: CODED, code: "7781" });
    expect(next.messages.map((m) => m.consumedBy !== null)).toEqual([false, true, false]);
  });

  it("lets a message wait take any message, with no code even when the message holds one", () => {
    const state = ok(machine.transition(start, wait(INBOX, "message"), T0 + SECOND));
    const next = ok(machine.transition(state, message(INBOX, "Your code is 123456"), T0 + 2 * SECOND));
    expect(next.waits[0]).toMatchObject({ status: "completed", result: { subject: "Your code is 123456", code: null } });
    expect(next.messages[0]?.otp).toBe("123456");
  });

  it("matches the oldest pending wait first", () => {
    const FIRST = newId("wait");
    const SECOND_WAIT = newId("wait");
    let state = ok(machine.transition(start, wait(INBOX, "message", 600, FIRST), T0 + SECOND));
    state = ok(machine.transition(state, wait(INBOX, "message", 600, SECOND_WAIT), T0 + 2 * SECOND));
    const M1 = newId("msg");
    const M2 = newId("msg");
    state = ok(machine.transition(state, message(INBOX, "one", "", M1), T0 + 3 * SECOND));
    expect(state.waits.map((w) => [w.id, w.status])).toEqual([
      [FIRST, "completed"],
      [SECOND_WAIT, "pending"],
    ]);
    state = ok(machine.transition(state, message(INBOX, "two", "", M2), T0 + 4 * SECOND));
    expect(state.waits.map((w) => (w.timedOut ? null : w.result?.messageId))).toEqual([M1, M2]);
  });

  it("only matches waits on the inbox the message arrived in", () => {
    const OTHER = newId("inb");
    let state = withInbox(start, OTHER, 3600, T0 + SECOND);
    state = ok(machine.transition(state, wait(OTHER, "message"), T0 + 2 * SECOND));
    const result = machine.transition(state, message(INBOX, "not yours"), T0 + 3 * SECOND);
    expect(eventTypes(result)).toEqual(["message.received"]);
    expect(ok(result).waits[0]?.status).toBe("pending");
  });

  it("times a wait out at its expiresAt with one wait.timed_out stamped at the deadline", () => {
    const WAIT = newId("wait");
    const state = deepFreeze(ok(machine.transition(start, wait(INBOX, "otp", 300, WAIT), T0 + MINUTE)));
    const deadline = T0 + MINUTE + 300 * SECOND;
    expect(machine.dueAt(state)).toBe(deadline);
    expect(machine.settle(state, deadline - 1).state).toBe(state);
    const settled = machine.settle(state, deadline + HOUR);
    expect(settled.events).toEqual([{ type: "wait.timed_out", at: deadline, payload: { waitId: WAIT } }]);
    expect(settled.state.waits[0]).toMatchObject({ status: "timed_out", completedAt: deadline, result: null });
    expect(settled.state.updatedAt).toBe(deadline);
    expect(machine.dueAt(settled.state)).toBeNull();
    expect(machine.settle(settled.state, deadline + 2 * HOUR).events).toEqual([]);
  });

  it("times several waits out in deadline order and reports the earliest pending one as due", () => {
    const LONG = newId("wait");
    const SHORT = newId("wait");
    let state = ok(machine.transition(start, wait(INBOX, "message", 600, LONG), T0 + SECOND));
    state = ok(machine.transition(state, wait(INBOX, "message", 300, SHORT), T0 + 2 * SECOND));
    expect(machine.dueAt(state)).toBe(T0 + 2 * SECOND + 300 * SECOND);
    const result = machine.transition(state, { type: "tick" }, T0 + HOUR);
    expect(result.ok && result.events.map((event) => [event.type, event.payload.waitId, event.at])).toEqual([
      ["wait.timed_out", SHORT, T0 + 302 * SECOND],
      ["wait.timed_out", LONG, T0 + 601 * SECOND],
    ]);
  });

  it("does not complete a timed-out wait with a message that arrives after its deadline", () => {
    const state = ok(machine.transition(start, wait(INBOX, "message", 60), T0 + SECOND));
    const result = machine.transition(state, message(INBOX, "too late"), T0 + 2 * MINUTE);
    expect(eventTypes(result)).toEqual(["wait.timed_out", "message.received"]);
    const next = ok(result);
    expect(next.waits[0]?.status).toBe("timed_out");
    expect(next.messages[0]?.consumedBy).toBeNull();
  });

  it("refuses a message to an expired inbox as expired, and accepts it one millisecond earlier", () => {
    const deadline = T0 + HOUR;
    expect(ok(machine.transition(start, message(INBOX, "just in time"), deadline - 1)).messages).toHaveLength(1);
    const error = refusal(machine.transition(start, message(INBOX, "late"), deadline));
    expect(error.code).toBe("expired");
    expect(error.message).toContain(INBOX);
  });

  it("refuses a message or a wait for an inbox the session does not have, naming inboxId", () => {
    const stranger = newId("inb");
    for (const command of [message(stranger, "hi"), wait(stranger, "otp")]) {
      const error = refusal(machine.transition(start, command, T0 + SECOND));
      expect(error.code).toBe("invalid_input");
      expect(error.message).toBe(`inboxId: no inbox ${stranger} in session ${start.id}`);
    }
  });

  it("records inbox and wait creation as replayable steps, timed from the command's startedAt", () => {
    const WAIT = newId("wait");
    const command: WorkflowCommand = {
      type: "createWait",
      waitId: WAIT,
      waitType: "otp",
      inboxId: INBOX,
      timeoutSeconds: 90,
      startedAt: T0 + SECOND - 12,
    };
    const state = ok(machine.transition(start, command, T0 + SECOND));
    expect(state.steps).toEqual([
      { index: 0, at: T0, action: "create_inbox", input: { ttlSeconds: 3600 }, output: { id: INBOX }, durationMs: 0, error: null },
      {
        index: 1,
        at: T0 + SECOND,
        action: "create_wait",
        input: { type: "otp", inboxId: INBOX, timeoutSeconds: 90 },
        output: { id: WAIT },
        durationMs: 12,
        error: null,
      },
    ]);
    expect(state.inboxes[0]).toEqual({ id: INBOX, ttlSeconds: 3600, createdAt: T0, expiresAt: T0 + HOUR });
  });

  it("asks for a new inbox's and a new wait's id as an alias of the session, and for nothing else", () => {
    const [NEW_INBOX, WAIT] = [newId("inb"), newId("wait")];
    const effects = (command: WorkflowCommand) => {
      const result = machine.transition(start, command, T0 + SECOND);
      return result.ok ? result.effects : "refused";
    };
    expect(effects({ type: "createInbox", inboxId: NEW_INBOX, ttlSeconds: 60 })).toEqual({ aliases: [NEW_INBOX] });
    expect(effects(wait(INBOX, "otp", 90, WAIT))).toEqual({ aliases: [WAIT] });
    expect(effects(message(INBOX, "hi"))).toBeUndefined();
    expect(effects({ type: "recordStep", action: "fetch_page", durationMs: 1 })).toBeUndefined();
    expect(effects({ type: "complete" })).toBeUndefined();
    expect(effects(wait(newId("inb"), "otp"))).toBe("refused");
  });
});

describe("workflow steps, completion and failure", () => {
  const start = deepFreeze(newWorkflow());

  it("creates a workflow in active with a session.created event", () => {
    const created = createWorkflow({ id: start.id, orgId: ORG, name: "signup", metadata: { plan: "pro" } }, T0);
    expect(created.state).toMatchObject({ status: "active", orgId: ORG, name: "signup", metadata: { plan: "pro" } });
    expect(created.events).toEqual([{ type: "session.created", at: T0, payload: { sessionId: start.id } }]);
  });

  it("moves to failed with session.failed when a recorded step has a critical error", () => {
    const recorded = ok(machine.transition(start, { type: "recordStep", action: "load", durationMs: 5 }, T0 + SECOND));
    const result = machine.transition(
      recorded,
      { type: "recordStep", action: "pay", input: { amount: 5 }, durationMs: 40, error: { message: "card declined", critical: true } },
      T0 + 2 * SECOND,
    );
    const next = ok(result);
    expect(next).toMatchObject({ status: "failed", failedAt: T0 + 2 * SECOND, failure: { message: "card declined", step: 1 } });
    expect(next.steps[1]).toEqual({
      index: 1,
      at: T0 + 2 * SECOND,
      action: "pay",
      input: { amount: 5 },
      output: null,
      durationMs: 40,
      error: { message: "card declined", critical: true },
    });
    expect(result.ok && result.events).toEqual([
      { type: "step.recorded", at: T0 + 2 * SECOND, payload: { sessionId: start.id, index: 1, action: "pay" } },
      { type: "session.failed", at: T0 + 2 * SECOND, payload: { sessionId: start.id, reason: "card declined", step: 1 } },
    ]);
  });

  it("stays active after a step with a non-critical error", () => {
    const next = ok(machine.transition(start, { type: "recordStep", action: "retry", durationMs: 3, error: { message: "timeout" } }, T0 + SECOND));
    expect(next.status).toBe("active");
    expect(next.steps[0]?.error).toEqual({ message: "timeout", critical: false });
  });

  it("records completion and failure with their times and reason", () => {
    const completed = machine.transition(start, { type: "complete" }, T0 + MINUTE);
    expect(ok(completed)).toMatchObject({ status: "completed", completedAt: T0 + MINUTE, failedAt: null });
    expect(completed.ok && completed.events).toEqual([{ type: "session.completed", at: T0 + MINUTE, payload: { sessionId: start.id } }]);
    const failed = machine.transition(start, { type: "fail", message: "gave up" }, T0 + MINUTE);
    expect(ok(failed)).toMatchObject({ status: "failed", failedAt: T0 + MINUTE, failure: { message: "gave up", step: null } });
    expect(failed.ok && failed.events[0]?.payload).toEqual({ sessionId: start.id, reason: "gave up" });
  });

  it("treats a repeated fail as a no-op even with another reason, keeping the first reason", () => {
    const failed = ok(machine.transition(start, { type: "fail", message: "first" }, T0 + MINUTE));
    const again = machine.transition(failed, { type: "fail", message: "second" }, T0 + 2 * MINUTE);
    expect(again.ok && again.state).toBe(failed);
    expect(failed.failure?.message).toBe("first");
  });
});

describe("workflow limits", () => {
  const INBOX = newId("inb");
  const start = withInbox(newWorkflow(), INBOX, 24 * 3600);
  const inbox = (): Inbox => ({ id: newId("inb"), ttlSeconds: 60, createdAt: T0, expiresAt: T0 + MINUTE });
  const doneWait = (): Wait => ({
    id: newId("wait"),
    type: "message",
    inboxId: INBOX,
    timeoutSeconds: 60,
    createdAt: T0,
    expiresAt: T0 + MINUTE,
    status: "timed_out",
    result: null,
    completedAt: T0 + MINUTE,
  });
  const oldMessage = (): Message => ({
    id: newId("msg"),
    inboxId: INBOX,
    from: "a@example.com",
    subject: "s",
    body: "b",
    receivedAt: T0,
    otp: null,
    consumedBy: "wait_00000000000000000000000000000000",
  });
  const oldStep = (index: number): Step => ({ index, at: T0, action: "x", input: null, output: null, durationMs: 0, error: null });

  const cases = [
    {
      what: "inboxes",
      fill: (n: number): Workflow => ({ ...start, inboxes: [start.inboxes[0]!, ...Array.from({ length: n - 1 }, inbox)] }),
      command: (): WorkflowCommand => ({ type: "createInbox", inboxId: newId("inb"), ttlSeconds: 60 }),
    },
    {
      what: "waits",
      fill: (n: number): Workflow => ({ ...start, waits: Array.from({ length: n }, doneWait) }),
      command: (): WorkflowCommand => wait(INBOX, "otp"),
    },
    {
      what: "messages",
      fill: (n: number): Workflow => ({ ...start, messages: Array.from({ length: n }, oldMessage) }),
      command: (): WorkflowCommand => message(INBOX, "hello"),
    },
    {
      what: "steps",
      fill: (n: number): Workflow => ({ ...start, steps: Array.from({ length: n }, (_, i) => oldStep(i)) }),
      command: (): WorkflowCommand => ({ type: "recordStep", action: "one more", durationMs: 1 }),
    },
  ] as const;

  it.each(cases.map((limitCase) => [limitCase.what, limitCase] as const))(
    "refuses a command past workflowKind.limits.%s as a conflict, and accepts the last one that fits",
    (_what, { what, fill, command }) => {
      const limit = workflowKind.limits[what];
      const full = fill(limit);
      expect(full[what]).toHaveLength(limit);
      const error = refusal(machine.transition(full, command(), T0 + SECOND));
      expect(error.code).toBe("conflict");
      expect(error.message).toContain(`${limit} ${what}`);
      expect(ok(machine.transition(fill(limit - 1), command(), T0 + SECOND))[what]).toHaveLength(limit);
    },
  );
});
