import { describe, expect, it } from "vitest";
import { createThread, type PendingActionCommand, type Thread, threadMachine } from "../../src/index.js";
import { deepFreeze, MINUTE, newId, ok, refusal, SECOND, T0 } from "./helpers.js";

/**
 * Human decisions (issue 18) on the thread machine: edited arguments, a reason with a no, who
 * decided and how, review links with approvers and a quorum, what the deadline does, reminders.
 */

const ACT = newId("act");
const DEADLINE = T0 + 30 * MINUTE;
const HASH = { link: "a".repeat(64), ana: "b".repeat(64), ben: "c".repeat(64), cy: "d".repeat(64) };
const SCHEMA = {
  type: "object",
  properties: { to: { type: "string", format: "email" }, amount: { type: "integer", maximum: 500 } },
  required: ["to"],
  additionalProperties: false,
};

const machine = threadMachine;
const created = ok(createThread({ id: newId("thread"), orgId: newId("org") }, T0));
const api = { by: "org_x/ops", via: "api" } as const;
const inThread = (command: PendingActionCommand, actionId = ACT) => ({ type: "action", actionId, command }) as const;

function proposed(options: Record<string, unknown> = {}): Thread {
  const command = {
    type: "proposeAction",
    actionId: ACT,
    tool: "refund",
    preview: { summary: "Refund order 42" },
    expiresAt: DEADLINE,
    args: { to: "ada@example.com", amount: 20 },
    argsSchema: SCHEMA,
    reviewers: [{ approver: null, hash: HASH.link }],
    ...options,
  } as const;
  return deepFreeze(ok(machine.transition(created, command as never, T0)));
}

const withApprovers = (required: number) =>
  proposed({
    approvers: ["ana", "ben", "cy"],
    approvalsRequired: required,
    reviewers: [
      { approver: null, hash: HASH.link },
      { approver: "ana", hash: HASH.ana },
      { approver: "ben", hash: HASH.ben },
      { approver: "cy", hash: HASH.cy },
    ],
  });

const review = (hash: string, approve: boolean, extra: { args?: unknown; text?: string } = {}) =>
  inThread({ type: "review", hash, approve, callbackId: newId("cb"), execute: true, ...extra });

describe("edit before run", () => {
  it("runs the edited arguments and keeps the proposed ones", () => {
    const result = machine.transition(
      proposed(),
      inThread({ type: "confirm", callbackId: newId("cb"), args: { to: "bo@example.com", amount: 25 }, decider: api }),
      T0 + MINUTE,
    );
    const action = ok(result).actions[0]!;
    expect(action).toMatchObject({
      status: "processing",
      args: { to: "bo@example.com", amount: 25 },
      originalArgs: { to: "ada@example.com", amount: 20 },
    });
    expect(result.ok && result.events.at(-1)?.payload).toMatchObject({ args_changed: true, decided_by: "org_x/ops", decided_via: "api" });
  });

  it("counts arguments equal to the proposed ones, keys in another order, as unchanged", () => {
    const action = ok(
      machine.transition(
        proposed(),
        inThread({ type: "confirm", callbackId: newId("cb"), args: { amount: 20, to: "ada@example.com" } }),
        T0 + MINUTE,
      ),
    ).actions[0]!;
    expect(action.originalArgs).toBeUndefined();
  });

  it("refuses edited arguments the schema refuses, naming the path, and leaves the action pending", () => {
    const thread = proposed();
    const result = machine.transition(
      thread,
      inThread({ type: "confirm", callbackId: newId("cb"), args: { to: "ada@example.com", amount: 900 } }),
      T0 + MINUTE,
    );
    expect(refusal(result)).toMatchObject({ code: "invalid_input", field: "args.amount" });
    expect(thread.actions[0]!.status).toBe("pending");
  });
});

describe("a reason with a no, and who decided", () => {
  it("keeps the reason and the decider on the action and in action.cancelled", () => {
    const result = machine.transition(proposed(), inThread({ type: "cancel", text: "wrong recipient", decider: api }), T0 + MINUTE);
    expect(ok(result).actions[0]).toMatchObject({
      status: "cancelled",
      cancelReason: "person",
      reason: "wrong recipient",
      decidedBy: "org_x/ops",
      decidedVia: "api",
      decidedAt: T0 + MINUTE,
    });
    expect(result.ok && result.events[0]?.payload).toMatchObject({ reason: "wrong recipient", cancel_reason: "person", decided_by: "org_x/ops" });
  });
});

describe("what the deadline does", () => {
  it("cancels by default, recorded as decided by expiry", () => {
    const settled = machine.settle(proposed(), DEADLINE);
    expect(settled.state.actions[0]).toMatchObject({ status: "cancelled", cancelReason: "expired", decidedBy: "expiry", decidedVia: "expiry" });
  });

  it("denies with on_expire deny, and refuses a later decision as expired", () => {
    const thread = proposed({ onExpire: "deny" });
    const settled = machine.settle(thread, DEADLINE + SECOND);
    expect(settled.state.actions[0]).toMatchObject({
      status: "cancelled",
      cancelReason: "denied",
      decidedBy: "expiry",
      decidedVia: "expiry",
      decidedAt: DEADLINE,
    });
    expect(settled.events[0]?.payload).toMatchObject({ cancel_reason: "denied", decided_via: "expiry" });
    expect(refusal(machine.transition(thread, review(HASH.link, true), DEADLINE)).code).toBe("expired");
  });
});

