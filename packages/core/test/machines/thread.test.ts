import { describe, expect, it } from "vitest";
import {
  type ClosingThread,
  createThread,
  defaultBillablePolicy,
  InvalidInputError,
  iso,
  type MergedContext,
  mergeContextVariables,
  type PendingActionCommand,
  type Thread,
  type ThreadCommand,
  threadKind,
  threadMachine,
} from "../../src/index.js";
import { accepted, deepFreeze, expectOutcome, HOUR, MINUTE, newId, noop, ok, refusal, refused, SECOND, T0, tableRows } from "./helpers.js";

const machine = threadMachine;
const ORG = newId("org");

function newThread(metadata: Record<string, unknown> = {}): Thread {
  return ok(createThread({ id: newId("thread"), orgId: ORG, metadata }, T0));
}

/** The merged variables; fails the test on a refusal. */
function merged(current: Record<string, unknown>, patch: Record<string, unknown>): MergedContext {
  const result = mergeContextVariables(current, patch);
  if (result instanceof InvalidInputError) throw new Error(`expected a merge, got ${result.message}`);
  return result;
}

/** Why a merge was refused; fails the test when it was not. */
function mergeRefusal(current: Record<string, unknown>, patch: Record<string, unknown>): InvalidInputError {
  const result = mergeContextVariables(current, patch);
  if (!(result instanceof InvalidInputError)) throw new Error("expected the merge to be refused");
  return result;
}

function propose(actionId: string, expiresAt: number, tool = "refund"): ThreadCommand {
  return { type: "proposeAction", actionId, tool, preview: { amount: 20 }, expiresAt };
}

function act(actionId: string, command: PendingActionCommand): ThreadCommand {
  return { type: "action", actionId, command };
}

describe("thread transition table", () => {
  const ACTION = newId("act");
  // Active: one pending action that expires at T0 + 30 min.
  const active = ok(machine.transition(newThread(), propose(ACTION, T0 + 30 * MINUTE), T0));
  const closed = ok(machine.transition(active, { type: "close" }, T0 + 5 * MINUTE));
  const states: Record<Thread["status"], Thread> = deepFreeze({ active, closed });

  const commands = {
    updateContext: { type: "updateContext", variables: { USER_PLAN: "pro" } },
    "updateContext (bad key)": { type: "updateContext", variables: { userPlan: "pro" } },
    close: { type: "close" },
    proposeAction: propose(newId("act"), T0 + 3 * HOUR),
    "proposeAction (id taken)": propose(ACTION, T0 + 3 * HOUR),
    "proposeAction (deadline passed)": propose(newId("act"), T0),
    "action (unknown id)": act(newId("act"), { type: "confirm", callbackId: newId("cb") }),
    "action confirm": act(ACTION, { type: "confirm", callbackId: newId("cb") }),
    "action cancel": act(ACTION, { type: "cancel" }),
    tick: { type: "tick" },
  } satisfies Record<string, ThreadCommand>;

  const closedRow = {
    updateContext: refused("illegal_transition"),
    "updateContext (bad key)": refused("illegal_transition"),
    close: noop,
    proposeAction: refused("illegal_transition"),
    "proposeAction (id taken)": refused("illegal_transition"),
    "proposeAction (deadline passed)": refused("illegal_transition"),
    "action (unknown id)": refused("not_found"),
    "action confirm": refused("illegal_transition"),
    "action cancel": noop,
    tick: noop,
  };

  const beforeDeadline = tableRows(
    {
      active: {
        updateContext: accepted("active", "context.updated"),
        "updateContext (bad key)": refused("invalid_input"),
        close: accepted("closed", "action.cancelled", "session.closed"),
        proposeAction: accepted("active", "action.proposed"),
        "proposeAction (id taken)": refused("conflict"),
        "proposeAction (deadline passed)": refused("invalid_input"),
        "action (unknown id)": refused("not_found"),
        "action confirm": accepted("active", "action.confirmed"),
        "action cancel": accepted("active", "action.cancelled"),
        tick: noop,
      },
      closed: closedRow,
    },
    commands,
    " (10 min in)",
  );

  // Two hours in, the pending action expired at T0 + 30 min and is settled first.
  const afterDeadline = tableRows(
    {
      active: {
        updateContext: accepted("active", "action.cancelled", "context.updated"),
        "updateContext (bad key)": refused("invalid_input"),
        close: accepted("closed", "action.cancelled", "session.closed"),
        proposeAction: accepted("active", "action.cancelled", "action.proposed"),
        "proposeAction (id taken)": refused("conflict"),
        "proposeAction (deadline passed)": refused("invalid_input"),
        "action (unknown id)": refused("not_found"),
        "action confirm": refused("expired"),
        "action cancel": accepted("active", "action.cancelled"),
        tick: accepted("active", "action.cancelled"),
      },
      closed: closedRow,
    },
    commands,
    " (2 h in, the pending action expired)",
  );

  it("covers every (status, command) pair on both sides of the action's deadline", () => {
    expect(beforeDeadline).toHaveLength(2 * 10);
    expect(afterDeadline).toHaveLength(2 * 10);
  });

  it.each(beforeDeadline)("%s", (_title, status, _name, command, expected) => {
    const state = states[status as Thread["status"]];
    expect(machine.status(state)).toBe(status);
    expectOutcome(machine.transition(state, command, T0 + 10 * MINUTE), state, machine.status, expected);
  });

  it.each(afterDeadline)("%s", (_title, status, _name, command, expected) => {
    const state = states[status as Thread["status"]];
    expectOutcome(machine.transition(state, command, T0 + 2 * HOUR), state, machine.status, expected);
  });
});

