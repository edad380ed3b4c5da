import { describe, expect, it } from "vitest";
import { accept, defineMachine, type OutboxMessage } from "../src/index.js";

// A counter whose deadline adds an event when time passes it, and whose `bump` asks for an outbox message.
type Counter = { count: number; dueAt: number | null };
const message: OutboxMessage = { id: "obx_1", orgId: "org_1", topic: "t", payload: {}, availableAt: 5 };
const counter = defineMachine<Counter, "bump">({
  settle: (state, now) =>
    state.dueAt !== null && now >= state.dueAt
      ? { state: { ...state, dueAt: null }, events: [{ type: "counter.due", at: state.dueAt, payload: {} }] }
      : { state, events: [] },
  apply: (state, _command, now) =>
    accept({ ...state, count: state.count + 1 }, [{ type: "counter.bumped", at: now, payload: {} }], { outbox: [message] }),
  dueAt: (state) => state.dueAt,
  status: () => "active",
  timeChangesStatus: false,
});

describe("defineMachine", () => {
  it("returns a command's effects as data, also when settling came first and added events", () => {
    for (const dueAt of [null, 3]) {
      const result = counter.transition({ count: 0, dueAt }, "bump", 5);
      expect(result).toMatchObject({ ok: true, state: { count: 1, dueAt: null }, effects: { outbox: [message] } });
      expect(result.ok && result.events.map((event) => event.type)).toEqual(dueAt === null ? ["counter.bumped"] : ["counter.due", "counter.bumped"]);
    }
  });

  it("leaves `effects` out of a transition that asks for none", () => {
    expect("effects" in accept({ count: 0 })).toBe(false);
  });
});
