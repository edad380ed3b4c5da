import type { Engine } from "../engine/engine.js";
import type { Store } from "../store.js";
import { race, T0 } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

/** What the decision races read of the concurrency suite's set-up, each test afresh. */
export interface DecisionRaceContext {
  readonly store: () => Store;
  readonly engine: () => Engine;
  /** The engine that serves call `index`: calls spread over engines sharing one store. */
  readonly via: (index: number) => Engine;
  readonly engines: () => readonly Engine[];
  readonly org: () => string;
  /** Moves the engines' clock to `ms`. */
  readonly setNow: (ms: number) => void;
}

/**
 * Human decisions under concurrent callers on one store (issue 18): 50 posts on one review link
 * make one decision; a quorum of two with a third approver denying at the same moment ends in
 * exactly one outcome; an action's reminders are each written once when three engines' workers
 * tick at the same moment. Review links find their action by id alone, so those races need
 * `capabilities.unscopedReads` (`itByIdAlone` skips them otherwise).
 */
export function describeDecisionRaces(
  test: TestRunner,
  context: DecisionRaceContext,
  itByIdAlone: (title: string, body: () => Promise<void>) => void,
): void {
  const { describe, it, expect } = test;
  const preview = { to: "ada@example.com" };

  describe("human decisions", () => {
    itByIdAlone("records one decision of 50 concurrent posts on one review link, and queues its run once", async () => {
      const engine = context.engine();
      const org = context.org();
      const thread = await engine.threads.create(org);
      const action = await engine.threads.proposeAction(org, thread.id, { tool: "send_email", preview, args: { to: "ada@example.com" } });
      const token = action.reviewTokens.link;
      const outcomes = await race(50, (index) =>
        context.via(index).threads.reviewDecide(token, { approve: true, args: { to: `person${index}@example.com` } }),
      );
      const won = outcomes.flatMap((outcome, index) => (outcome.ok ? [index] : []));
      expect(won).toHaveLength(1);
      for (const outcome of outcomes) if (!outcome.ok) expect(["illegal_transition", "conflict"]).toContain(outcome.code);
      const decided = (await engine.timeline(org, thread.id)).filter(
        (event) => event.type === "action.confirmed" || event.type === "action.cancelled",
      );
      expect(decided.map((event) => event.type)).toEqual(["action.confirmed"]);
      const after = await engine.threads.getAction(org, thread.id, action.id);
      expect(after).toMatchObject({ status: "processing", decidedVia: "link", decidedBy: "link", args: { to: `person${won[0]}@example.com` } });
      expect(after.originalArgs).toEqual({ to: "ada@example.com" });
      const runs = await context.store().claimOutbox({ now: T0, limit: 10, leaseMs: 60_000, owner: "test", topic: "action" });
      expect(runs).toHaveLength(1);
    });

    itByIdAlone("ends a quorum of two with a third approver denying at the same moment in exactly one outcome", async () => {
      const engine = context.engine();
      const org = context.org();
      const thread = await engine.threads.create(org);
      const approvers = ["ana@example.com", "ben@example.com", "cy@example.com"];
      const seen = new Set<string>();
      // Ten rounds, each a fresh action whose three links are posted at once, in turn orders that differ.
      for (let round = 0; round < 10; round++) {
        const action = await engine.threads.proposeAction(org, thread.id, { tool: "send_email", preview, approvers, approvalsRequired: 2 });
        const tokens = approvers.map((approver) => action.reviewTokens.approvers[approver]!);
        const order = [0, 1, 2].map((offset) => (offset + round) % 3);
        const outcomes = await race(3, (index) => {
          const who = order[index]!;
          const decision = who === 2 ? { approve: false, reason: "not this one" } : { approve: true };
          return context.via(index + round).threads.reviewDecide(tokens[who]!, decision);
        });
        const events = (await engine.timeline(org, thread.id)).filter((event) => event.payload.action_id === action.id);
        const endings = events.filter((event) => event.type === "action.confirmed" || event.type === "action.cancelled");
        expect(endings).toHaveLength(1);
        const after = await engine.threads.getAction(org, thread.id, action.id);
        const denied = outcomes[order.indexOf(2)]!;
        if (endings[0]!.type === "action.confirmed") {
          // Both approvals counted before the deny, which found the action decided.
          expect(after).toMatchObject({ status: "processing", decidedVia: "link" });
          expect(after.approvals?.map((approval) => approval.approver).sort()).toEqual(["ana@example.com", "ben@example.com"]);
          expect(denied).toMatchObject({ ok: false });
          seen.add("confirmed");
        } else {
          expect(after).toMatchObject({ status: "cancelled", decidedBy: "cy@example.com", reason: "not this one" });
          expect(denied.ok).toBe(true);
          expect((after.approvals?.length ?? 0) < 2).toBe(true);
          seen.add("cancelled");
        }
        const approvedEvents = events.filter((event) => event.type === "action.approved_by");
        expect(approvedEvents.length).toBe(after.approvals?.length ?? 0);
      }
      expect(seen.size).toBeGreaterThan(0);
    });

    it("writes each reminder of an action once when three engines' workers tick at the same moment", async () => {
      const engine = context.engine();
      const org = context.org();
      const thread = await engine.threads.create(org);
      const action = await engine.threads.proposeAction(org, thread.id, { tool: "send_email", preview, expiresIn: 3600, remindBefore: [600, 60] });
      const expiring = async () => (await engine.timeline(org, thread.id)).filter((event) => event.type === "action.expiring");
      const tickAll = (at: number) => Promise.all(context.engines().map((each) => each.tick(at)));
      context.setNow(T0 + 3000 * 1000 + 1);
      await tickAll(T0 + 3000 * 1000 + 1);
      await tickAll(T0 + 3000 * 1000 + 1);
      expect((await expiring()).map((event) => event.payload.remind_before)).toEqual([600]);
      context.setNow(T0 + 3540 * 1000);
      await Promise.all([tickAll(T0 + 3540 * 1000), tickAll(T0 + 3540 * 1000)]);
      expect((await expiring()).map((event) => event.payload.remind_before)).toEqual([600, 60]);
      // Past the deadline: the action is cancelled once, and no reminder follows.
      context.setNow(T0 + 3600 * 1000);
      await tickAll(T0 + 3600 * 1000);
      expect(await expiring()).toHaveLength(2);
      const cancelled = (await engine.timeline(org, thread.id)).filter((event) => event.type === "action.cancelled");
      expect(cancelled).toHaveLength(1);
      expect(await engine.threads.getAction(org, thread.id, action.id)).toMatchObject({ status: "cancelled", decidedBy: "expiry" });
    });
  });
}