describe("mergeContextVariables", () => {
  const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`VAR_${i}`, i]));

  it.each(["userPlan", "user_plan", "USER-PLAN", "_USER", "USER_", "USER__PLAN", "1USER", "USER PLAN", ""])(
    "refuses the key %j naming it and the rule",
    (key) => {
      const error = mergeRefusal({}, { [key]: "pro" });
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toBe(`contextVariables.${key}: keys must be UPPERCASE_SNAKE_CASE`);
    },
  );

  it('words the rule exactly as "contextVariables.userPlan: keys must be UPPERCASE_SNAKE_CASE"', () => {
    expect(mergeRefusal({}, { userPlan: "pro" }).message).toBe("contextVariables.userPlan: keys must be UPPERCASE_SNAKE_CASE");
  });

  it.each(["USER_PLAN", "A", "A1_B2", "X9"])("accepts the key %j", (key) => {
    expect(merged({}, { [key]: 1 }).variables).toEqual({ [key]: 1 });
  });

  it("merges into the current variables, removes keys set to null, and reports what it set and removed", () => {
    const current = deepFreeze({ USER_PLAN: "free", LOCALE: "de", TEMP: 1 });
    const result = merged(current, { USER_PLAN: "pro", TEMP: null, GONE: null, NEW_KEY: { a: [1] } });
    expect(result).toEqual({
      variables: { USER_PLAN: "pro", LOCALE: "de", NEW_KEY: { a: [1] } },
      set: ["USER_PLAN", "NEW_KEY"],
      removed: ["TEMP"],
    });
    expect(current).toEqual({ USER_PLAN: "free", LOCALE: "de", TEMP: 1 });
  });

  it("accepts exactly 20 variables and refuses a 21st", () => {
    expect(threadKind.limits.contextVariables).toBe(20);
    expect(Object.keys(merged({}, twenty).variables)).toHaveLength(20);
    const error = mergeRefusal(twenty, { ONE_MORE: true });
    expect(error.field).toBe("contextVariables");
    expect(error.message).toBe("contextVariables: at most 20 variables after the update (this update would leave 21)");
  });

  it("counts variables after the update: replacing or removing one makes room", () => {
    expect(Object.keys(merged(twenty, { VAR_0: "changed" }).variables)).toHaveLength(20);
    const swapped = merged(twenty, { VAR_0: null, ONE_MORE: true }).variables;
    expect(Object.keys(swapped)).toHaveLength(20);
    expect(swapped).toHaveProperty("ONE_MORE", true);
  });

  it("accepts exactly 4096 bytes of JSON and refuses one byte more", () => {
    expect(threadKind.limits.contextVariablesBytes).toBe(4096);
    // {"BIG":"…"} is 10 bytes around the value.
    const atLimit = { BIG: "x".repeat(4086) };
    expect(new TextEncoder().encode(JSON.stringify(atLimit)).length).toBe(4096);
    expect(merged({}, atLimit).variables).toEqual(atLimit);
    const error = mergeRefusal({}, { BIG: "x".repeat(4087) });
    expect(error.message).toBe("contextVariables: at most 4096 bytes of JSON after the update (this update would leave 4097)");
  });

  it("counts UTF-8 bytes, not characters", () => {
    expect(merged({}, { BIG: "é".repeat(2043) }).variables.BIG).toHaveLength(2043); // 4086 bytes + 10
    expect(mergeRefusal({}, { BIG: "é".repeat(2044) }).code).toBe("invalid_input");
  });

  it("judges the size of the merged result, not of the patch", () => {
    const current = { BIG: "x".repeat(4000) };
    expect(mergeRefusal(current, { SMALL: "y".repeat(100) }).code).toBe("invalid_input");
    expect(merged(current, { BIG: null, SMALL: "y".repeat(100) }).variables).toEqual({ SMALL: "y".repeat(100) });
  });
});

