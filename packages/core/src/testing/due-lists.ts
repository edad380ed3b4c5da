import type { SuiteContext } from "./failed-writes.js";
import { next, orgId, seed, T0 } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

/**
 * `listDue`: the ids of one organization's records of one kind whose deadline is at or before a
 * moment, earliest first and bounded, whether a claimer leased them or not, following every write
 * that moves or clears a deadline and naming each record once.
 */
export function describeListDue(test: TestRunner, context: () => SuiteContext): void {
  const { describe, it, expect } = test;
  describe("due ids of one organization and kind", () => {
    it("lists the deadlines at or before now, earliest first, up to the limit", async () => {
      const { store, org } = context();
      const at = (ms: number) => seed(store, { orgId: org, kind: "form_session", status: "created", dueAt: T0 + ms });
      const third = await at(3000);
      const first = await at(1000);
      const second = await at(2000);
      await at(60_000);
      await seed(store, { orgId: org, kind: "form_session", status: "submitted", dueAt: null });
      await seed(store, { orgId: org, kind: "workflow", dueAt: T0 });
      const stranger = await seed(store, { orgId: orgId(), kind: "form_session", status: "created", dueAt: T0 });

      expect(await store.listDue(org, "form_session", T0 + 5000, 10)).toEqual([first.id, second.id, third.id]);
      expect(await store.listDue(org, "form_session", T0 + 5000, 2)).toEqual([first.id, second.id]);
      expect(await store.listDue(org, "form_session", T0 + 2000, 10)).toEqual([first.id, second.id]);
      expect(await store.listDue(org, "form_session", T0 + 999, 10)).toEqual([]);
      expect(await store.listDue(org, "agent", T0 + 5000, 10)).toEqual([]);
      expect(await store.listDue(stranger.orgId, "form_session", T0 + 5000, 10)).toEqual([stranger.id]);
      expect(await store.listDue(orgId(), "form_session", T0 + 5000, 10)).toEqual([]);
    });

    it("lists a due record whether a claimer holds its lease or not", async () => {
      const { store, org } = context();
      const held = await seed(store, { orgId: org, kind: "form_session", status: "created", dueAt: T0 });
      expect(await store.claimDue({ now: T0, limit: 100, leaseMs: 60_000, owner: "worker" })).toHaveLength(1);
      expect(await store.listDue(org, "form_session", T0, 10)).toEqual([held.id]);
    });

    it("follows writes that clear, move or keep a deadline, naming each record once", async () => {
      const { store, org } = context();
      const expired = await seed(store, { orgId: org, kind: "form_session", status: "created", dueAt: T0 + 1000 });
      const extended = await seed(store, { orgId: org, kind: "form_session", status: "created", dueAt: T0 + 1000 });
      const opened = await seed(store, { orgId: org, kind: "form_session", status: "created", dueAt: null });
      expect(await store.compareAndSet(next(expired, { status: "expired", dueAt: null }, ["session.expired"]))).toBe(true);
      expect(await store.compareAndSet(next(extended, { dueAt: T0 + 10_000 }, ["session.extended"]))).toBe(true);
      let current = (await store.get(org, opened.id))!;
      // Many writes moving one deadline back and forth, then keeping it: still one id.
      for (let write = 0; write < 150; write++) {
        const change = write < 100 ? { dueAt: T0 + 500 + (write % 2) * 100 } : { updatedAt: T0 + write };
        expect(await store.compareAndSet(next(current, change, ["session.touched"]))).toBe(true);
        current = (await store.get(org, opened.id))!;
      }
      expect(current.dueAt).toBe(T0 + 600);
      expect(await store.listDue(org, "form_session", T0 + 599, 10)).toEqual([]);
      expect(await store.listDue(org, "form_session", T0 + 5000, 10)).toEqual([opened.id]);
      expect(await store.listDue(org, "form_session", T0 + 10_000, 10)).toEqual([opened.id, extended.id]);
    });
  });
}
