import { describe, expect, it } from "vitest";
import {
  createThread,
  iso,
  type PendingAction,
  type PendingActionCommand,
  proposeAction,
  settleAction,
  type Thread,
  threadMachine,
  transitionAction,
} from "../../src/index.js";
import { accepted, deepFreeze, expectOutcome, HOUR, MINUTE, newId, noop, type Outcome, ok, refusal, refused, T0, tableRows } from "./helpers.js";

type Label = "pending" | "processing" | "succeeded" | "failed" | "cancelled-by-person" | "cancelled-by-expiry" | "cancelled-by-thread-close";

const REASON_LABEL = {
  person: "cancelled-by-person",
  expired: "cancelled-by-expiry",
  denied: "denied-by-expiry",
  thread_closed: "cancelled-by-thread-close",
} as const;

/** The status of an action, with a cancelled one told apart by why it was cancelled. */
function label(action: PendingAction): string {
  return action.status === "cancelled" ? REASON_LABEL[action.cancelReason!] : action.status;
}

const ACT = newId("act");
const CALLBACK = newId("cb");
const DEADLINE = T0 + 30 * MINUTE;

// Every fixture is reached through the thread machine, the way the engine reaches it.
const created = ok(createThread({ id: newId("thread"), orgId: newId("org") }, T0));
const propose = { type: "proposeAction", actionId: ACT, tool: "send_email", preview: { to: "ada@example.com" }, expiresAt: DEADLINE } as const;
const inThread = (command: PendingActionCommand) => ({ type: "action", actionId: ACT, command }) as const;
const withPending = ok(threadMachine.transition(created, propose, T0));
const withProcessing = ok(threadMachine.transition(withPending, inThread({ type: "confirm", callbackId: CALLBACK }), T0 + MINUTE));
const threads: Record<Label, Thread> = deepFreeze({
  pending: withPending,
  processing: withProcessing,
  succeeded: ok(threadMachine.transition(withProcessing, inThread({ type: "succeed", result: { messageId: "m-1" } }), T0 + 2 * MINUTE)),
  failed: ok(threadMachine.transition(withProcessing, inThread({ type: "fail", error: "SMTP 550" }), T0 + 2 * MINUTE)),
  "cancelled-by-person": ok(threadMachine.transition(withPending, inThread({ type: "cancel" }), T0 + MINUTE)),
  "cancelled-by-expiry": threadMachine.settle(withPending, DEADLINE).state,
  "cancelled-by-thread-close": ok(threadMachine.transition(withPending, { type: "close" }, T0 + 5 * MINUTE)),
});
const actionOf = (thread: Thread): PendingAction => thread.actions[0]!;

const commands = {
  confirm: { type: "confirm", callbackId: newId("cb") },
  cancel: { type: "cancel" },
  succeed: { type: "succeed", result: { ok: true } },
  attemptFailed: { type: "attemptFailed", error: "connection reset" },
  fail: { type: "fail", error: "gave up" },
  start: { type: "start" },
} satisfies Record<string, PendingActionCommand>;

const illegalAfterCancel: Record<keyof typeof commands, Outcome> = {
  confirm: refused("illegal_transition"),
  cancel: noop,
  succeed: refused("illegal_transition"),
  attemptFailed: refused("illegal_transition"),
  fail: refused("illegal_transition"),
  start: refused("illegal_transition"),
};

const matrix: Record<Label, Record<keyof typeof commands, Outcome>> = {
  pending: {
    confirm: accepted("processing", "action.confirmed"),
    cancel: accepted("cancelled-by-person", "action.cancelled"),
    succeed: refused("illegal_transition"),
    attemptFailed: refused("illegal_transition"),
    fail: refused("illegal_transition"),
    start: refused("illegal_transition"),
  },
  processing: {
    confirm: noop,
    cancel: refused("illegal_transition"),
    succeed: accepted("succeeded", "action.succeeded"),
    attemptFailed: accepted("processing", "action.attempt_failed"),
    fail: accepted("failed", "action.failed"),
    start: accepted("processing"),
  },
  succeeded: {
    confirm: noop,
    cancel: refused("illegal_transition"),
    succeed: noop,
    attemptFailed: refused("illegal_transition"),
    fail: refused("illegal_transition"),
    start: refused("illegal_transition"),
  },
  failed: {
    confirm: noop,
    cancel: refused("illegal_transition"),
    succeed: refused("illegal_transition"),
    attemptFailed: refused("illegal_transition"),
    fail: noop,
    start: refused("illegal_transition"),
  },
  "cancelled-by-person": illegalAfterCancel,
  "cancelled-by-expiry": {
    confirm: refused("expired"),
    cancel: noop,
    succeed: refused("expired"),
    attemptFailed: refused("expired"),
    fail: refused("expired"),
    start: refused("expired"),
  },
  "cancelled-by-thread-close": illegalAfterCancel,
};