describe("thread context updates", () => {
  it("creates a thread with its initial context checked by the same rules", () => {
    const id = newId("thread");
    const created = createThread({ id, orgId: ORG, contextVariables: { USER_PLAN: "pro", NOTHING: null } }, T0);
    const state = ok(created);
    const events = created.ok ? created.events : [];
    expect(state).toMatchObject({ id, orgId: ORG, status: "active", contextVariables: { USER_PLAN: "pro" }, actions: [] });
    expect(events).toEqual([{ type: "session.created", at: T0, payload: { thread_id: id } }]);
    expect(refusal(createThread({ id, orgId: ORG, contextVariables: { userPlan: 1 } }, T0)).code).toBe("invalid_input");
  });

  it("emits context.updated with the keys set and removed", () => {
    const thread = ok(machine.transition(newThread(), { type: "updateContext", variables: { A: 1, B: 2 } }, T0 + SECOND));
    const result = machine.transition(thread, { type: "updateContext", variables: { A: null, C: 3 } }, T0 + 2 * SECOND);
    expect(ok(result).contextVariables).toEqual({ B: 2, C: 3 });
    expect(result.ok && result.events).toEqual([
      { type: "context.updated", at: T0 + 2 * SECOND, payload: { thread_id: thread.id, set: ["C"], removed: ["A"] } },
    ]);
  });

  it("refuses an update that breaks a rule with the rule's message", () => {
    const error = refusal(machine.transition(newThread(), { type: "updateContext", variables: { userPlan: "pro" } }, T0));
    expect(error.message).toBe("contextVariables.userPlan: keys must be UPPERCASE_SNAKE_CASE");
  });
});

