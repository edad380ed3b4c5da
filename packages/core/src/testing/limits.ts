import type { LimitedInsertResult, RecordWrite, StoredRecord } from "../store.js";
import type { SuiteContext } from "./failed-writes.js";
import { concurrently, events, next, orgId, outboxMessage, record, T0 } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

const LIMIT = { status: "active", max: 20 } as const;

/** A new webhook-kind record's insert with its first event and one outbox message. */
function endpointWrite(org: string, overrides: Partial<StoredRecord> = {}): RecordWrite {
  const base = record({ orgId: org, kind: "webhook", status: "active", ...overrides });
  const created = events(base, ["webhook.created"]);
  return { record: { ...base, eventCount: created.length }, events: created, outbox: [outboxMessage(org)] };
}

const succeeded = (results: readonly LimitedInsertResult[]) => results.filter((result) => result.ok).length;

/**
 * `insertWithinLimit`: of 30 concurrent capped inserts into an empty organization exactly the
 * limit get in, the refused ones write nothing, and a record leaving the counted status frees a
 * place. Other organizations, kinds and statuses are not counted.
 */
export function describeLimits(test: TestRunner, context: () => SuiteContext): void {
  const { describe, it, expect } = test;
  describe("limits across records", () => {
    it("lets exactly 20 of 30 concurrent capped inserts in, and a status change frees one place", async () => {
      const { store, org } = context();
      const writes = Array.from({ length: 30 }, () => endpointWrite(org));
      const results = await concurrently(30, (index) => store.insertWithinLimit(writes[index]!, LIMIT));
      expect(succeeded(results)).toBe(LIMIT.max);
      expect(results.filter((result) => !result.ok)).toEqual(Array.from({ length: 10 }, () => ({ ok: false, full: true })));

      const page = await store.list(org, { kind: "webhook", limit: 100 });
      expect(page.total).toBe(LIMIT.max);
      const admitted = writes.filter((_, index) => results[index]!.ok);
      expect(new Set(page.records.map((r) => r.id))).toEqual(new Set(admitted.map((write) => write.record.id)));
      const refused = writes.find((_, index) => !results[index]!.ok)!;
      expect(await store.get(org, refused.record.id)).toBeNull();
      expect(await store.timeline(org, refused.record.id)).toEqual([]);
      const queued = await store.claimOutbox({ now: T0, limit: 100, leaseMs: 1000, owner: "w" });
      expect(queued).toHaveLength(LIMIT.max);

      const gone = admitted[0]!.record;
      expect(await store.compareAndSet(next(gone, { status: "deleted" }, ["webhook.deleted"]))).toBe(true);
      const again = await concurrently(5, () => store.insertWithinLimit(endpointWrite(org), LIMIT));
      expect(succeeded(again)).toBe(1);
      expect((await store.list(org, { kind: "webhook", status: "active", limit: 1 })).total).toBe(LIMIT.max);
      expect((await store.list(org, { kind: "webhook", limit: 1 })).total).toBe(LIMIT.max + 1);
    });

    it("counts only the organization's records of the kind and status, and answers a taken id", async () => {
      const { store, org } = context();
      const small = { status: "active", max: 2 };
      expect(await store.insertWithinLimit(endpointWrite(org), small)).toEqual({ ok: true });
      expect(await store.insertWithinLimit(endpointWrite(org, { status: "deleted" }), small)).toEqual({ ok: true });
      expect(await store.insertWithinLimit(endpointWrite(org, { kind: "workflow" }), small)).toEqual({ ok: true });
      expect(await store.insertWithinLimit(endpointWrite(orgId()), small)).toEqual({ ok: true });
      const last = endpointWrite(org);
      expect(await store.insertWithinLimit(last, small)).toEqual({ ok: true });
      expect(await store.insertWithinLimit(endpointWrite(org), small)).toEqual({ ok: false, full: true });
      expect(await store.insertWithinLimit(endpointWrite(org, { status: "deleted" }), { status: "deleted", max: 2 })).toEqual({ ok: true });
      expect(await store.insertWithinLimit(last, { status: "active", max: 10 })).toEqual({ ok: false, taken: last.record.id });
      expect(await store.insertWithinLimit(endpointWrite(orgId()), { status: "active", max: 0 })).toEqual({ ok: false, full: true });
    });
  });
}
