import { JSON_LIMITS } from "./json-boundary.js";
import { LIMITS } from "./schemas/common.js";
import type { IdempotencyStore, Store, StoredRecord } from "./store.js";
import { describeDeliveryLog } from "./testing/delivery-log.js";
import { describeListDue } from "./testing/due-lists.js";
import { describeEncryption } from "./testing/encryption.js";
import { describeFailedWrites } from "./testing/failed-writes.js";
import { awkwardMetadata, concurrently, events, id, next, orgId, outboxMessage, record, seed, T0 } from "./testing/fixtures.js";
import { describeIdempotency } from "./testing/idempotency.js";
import { describeLimits } from "./testing/limits.js";
import { describeNotifier } from "./testing/notifier.js";
import { describePurge } from "./testing/retention.js";
import { checkCapabilities, describeCapability, destroyStore, probeCapabilities, type StoreSuiteOptions } from "./testing/runner.js";

export * as fixtures from "./testing/fixtures.js";

/** How an adapter's conformance file hands the suite its stores and its test runner. */
export interface StoreConformanceOptions extends StoreSuiteOptions {
  /** How many callers race in the concurrency tests. Default: 20. */
  readonly concurrency?: number;
}

/**
 * The conformance suite every store adapter passes: compare-and-set, atomic event append,
 * writes whole or absent when they throw half-way, limits across records under concurrency,
 * tenant isolation, stable pagination with exact totals, due and outbox claims with leases, due
 * ids by organization and kind, large values intact, and encryption at rest through the engine
 * (no plaintext in `rawDump`'s raw rows, key rotation, records written before a codec); then the block of each capability the
 * store declares (reads by id alone, idempotency records with a time to live, a notifier), the
 * others skipped under a title naming their flag. It first makes one store to read its
 * capabilities, so await it: `await runStoreConformance({ name, create, test: vitest })`.
 */