describe("closing a thread", () => {
  const close = (thread: Thread, now: number, policy?: (t: ClosingThread) => boolean) =>
    machine.transition(thread, policy ? { type: "close", policy } : { type: "close" }, now);

  it("computes duration_seconds, rounding down, and bills by default from one minute on", () => {
    const thread = deepFreeze(newThread());
    const short = close(thread, T0 + 59_999);
    expect(ok(short)).toMatchObject({ status: "closed", closedAt: T0 + 59_999, durationSeconds: 59, billable: false });
    expect(short.ok && short.events).toEqual([
      {
        type: "session.closed",
        at: T0 + 59_999,
        payload: { thread_id: thread.id, closed_at: iso(T0 + 59_999), duration_seconds: 59, billable: false },
      },
    ]);
    expect(ok(close(thread, T0 + MINUTE))).toMatchObject({ durationSeconds: 60, billable: true });
  });

  it("bills a short thread by default once an action was confirmed", () => {
    const ACTION = newId("act");
    let thread = ok(machine.transition(newThread(), propose(ACTION, T0 + HOUR), T0));
    thread = ok(machine.transition(thread, act(ACTION, { type: "confirm", callbackId: newId("cb") }), T0 + SECOND));
    expect(ok(close(thread, T0 + 10 * SECOND))).toMatchObject({ durationSeconds: 10, billable: true });
    expect(defaultBillablePolicy({ id: "t", orgId: "o", durationSeconds: 10, actionsConfirmed: 0, metadata: {} })).toBe(false);
  });

  it("asks a custom policy with what it needs to know and records its answer", () => {
    const ACTION = newId("act");
    let thread = ok(machine.transition(newThread({ plan: "enterprise" }), propose(ACTION, T0 + HOUR), T0));
    thread = ok(machine.transition(thread, act(ACTION, { type: "confirm", callbackId: newId("cb") }), T0 + SECOND));
    const seen: ClosingThread[] = [];
    const policy = (closing: ClosingThread) => {
      seen.push(closing);
      return closing.metadata.plan !== "enterprise";
    };
    const result = close(thread, T0 + 2 * HOUR, policy);
    expect(seen).toEqual([{ id: thread.id, orgId: ORG, durationSeconds: 7200, actionsConfirmed: 1, metadata: { plan: "enterprise" } }]);
    expect(ok(result).billable).toBe(false);
    expect(result.ok && result.events.at(-1)?.payload).toMatchObject({ duration_seconds: 7200, billable: false });
  });

  it("cancels pending actions with reason thread_closed and leaves processing ones as they are", () => {
    const PENDING = newId("act");
    const PROCESSING = newId("act");
    let thread = ok(machine.transition(newThread(), propose(PENDING, T0 + HOUR), T0));
    thread = ok(machine.transition(thread, propose(PROCESSING, T0 + HOUR, "charge"), T0));
    thread = deepFreeze(ok(machine.transition(thread, act(PROCESSING, { type: "confirm", callbackId: newId("cb") }), T0 + SECOND)));
    const result = close(thread, T0 + 2 * MINUTE);
    const closed = ok(result);
    expect(closed.actions[0]).toMatchObject({
      id: PENDING,
      status: "cancelled",
      cancelReason: "thread_closed",
      decidedAt: T0 + 2 * MINUTE,
      completedAt: T0 + 2 * MINUTE,
    });
    expect(closed.actions[1]).toBe(thread.actions[1]);
    expect(result.ok && result.events.map((event) => [event.type, event.payload.action_id, event.payload.cancel_reason])).toEqual([
      ["action.cancelled", PENDING, "thread_closed"],
      ["session.closed", undefined, undefined],
    ]);
    // The executor may still report the processing action's outcome after the thread closed.
    const done = ok(machine.transition(closed, act(PROCESSING, { type: "succeed", result: null }), T0 + 3 * MINUTE));
    expect(done.actions[1]?.status).toBe("succeeded");
  });

  it("cancels an action whose deadline passed before the close as expired, at its deadline", () => {
    const ACTION = newId("act");
    const thread = ok(machine.transition(newThread(), propose(ACTION, T0 + MINUTE), T0));
    const result = close(thread, T0 + HOUR);
    expect(result.ok && result.events.map((event) => [event.type, event.at, event.payload.cancel_reason])).toEqual([
      ["action.cancelled", T0 + MINUTE, "expired"],
      ["session.closed", T0 + HOUR, undefined],
    ]);
    expect(ok(result).actions[0]?.cancelReason).toBe("expired");
  });

  it("treats a second close as a no-op, even with another policy", () => {
    const closed = deepFreeze(ok(close(newThread(), T0 + 2 * MINUTE)));
    const again = close(closed, T0 + HOUR, () => false);
    expect(again.ok && again.state).toBe(closed);
    expect(closed.billable).toBe(true);
  });
});