describe("review links", () => {
  it("decides on the action's own link when no approvers are named, once", () => {
    const approved = ok(machine.transition(proposed(), review(HASH.link, true), T0 + MINUTE));
    expect(approved.actions[0]).toMatchObject({ status: "processing", decidedBy: "link", decidedVia: "link" });
    expect(refusal(machine.transition(approved, review(HASH.link, true), T0 + 2 * MINUTE)).code).toBe("illegal_transition");
  });

  it("asks the executor's run once, in the write that confirms", () => {
    const result = machine.transition(proposed(), review(HASH.link, true), T0 + MINUTE);
    expect(result.ok && result.effects?.outbox).toHaveLength(1);
  });

  it("knows no link whose hash it does not keep", () => {
    expect(refusal(machine.transition(proposed(), review("e".repeat(64), true), T0 + MINUTE)).code).toBe("not_found");
  });

  it("confirms with a quorum of two once two distinct approvers approved, recording each approval", () => {
    const first = machine.transition(withApprovers(2), review(HASH.ana, true), T0 + MINUTE);
    expect(ok(first).actions[0]).toMatchObject({ status: "pending", approvals: [{ approver: "ana", at: T0 + MINUTE }] });
    expect(first.ok && first.events.map((event) => event.type)).toEqual(["action.approved_by"]);
    expect(first.ok && first.effects).toBeUndefined();
    expect(refusal(machine.transition(ok(first), review(HASH.ana, true), T0 + 2 * MINUTE)).code).toBe("conflict");
    const second = machine.transition(ok(first), review(HASH.ben, true), T0 + 2 * MINUTE);
    expect(ok(second).actions[0]).toMatchObject({ status: "processing", decidedBy: "ben", decidedVia: "link" });
    expect(second.ok && second.events.map((event) => event.type)).toEqual(["action.approved_by", "action.confirmed"]);
    expect(second.ok && second.effects?.outbox).toHaveLength(1);
  });

  it("cancels on any approver's deny with their reason", () => {
    const first = ok(machine.transition(withApprovers(2), review(HASH.ana, true), T0 + MINUTE));
    const denied = ok(machine.transition(first, review(HASH.cy, false, { text: "not today" }), T0 + 2 * MINUTE));
    expect(denied.actions[0]).toMatchObject({ status: "cancelled", reason: "not today", decidedBy: "cy", decidedVia: "link" });
  });

  it("starts the count again when an approval changes the arguments", () => {
    const first = ok(machine.transition(withApprovers(2), review(HASH.ana, true), T0 + MINUTE));
    const edited = ok(machine.transition(first, review(HASH.ben, true, { args: { to: "ada@example.com", amount: 10 } }), T0 + 2 * MINUTE));
    expect(edited.actions[0]).toMatchObject({
      status: "pending",
      approvals: [{ approver: "ben" }],
      args: { amount: 10 },
      originalArgs: { amount: 20 },
    });
    const done = ok(machine.transition(edited, review(HASH.ana, true), T0 + 3 * MINUTE));
    expect(done.actions[0]).toMatchObject({ status: "processing", args: { amount: 10 } });
  });

  it("lets the action's own link only show an action whose approvers decide", () => {
    expect(refusal(machine.transition(withApprovers(1), review(HASH.link, true), T0 + MINUTE)).code).toBe("conflict");
  });
});

describe("reminders", () => {
  it("sends each reminder once, at its moment, and none after a decision", () => {
    const thread = proposed({ remindBefore: [600, 60], reminders: undefined });
    expect(machine.dueAt(thread)).toBe(DEADLINE - 600 * SECOND);
    const first = machine.settle(thread, DEADLINE - 600 * SECOND);
    expect(first.events.map((event) => [event.type, event.at, event.payload.remind_before])).toEqual([
      ["action.expiring", DEADLINE - 600 * SECOND, 600],
    ]);
    expect(machine.settle(first.state, DEADLINE - 600 * SECOND).events).toEqual([]);
    expect(machine.dueAt(first.state)).toBe(DEADLINE - 60 * SECOND);
    const decided = ok(machine.transition(first.state, inThread({ type: "confirm", callbackId: newId("cb") }), DEADLINE - 100 * SECOND));
    expect(machine.dueAt(decided)).toBeNull();
    expect(machine.settle(decided, DEADLINE - 30 * SECOND).events).toEqual([]);
  });

  it("sends no reminder once the deadline passed: the action is cancelled instead", () => {
    const settled = machine.settle(proposed({ remindBefore: [600, 60] }), DEADLINE + MINUTE);
    expect(settled.events.map((event) => event.type)).toEqual(["action.cancelled"]);
  });

  it("skips a reminder whose moment was already past when proposed", () => {
    const thread = proposed({ remindBefore: [3600, 60] });
    expect(thread.actions[0]!.reminders).toEqual([DEADLINE - 60 * SECOND]);
  });

  it("keeps the due index honest: whenever a thread is due, settling it writes an event", () => {
    let thread = proposed({ remindBefore: [900, 600, 60] });
    for (let at = T0; at <= DEADLINE + MINUTE; at += 10 * SECOND) {
      const due = machine.dueAt(thread);
      const settled = machine.settle(thread, at);
      if (due !== null && due <= at) expect(settled.events.length).toBeGreaterThan(0);
      thread = settled.state;
    }
  });
});