export async function runStoreConformance(options: StoreConformanceOptions): Promise<void> {
  const racers = options.concurrency ?? 20;
  const { test } = options;
  const { describe, it, expect, beforeEach, afterEach } = test;
  const capabilities = await probeCapabilities(options);

  describe(`Store conformance: ${options.name}`, () => {
    let store: Store;
    let org: string;

    beforeEach(async () => {
      store = await options.create();
      org = orgId();
      checkCapabilities(store, capabilities);
    });
    afterEach(async () => {
      await destroyStore(options, store);
    });

    describe("insert and read", () => {
      it("round-trips a record and its first event", async () => {
        const stored = await seed(store, { orgId: org, dueAt: T0 + 5000, status: "created", kind: "form_session" });
        expect(await store.get(org, stored.id)).toEqual(stored);
        const timeline = await store.timeline(org, stored.id);
        expect(timeline.map((event) => [event.seq, event.type])).toEqual([[1, "session.created"]]);
      });

      it("answers null for an unknown id", async () => {
        expect(await store.get(org, id())).toBeNull();
      });

      it("refuses a second insert of the same id and names it", async () => {
        const stored = await seed(store, { orgId: org });
        const again = record({ orgId: org, id: stored.id, status: "other" });
        expect(await store.insert({ record: again, events: [] })).toEqual({ ok: false, taken: stored.id });
        expect((await store.get(org, stored.id))?.status).toBe("active");
      });

      it("resolves aliases within their organization only, and refuses a taken one", async () => {
        const stored = await seed(store, { orgId: org }, { aliases: ["form-slug:intake"] });
        expect(await store.resolveAlias(org, "form-slug:intake")).toBe(stored.id);
        expect(await store.resolveAlias(orgId(), "form-slug:intake")).toBeNull();
        const clash = record({ orgId: org });
        expect(await store.insert({ record: clash, events: [], aliases: ["form-slug:intake"] })).toEqual({
          ok: false,
          taken: "form-slug:intake",
        });
        expect(await store.get(org, clash.id)).toBeNull();
        const elsewhere = orgId();
        await seed(store, { orgId: elsewhere }, { aliases: ["form-slug:intake"] });
      });

      it(`lets exactly one of ${racers} concurrent inserts take an alias`, async () => {
        const results = await concurrently(racers, () => store.insert({ record: record({ orgId: org }), events: [], aliases: ["form-slug:race"] }));
        expect(results.filter((result) => result.ok)).toHaveLength(1);
        const page = await store.list(org, { kind: "workflow", limit: 100 });
        expect(page.total).toBe(1);
      });

      it("adds aliases on a compare-and-set write", async () => {
        const stored = await seed(store, { orgId: org });
        expect(await store.compareAndSet({ ...next(stored, {}, ["inbox.created"]), aliases: ["inb_x"] })).toBe(true);
        expect(await store.resolveAlias(org, "inb_x")).toBe(stored.id);
      });
    });

    describe("compare-and-set", () => {
      it(`lets exactly one of ${racers} concurrent writers of one version win, and keeps only its events`, async () => {
        const stored = await seed(store, { orgId: org });
        const results = await concurrently(racers, (index) =>
          store.compareAndSet(next(stored, { status: `s${index}`, data: { writer: index } }, [`writer.${index}`])),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        const after = await store.get(org, stored.id);
        expect(after).toMatchObject({ version: 2, status: `s${winner}`, eventCount: 2, data: { writer: winner } });
        const timeline = await store.timeline(org, stored.id);
        expect(timeline.map((event) => event.type)).toEqual(["session.created", `writer.${winner}`]);
      });

      it(`loses no event when ${racers} writers retry until each has written once`, async () => {
        const stored = await seed(store, { orgId: org });
        await concurrently(racers, async (index) => {
          for (let attempt = 0; attempt < 10_000; attempt++) {
            const current = (await store.get(org, stored.id))!;
            if (await store.compareAndSet(next(current, { data: { last: index } }, [`writer.${index}`]))) return;
          }
          throw new Error(`writer ${index} never won`);
        });
        const after = (await store.get(org, stored.id))!;
        expect(after.version).toBe(racers + 1);
        expect(after.eventCount).toBe(racers + 1);
        const timeline = await store.timeline(org, stored.id);
        expect(timeline.map((event) => event.seq)).toEqual(Array.from({ length: racers + 1 }, (_, i) => i + 1));
        expect(new Set(timeline.map((event) => event.type)).size).toBe(racers + 1);
      });

      it("writes nothing when the version is stale", async () => {
        const stored = await seed(store, { orgId: org });
        expect(await store.compareAndSet(next(stored, { status: "completed" }, ["session.completed"]))).toBe(true);
        const stale = next(stored, { status: "failed" }, ["session.failed"], [outboxMessage(org)]);
        expect(await store.compareAndSet(stale)).toBe(false);
        expect((await store.get(org, stored.id))?.status).toBe("completed");
        expect((await store.timeline(org, stored.id)).map((event) => event.type)).toEqual(["session.created", "session.completed"]);
        expect(await store.claimOutbox({ now: T0 + 1, limit: 10, leaseMs: 1000, owner: "w" })).toEqual([]);
      });

      it("writes state, events and outbox together", async () => {
        const stored = await seed(store, { orgId: org });
        const message = outboxMessage(org);
        const write = next(stored, { status: "completed", updatedAt: T0 + 10 }, ["a", "b", "c"], [message]);
        expect(await store.compareAndSet(write)).toBe(true);
        const after = (await store.get(org, stored.id))!;
        const timeline = await store.timeline(org, stored.id);
        expect(after.eventCount).toBe(timeline.length);
        expect(timeline.at(-1)?.seq).toBe(after.eventCount);
        expect(timeline.slice(1)).toEqual(write.events);
        const claimed = await store.claimOutbox({ now: T0 + 1, limit: 10, leaseMs: 1000, owner: "w" });
        expect(claimed.map((entry) => entry.id)).toEqual([message.id]);
      });

      it("refuses a write for a record of another organization", async () => {
        const stored = await seed(store, { orgId: org });
        const foreign = next({ ...stored, orgId: orgId() }, { status: "hijacked" }, ["x"]);
        expect(await store.compareAndSet(foreign)).toBe(false);
        expect((await store.get(org, stored.id))?.status).toBe("active");
      });
    });

    const context = () => ({ store, org });
    describeFailedWrites(test, context);
    describeLimits(test, context);
    describeListDue(test, context);
    describeDeliveryLog(test, context);
    describePurge(test, context, options.rawDump);

    describe("tenant isolation", () => {
      it("hides another organization's records, timelines and lists", async () => {
        const mine = await seed(store, { orgId: org });
        const other = orgId();
        expect(await store.get(other, mine.id)).toBeNull();
        expect(await store.timeline(other, mine.id)).toEqual([]);
        const page = await store.list(other, { kind: "workflow", limit: 10 });
        expect(page).toEqual({ records: [], total: 0, nextCursor: null });
      });
    });

    describe("lists", () => {
      async function seedMany(count: number): Promise<StoredRecord[]> {
        const made: StoredRecord[] = [];
        for (let i = 0; i < count; i++) {
          made.push(await seed(store, { orgId: org, status: i % 3 === 0 ? "completed" : "active", createdAt: T0 + i }));
        }
        await seed(store, { orgId: org, kind: "thread" });
        await seed(store, { orgId: orgId() });
        return made;
      }
      const newestFirst = (records: StoredRecord[]) =>
        records
          .map((r) => r.id)
          .sort()
          .reverse();
      /** Every workflow id of `org`, page by page by cursor, each page's total checked. */
      async function idsByCursor(limit: number, total: number): Promise<string[]> {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages <= total / limit + 1; pages++) {
          const page = await store.list(org, { kind: "workflow", limit, ...(cursor ? { cursor } : {}) });
          expect(page.total).toBe(total);
          seen.push(...page.records.map((r) => r.id));
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        return seen;
      }

      it("pages by offset, newest id first, with an exact total", async () => {
        const made = await seedMany(25);
        const seen: string[] = [];
        for (let offset = 0; offset < 30; offset += 10) {
          const page = await store.list(org, { kind: "workflow", limit: 10, offset });
          expect(page.total).toBe(25);
          seen.push(...page.records.map((r) => r.id));
        }
        expect(seen).toEqual(newestFirst(made));
      });

      it("lists ids inserted in any order newest first, with exact totals by status", async () => {
        // Ids of one millisecond arrive in random order, and a writer may insert an older one late.
        const ids = Array.from({ length: 120 }, () => id());
        for (let i = ids.length - 1; i > 0; i--) {
          const j = (i * 7919 + 13) % (i + 1);
          [ids[i], ids[j]] = [ids[j]!, ids[i]!];
        }
        const made: StoredRecord[] = [];
        for (const [i, recordId] of ids.entries()) {
          made.push(await seed(store, { orgId: org, id: recordId, status: i % 4 === 0 ? "failed" : "active" }));
        }
        expect(await idsByCursor(50, 120)).toEqual(newestFirst(made));
        const failed = await store.list(org, { kind: "workflow", status: "failed", limit: 100 });
        expect(failed.total).toBe(30);
        expect(failed.records.map((r) => r.id)).toEqual(newestFirst(made.filter((r) => r.status === "failed")));
      });

      it("pages by cursor over the same order, ending with a null cursor", async () => {
        const made = await seedMany(23);
        expect(await idsByCursor(5, 23)).toEqual(newestFirst(made));
      });

      it("filters by status with an exact total that follows status changes", async () => {
        const made = await seedMany(12);
        const completed = made.filter((r) => r.status === "completed");
        let page = await store.list(org, { kind: "workflow", status: "completed", limit: 2, offset: 1 });
        expect(page.total).toBe(completed.length);
        expect(page.records.map((r) => r.id)).toEqual(newestFirst(completed).slice(1, 3));
        const first = made.find((r) => r.status === "active")!;
        expect(await store.compareAndSet(next(first, { status: "completed" }, ["session.completed"]))).toBe(true);
        page = await store.list(org, { kind: "workflow", status: "completed", limit: 100 });
        expect(page.total).toBe(completed.length + 1);
        expect(page.records.map((r) => r.id)).toContain(first.id);
        expect((await store.list(org, { kind: "workflow", status: "active", limit: 100 })).total).toBe(made.length - completed.length - 1);
      });

      it("keeps its order when records change between pages", async () => {
        const made = await seedMany(10);
        const firstPage = await store.list(org, { kind: "workflow", limit: 4 });
        for (const r of made) await store.compareAndSet(next(r, { updatedAt: T0 + 9999 }, ["touched"]));
        const secondPage = await store.list(org, { kind: "workflow", limit: 4, cursor: firstPage.nextCursor! });
        expect([...firstPage.records, ...secondPage.records].map((r) => r.id)).toEqual(newestFirst(made).slice(0, 8));
      });

      it("refuses a cursor no page gave as invalid input, whatever its shape", async () => {
        await seedMany(3);
        for (const cursor of ["nope", "sess_", "c1.", "\u0000", "x".repeat(300)]) {
          await expect(store.list(org, { kind: "workflow", limit: 2, cursor }), cursor).rejects.toMatchObject({
            code: "invalid_input",
            message: "cursor: must be the nextCursor of a previous page",
          });
        }
      });

      it("returns an empty last page past the end", async () => {
        await seedMany(3);
        const page = await store.list(org, { kind: "workflow", limit: 10, offset: 50 });
        expect(page).toMatchObject({ records: [], total: 3, nextCursor: null });
      });
    });

    describe("timeline", () => {
      it("reads after a sequence number, with a limit", async () => {
        const stored = await seed(store, { orgId: org });
        await store.compareAndSet(next(stored, {}, ["a", "b", "c", "d"]));
        expect((await store.timeline(org, stored.id, { afterSeq: 2 })).map((e) => e.type)).toEqual(["b", "c", "d"]);
        expect((await store.timeline(org, stored.id, { afterSeq: 1, limit: 2 })).map((e) => e.seq)).toEqual([2, 3]);
        expect(await store.timeline(org, stored.id, { afterSeq: 5 })).toEqual([]);
      });
    });

    describe("due deadlines", () => {
      it("hands out only what is due, earliest first", async () => {
        const late = await seed(store, { orgId: org, dueAt: T0 + 2000 });
        const early = await seed(store, { orgId: org, dueAt: T0 + 1000 });
        await seed(store, { orgId: org, dueAt: T0 + 60_000 });
        await seed(store, { orgId: org, dueAt: null });
        const claims = await store.claimDue({ now: T0 + 5000, limit: 10, leaseMs: 30_000, owner: "a" });
        expect(claims.map((claim) => claim.id)).toEqual([early.id, late.id]);
        expect(claims[0]).toMatchObject({ orgId: org, kind: "workflow", dueAt: T0 + 1000, leaseUntil: T0 + 35_000 });
      });

      it("hands out, with a claim that carries its record, the record as it is stored", async () => {
        const stored = await seed(store, { orgId: org, dueAt: T0 });
        const moved = await seed(store, { orgId: org, dueAt: T0 });
        expect(await store.compareAndSet(next(moved, { dueAt: T0 + 1 }, ["session.extended"]))).toBe(true);
        const claims = await store.claimDue({ now: T0 + 5000, limit: 10, leaseMs: 30_000, owner: "a" });
        for (const claim of claims) {
          if (claim.record === undefined) continue; // optional: such a store's worker reads the record itself
          expect(claim.record, claim.id).toEqual(await store.get(org, claim.id));
        }
        expect(claims.map((claim) => claim.id).sort()).toEqual([stored.id, moved.id].sort());
      });

      it(`never lets two of ${racers} concurrent claimers hold one deadline`, async () => {
        const due = await concurrently(30, (i) => seed(store, { orgId: org, dueAt: T0 + i }));
        const claims = await concurrently(racers, (index) => store.claimDue({ now: T0 + 1000, limit: 3, leaseMs: 60_000, owner: `worker-${index}` }));
        const ids = claims.flat().map((claim) => claim.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(new Set(due.map((r) => r.id)));
        expect(await store.claimDue({ now: T0 + 1000, limit: 100, leaseMs: 60_000, owner: "late" })).toEqual([]);
      });

      it("hands a claim over once its lease runs out", async () => {
        const stored = await seed(store, { orgId: org, dueAt: T0 });
        expect(await store.claimDue({ now: T0, limit: 10, leaseMs: 1000, owner: "a" })).toHaveLength(1);
        expect(await store.claimDue({ now: T0 + 999, limit: 10, leaseMs: 1000, owner: "b" })).toHaveLength(0);
        const handedOver = await store.claimDue({ now: T0 + 1000, limit: 10, leaseMs: 1000, owner: "b" });
        expect(handedOver.map((claim) => claim.id)).toEqual([stored.id]);
      });

      it("forgets a deadline that a write removed or moved", async () => {
        const cleared = await seed(store, { orgId: org, dueAt: T0 });
        const moved = await seed(store, { orgId: org, dueAt: T0 });
        await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: "a" });
        expect(await store.compareAndSet(next(cleared, { dueAt: null, status: "expired" }, ["session.expired"]))).toBe(true);
        expect(await store.compareAndSet(next(moved, { dueAt: T0 + 10_000 }, ["session.extended"]))).toBe(true);
        expect(await store.claimDue({ now: T0 + 5000, limit: 10, leaseMs: 1000, owner: "b" })).toEqual([]);
        const later = await store.claimDue({ now: T0 + 10_000, limit: 10, leaseMs: 1000, owner: "b" });
        expect(later.map((claim) => claim.id)).toEqual([moved.id]);
      });
    });

    describe("outbox", () => {
      it(`hands each message to one of ${racers} concurrent claimers`, async () => {
        const messages = Array.from({ length: 30 }, () => outboxMessage(org));
        await seed(store, { orgId: org }, { outbox: messages });
        const claims = await concurrently(racers, (index) => store.claimOutbox({ now: T0, limit: 3, leaseMs: 60_000, owner: `worker-${index}` }));
        const ids = claims.flat().map((entry) => entry.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(new Set(messages.map((m) => m.id)));
        expect(claims.flat()[0]).toMatchObject({ attempts: 1, lastError: null, payload: { hello: "world", n: 1 } });
      });

      it("waits for availableAt, hands over an expired lease, and obeys the topic", async () => {
        const soon = outboxMessage(org, T0 + 1000, "webhook");
        const other = outboxMessage(org, T0, "action");
        await seed(store, { orgId: org }, { outbox: [soon, other] });
        expect(await store.claimOutbox({ now: T0, limit: 10, leaseMs: 500, owner: "a", topic: "webhook" })).toEqual([]);
        expect((await store.claimOutbox({ now: T0 + 1000, limit: 10, leaseMs: 500, owner: "a", topic: "webhook" })).map((e) => e.id)).toEqual([
          soon.id,
        ]);
        expect(await store.claimOutbox({ now: T0 + 1499, limit: 10, leaseMs: 500, owner: "b", topic: "webhook" })).toEqual([]);
        const handedOver = await store.claimOutbox({ now: T0 + 1500, limit: 10, leaseMs: 500, owner: "b", topic: "webhook" });
        expect(handedOver.map((entry) => [entry.id, entry.leaseOwner])).toEqual([[soon.id, "b"]]);
        expect(await store.settleOutbox(soon.id, "a", {})).toBe(false);
        expect(await store.settleOutbox(soon.id, "b", {})).toBe(true);
        expect(await store.claimOutbox({ now: T0 + 99_999, limit: 10, leaseMs: 500, owner: "c", topic: "webhook" })).toEqual([]);
        expect((await store.claimOutbox({ now: T0, limit: 10, leaseMs: 500, owner: "c" })).map((e) => e.id)).toEqual([other.id]);
      });

      it("reschedules a failed attempt with its count and error", async () => {
        const message = outboxMessage(org);
        await seed(store, { orgId: org }, { outbox: [message] });
        await store.claimOutbox({ now: T0, limit: 1, leaseMs: 500, owner: "a" });
        expect(await store.settleOutbox(message.id, "a", { retryAt: T0 + 5000, error: "HTTP 503" })).toBe(true);
        expect(await store.claimOutbox({ now: T0 + 4999, limit: 1, leaseMs: 500, owner: "a" })).toEqual([]);
        const [retried] = await store.claimOutbox({ now: T0 + 5000, limit: 1, leaseMs: 500, owner: "a" });
        expect(retried).toMatchObject({ id: message.id, attempts: 2, lastError: "HTTP 503" });
      });
    });

    describe("large values", () => {
      it("round-trips metadata near its limit, awkward characters included", async () => {
        const metadata = awkwardMetadata(LIMITS.metadataBytes);
        const stored = await seed(store, { orgId: org, data: { metadata } });
        expect((await store.get(org, stored.id))?.data).toEqual({ metadata });
        const write = next(stored, { data: { metadata, more: "x" } }, ["session.updated"]);
        expect(await store.compareAndSet(write)).toBe(true);
        expect((await store.get(org, stored.id))?.data).toEqual({ metadata, more: "x" });
      });

      it("round-trips a record of nearly the largest size and a large event payload", async () => {
        const big = "é".repeat(Math.floor(LIMITS.recordBytes / 2) - 1000);
        const stored = await seed(store, { orgId: org, data: { big } });
        expect((await store.get(org, stored.id))?.data).toEqual({ big });
        const [event] = events(stored, ["message.received"]);
        const payload = { body: "z".repeat(64 * 1024) };
        expect(
          await store.compareAndSet({
            record: { ...stored, version: 2, eventCount: 2 },
            events: [{ ...event!, payload }],
            expectedVersion: 1,
          }),
        ).toBe(true);
        expect((await store.timeline(org, stored.id, { afterSeq: 1 }))[0]?.payload).toEqual(payload);
      });

      it("round-trips values nested as deep as the engine takes them, in data, events and outbox", async () => {
        // Free-form values nest up to JSON_LIMITS.depth levels inside a record's own structure.
        let deep: unknown = "bottom";
        for (let i = 0; i < JSON_LIMITS.depth; i++) deep = i % 2 === 0 ? [deep] : { k: deep };
        const data = { steps: [{ output: deep }], metadata: { m: deep } };
        const stored = await seed(store, { orgId: org, data });
        expect((await store.get(org, stored.id))?.data).toEqual(data);
        const [event] = events(stored, ["step.recorded"]);
        const message = { ...outboxMessage(org), payload: { data: { steps: [{ output: deep }] } } };
        const write = {
          record: { ...stored, version: 2, eventCount: 2 },
          events: [{ ...event!, payload: { step: { output: deep } } }],
          outbox: [message],
          expectedVersion: 1,
        };
        expect(await store.compareAndSet(write)).toBe(true);
        expect((await store.timeline(org, stored.id, { afterSeq: 1 }))[0]?.payload).toEqual({ step: { output: deep } });
        const [claimed] = await store.claimOutbox({ now: message.availableAt, limit: 10, leaseMs: 1000, owner: "deep" });
        expect(claimed?.payload).toEqual(message.payload);
      });
    });

    describeEncryption(test, context, { capabilities, rawDump: options.rawDump });

    describeCapability(test, capabilities, "unscopedReads", "reads by id alone", () => {
      it("reads a record by its id alone, whatever its organization, and null for an unknown id", async () => {
        const stored = await seed(store, { orgId: org, dueAt: T0 + 5000, status: "created", kind: "form_session" });
        const elsewhere = await seed(store, { orgId: orgId() });
        expect(await store.getUnscoped!(stored.id)).toEqual(stored);
        expect(await store.getUnscoped!(elsewhere.id)).toEqual(elsewhere);
        expect(await store.getUnscoped!(id())).toBeNull();
      });
    });

    describeCapability(test, capabilities, "idempotency", "idempotency records", () => {
      describeIdempotency(test, () => ({ keys: store as Store & IdempotencyStore, org }), racers);
    });

    describeCapability(test, capabilities, "notifier", "notifier", () => {
      describeNotifier(test, context);
    });
  });
}

export { type EngineConcurrencyOptions, runEngineConcurrency } from "./testing/concurrency.js";
export { type EngineModelOptions, runEngineModel } from "./testing/engine-model/run.js";
export { type IdempotencyConformanceOptions, runIdempotencyConformance } from "./testing/idempotency.js";
export { type RateLimiterConformanceOptions, runRateLimiterConformance } from "./testing/rate-limiter.js";
export type { Assertion, Expect, StoreSuiteOptions, TestRunner } from "./testing/runner.js";
export {
  memoryReceiver,
  type ReceivedWebhook,
  runWorkerConformance,
  type TestReceiver,
  type WorkerConformanceOptions,
} from "./testing/worker.js";