describe("thread actions and their deadlines", () => {
  const ACTION = newId("act");
  const thread = deepFreeze(ok(machine.transition(newThread(), propose(ACTION, T0 + 10 * MINUTE), T0)));

  it("proposes an action with an action.proposed event", () => {
    expect(thread.actions).toHaveLength(1);
    expect(thread.actions[0]).toMatchObject({ id: ACTION, tool: "refund", status: "pending", expiresAt: T0 + 10 * MINUTE });
  });

  it("refuses a deadline that is not in the future, naming expiresIn", () => {
    const error = refusal(machine.transition(thread, propose(newId("act"), T0 + MINUTE), T0 + MINUTE));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe("expiresIn");
  });

  it("refuses an action past threadKind.limits.actions as a conflict", () => {
    const full: Thread = {
      ...thread,
      actions: Array.from({ length: threadKind.limits.actions }, () => ({ ...thread.actions[0]!, id: newId("act") })),
    };
    const error = refusal(machine.transition(full, propose(newId("act"), T0 + HOUR), T0 + SECOND));
    expect(error.code).toBe("conflict");
    const almost: Thread = { ...full, actions: full.actions.slice(1) };
    expect(ok(machine.transition(almost, propose(newId("act"), T0 + HOUR), T0 + SECOND)).actions).toHaveLength(threadKind.limits.actions);
  });

  it("answers not_found for an action id the thread does not hold", () => {
    const unknown = newId("act");
    const error = refusal(machine.transition(thread, act(unknown, { type: "cancel" }), T0 + SECOND));
    expect(error.code).toBe("not_found");
    expect(error.message).toBe(`Action ${unknown} not found`);
  });

  it("is due at the earliest pending action's deadline", () => {
    const two = ok(machine.transition(thread, propose(newId("act"), T0 + 5 * MINUTE), T0 + SECOND));
    expect(machine.dueAt(two)).toBe(T0 + 5 * MINUTE);
    expect(machine.dueAt(newThread())).toBeNull();
    const confirmed = ok(machine.transition(thread, act(ACTION, { type: "confirm", callbackId: newId("cb") }), T0 + SECOND));
    expect(machine.dueAt(confirmed)).toBeNull();
  });

  it("expires an action at its expiresAt and refuses a confirm from then on as expired", () => {
    expect(machine.settle(thread, T0 + 10 * MINUTE - 1).state).toBe(thread);
    const settled = machine.settle(thread, T0 + 10 * MINUTE);
    expect(settled.state.actions[0]).toMatchObject({ status: "cancelled", cancelReason: "expired", decidedAt: T0 + 10 * MINUTE });
    expect(settled.events).toEqual([
      {
        type: "action.cancelled",
        at: T0 + 10 * MINUTE,
        payload: {
          thread_id: thread.id,
          action_id: ACTION,
          tool: "refund",
          cancel_reason: "expired",
          reason: null,
          decided_at: iso(T0 + 10 * MINUTE),
          decided_by: "expiry",
          decided_via: "expiry",
        },
      },
    ]);
    expect(settled.state.updatedAt).toBe(T0 + 10 * MINUTE);
    const confirm = act(ACTION, { type: "confirm", callbackId: newId("cb") });
    expect(ok(machine.transition(thread, confirm, T0 + 10 * MINUTE - 1)).actions[0]?.status).toBe("processing");
    expect(refusal(machine.transition(thread, confirm, T0 + 10 * MINUTE)).code).toBe("expired");
    expect(refusal(machine.transition(settled.state, confirm, T0 + HOUR)).code).toBe("expired");
  });

  it("settles several expired actions in deadline order", () => {
    const LATER = ACTION;
    const EARLIER = newId("act");
    const two = ok(machine.transition(thread, propose(EARLIER, T0 + 5 * MINUTE), T0 + SECOND));
    const settled = machine.settle(two, T0 + HOUR);
    expect(settled.events.map((event) => [event.payload.action_id, event.at])).toEqual([
      [EARLIER, T0 + 5 * MINUTE],
      [LATER, T0 + 10 * MINUTE],
    ]);
  });
});

describe("the effects a thread's transition asks for", () => {
  const ACTION = newId("act");
  const EARLY = newId("act");
  // Two pending actions: EARLY's deadline passes at T0 + 1 min, ACTION's at T0 + 1 h.
  const thread = deepFreeze(
    ok(machine.transition(ok(machine.transition(newThread(), propose(ACTION, T0 + HOUR, "send_email"), T0)), propose(EARLY, T0 + MINUTE), T0)),
  );
  const confirm = (execute: boolean): ThreadCommand => act(ACTION, { type: "confirm", callbackId: "cb_0190e1b0000070008000000000000001", execute });

  it("asks for the executor's run in the outbox when the engine executes a confirmed action", () => {
    const result = machine.transition(thread, confirm(true), T0 + SECOND);
    expect(result.ok && result.effects).toEqual({
      outbox: [
        {
          id: "obx_0190e1b0000070008000000000000001",
          orgId: ORG,
          topic: "action",
          payload: { thread_id: thread.id, action_id: ACTION, callback_id: "cb_0190e1b0000070008000000000000001" },
          availableAt: T0 + SECOND,
        },
      ],
    });
  });

  it("keeps the run when the same transition first cancels another action whose deadline passed", () => {
    const result = machine.transition(thread, confirm(true), T0 + 2 * MINUTE);
    expect(result.ok && result.events.map((event) => event.type)).toEqual(["action.cancelled", "action.confirmed"]);
    expect(result.ok && result.effects?.outbox?.map((message) => message.payload.action_id)).toEqual([ACTION]);
  });

  it("asks for nothing when the caller completes actions itself, or for a confirmation repeated", () => {
    expect("effects" in machine.transition(thread, confirm(false), T0 + SECOND)).toBe(false);
    const confirmed = ok(machine.transition(thread, confirm(true), T0 + SECOND));
    const again = machine.transition(confirmed, confirm(true), T0 + 2 * SECOND);
    expect(again.ok && again.state).toBe(confirmed);
    expect("effects" in again).toBe(false);
    expect("effects" in machine.transition(thread, act(ACTION, { type: "cancel" }), T0 + SECOND)).toBe(false);
  });
});