describe("pending action transition table (transitionAction)", () => {
  const rows = tableRows(matrix, commands, " (10 min in)");

  it("covers every (status, command) pair", () => {
    expect(rows).toHaveLength(7 * 6);
    expect(Object.keys(threads).map((key) => label(actionOf(threads[key as Label])))).toEqual(Object.keys(threads));
  });

  it.each(rows)("%s", (_title, status, _name, command, expected) => {
    const action = actionOf(threads[status as Label]);
    expectOutcome(transitionAction(created.id, action, command, T0 + 10 * MINUTE), action, label, expected);
  });
});

describe("pending action transition table (through the thread machine)", () => {
  const threadLabel = (thread: Thread) => label(actionOf(thread));
  const beforeDeadline = tableRows(matrix, commands, " (10 min in)");
  // Past the deadline the thread settles first: a pending action is cancelled as expired.
  const afterDeadline = tableRows(
    {
      ...matrix,
      pending: {
        confirm: refused("expired"),
        cancel: accepted("cancelled-by-expiry", "action.cancelled"),
        succeed: refused("expired"),
        attemptFailed: refused("expired"),
        fail: refused("expired"),
        start: refused("expired"),
      },
    },
    commands,
    " (1 h in, past the deadline)",
  );

  it.each(beforeDeadline)("%s", (_title, status, _name, command, expected) => {
    const thread = threads[status as Label];
    expectOutcome(threadMachine.transition(thread, inThread(command), T0 + 10 * MINUTE), thread, threadLabel, expected);
  });

  it.each(afterDeadline)("%s", (_title, status, _name, command, expected) => {
    const thread = threads[status as Label];
    expectOutcome(threadMachine.transition(thread, inThread(command), T0 + HOUR), thread, threadLabel, expected);
  });
});

describe("pending action lifecycle", () => {
  const pending = actionOf(threads.pending);
  const processing = actionOf(threads.processing);

  it("is proposed in pending with an action.proposed event", () => {
    const { action, events } = proposeAction("thread_x", { id: ACT, tool: "send_email", preview: { a: 1 }, expiresAt: DEADLINE }, T0);
    expect(action).toMatchObject({ status: "pending", createdAt: T0, expiresAt: DEADLINE, callbackId: null, attempts: 0 });
    expect(events).toEqual([
      { type: "action.proposed", at: T0, payload: { thread_id: "thread_x", action_id: ACT, tool: "send_email", expires_at: iso(DEADLINE) } },
    ]);
  });

  it("records the callback id and decision time on confirm", () => {
    const result = transitionAction("thread_x", pending, { type: "confirm", callbackId: CALLBACK }, T0 + MINUTE);
    expect(ok(result)).toMatchObject({ status: "processing", callbackId: CALLBACK, decidedAt: T0 + MINUTE });
    expect(result.ok && result.events[0]?.payload).toEqual({
      thread_id: "thread_x",
      action_id: ACT,
      tool: "send_email",
      callback_id: CALLBACK,
      decided_at: iso(T0 + MINUTE),
      decided_by: null,
      decided_via: null,
      args_changed: false,
    });
  });

  it("keeps the first callback id when a confirm is repeated", () => {
    const again = transitionAction("thread_x", processing, { type: "confirm", callbackId: newId("cb") }, T0 + 2 * MINUTE);
    expect(ok(again)).toBe(processing);
    expect(processing.callbackId).toBe(CALLBACK);
  });

  it("counts failed attempts while processing, then the final outcome", () => {
    const retried = ok(transitionAction("thread_x", processing, { type: "attemptFailed", error: "timeout" }, T0 + 2 * MINUTE));
    expect(retried).toMatchObject({ status: "processing", attempts: 1, error: "timeout", completedAt: null });
    const result = transitionAction("thread_x", retried, { type: "succeed", result: { id: 7 } }, T0 + 3 * MINUTE);
    expect(ok(result)).toMatchObject({ status: "succeeded", attempts: 2, result: { id: 7 }, error: null, completedAt: T0 + 3 * MINUTE });
    expect(result.ok && result.events[0]?.payload).toEqual({
      thread_id: "thread_x",
      action_id: ACT,
      tool: "send_email",
      callback_id: CALLBACK,
      attempts: 2,
      result: { id: 7 },
    });
    const failed = transitionAction("thread_x", retried, { type: "fail", error: "bounced" }, T0 + 3 * MINUTE);
    expect(ok(failed)).toMatchObject({ status: "failed", attempts: 2, error: "bounced", result: null });
    expect(failed.ok && failed.events[0]?.payload).toMatchObject({ attempts: 2, error: "bounced" });
  });

  it("is cancelled by a person with reason person, or with the reason given", () => {
    const byPerson = transitionAction("thread_x", pending, { type: "cancel" }, T0 + MINUTE);
    expect(ok(byPerson)).toMatchObject({ status: "cancelled", cancelReason: "person", decidedAt: T0 + MINUTE, completedAt: T0 + MINUTE });
    expect(byPerson.ok && byPerson.events[0]?.payload).toEqual({
      thread_id: "thread_x",
      action_id: ACT,
      tool: "send_email",
      cancel_reason: "person",
      reason: null,
      decided_at: iso(T0 + MINUTE),
      decided_by: null,
      decided_via: null,
    });
    const decider = { by: "org_x/ops", via: "api" } as const;
    const withReason = transitionAction("thread_x", pending, { type: "cancel", text: "wrong recipient", decider }, T0 + MINUTE);
    expect(ok(withReason)).toMatchObject({ reason: "wrong recipient", decidedBy: "org_x/ops", decidedVia: "api" });
    expect(withReason.ok && withReason.events[0]?.payload).toMatchObject({ reason: "wrong recipient", decided_by: "org_x/ops", decided_via: "api" });
    expect(ok(transitionAction("thread_x", pending, { type: "cancel", reason: "thread_closed" }, T0)).cancelReason).toBe("thread_closed");
  });

  it("expires at exactly expiresAt, cancelled with reason expired and stamped with the deadline", () => {
    expect(settleAction("thread_x", pending, DEADLINE - 1)).toEqual({ action: pending, events: [] });
    const settled = settleAction("thread_x", pending, DEADLINE + HOUR);
    expect(settled.action).toMatchObject({ status: "cancelled", cancelReason: "expired", decidedAt: DEADLINE, completedAt: DEADLINE });
    expect(settled.events).toEqual([
      {
        type: "action.cancelled",
        at: DEADLINE,
        payload: {
          thread_id: "thread_x",
          action_id: ACT,
          tool: "send_email",
          cancel_reason: "expired",
          reason: null,
          decided_at: iso(DEADLINE),
          decided_by: "expiry",
          decided_via: "expiry",
        },
      },
    ]);
  });

  it("never expires an action that is no longer pending", () => {
    for (const thread of [threads.processing, threads.succeeded, threads["cancelled-by-person"]]) {
      expect(settleAction("thread_x", actionOf(thread), DEADLINE + HOUR).events).toEqual([]);
    }
  });

  it("explains why a cancelled action refuses a confirm", () => {
    const confirm = { type: "confirm", callbackId: CALLBACK } as const;
    expect(refusal(transitionAction("t", actionOf(threads["cancelled-by-expiry"]), confirm, DEADLINE)).message).toBe(
      `action ${ACT} expired at ${iso(DEADLINE)}`,
    );
    expect(refusal(transitionAction("t", actionOf(threads["cancelled-by-thread-close"]), confirm, DEADLINE)).message).toBe(
      `cannot confirm action ${ACT}: it is cancelled when its thread closed`,
    );
  });
});
