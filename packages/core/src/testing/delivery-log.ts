import type { DeliveryLogEntry, Store } from "../store.js";
import type { SuiteContext } from "./failed-writes.js";
import { concurrently, id, orgId, outboxMessage, seed, T0 } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

/** `count` log entries of one endpoint, started one millisecond apart from `from`. */
function entries(org: string, webhookId: string, count: number, from = T0): DeliveryLogEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    orgId: org,
    webhookId,
    id: `${id("dlv")}/1`,
    startedAt: from + index,
    data: { outcome: "started", n: index },
  }));
}

/** Every entry of an endpoint's log, following the cursor page by page. */
async function everyPage(store: Store, org: string, webhookId: string, limit: number): Promise<DeliveryLogEntry[]> {
  const seen: DeliveryLogEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.deliveryLog(org, webhookId, { limit, ...(cursor === undefined ? {} : { cursor }) });
    seen.push(...page.entries);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return seen;
}

/** Latest start first, then id descending: the log's order. */
const latestFirst = (a: DeliveryLogEntry, b: DeliveryLogEntry): number => b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Leases that live as long as their holder (`renewOutbox`), attempts counted by claims, the
 * leases a reader sees (`outboxLeases`), and the delivery log (`logDeliveries`, `deliveryLog`):
 * entries written when an attempt starts and replaced when it ends, paged latest first with an
 * exact total, per organization.
 */
export function describeDeliveryLog(test: TestRunner, context: () => SuiteContext): void {
  const { describe, it, expect } = test;

  describe("outbox leases and heartbeats", () => {
    it("counts every claim as an attempt, an abandoned one included", async () => {
      const { store, org } = context();
      const message = outboxMessage(org);
      await seed(store, { orgId: org }, { outbox: [message] });
      const [first] = await store.claimOutbox({ now: T0, limit: 1, leaseMs: 1000, owner: "a" });
      expect(first).toMatchObject({ id: message.id, attempts: 1 });
      // `a` dies: its lease runs out and `b` takes the message over as the second attempt.
      const [second] = await store.claimOutbox({ now: T0 + 1000, limit: 1, leaseMs: 1000, owner: "b" });
      expect(second).toMatchObject({ id: message.id, attempts: 2, leaseOwner: "b" });
      expect(await store.settleOutbox(message.id, "b", { retryAt: T0 + 5000, error: "HTTP 503" })).toBe(true);
      const [third] = await store.claimOutbox({ now: T0 + 5000, limit: 1, leaseMs: 1000, owner: "c" });
      expect(third).toMatchObject({ attempts: 3, lastError: "HTTP 503" });
    });

    it("renews the leases their holder still has, and no other", async () => {
      const { store, org } = context();
      const [kept, settled, lost] = [outboxMessage(org), outboxMessage(org), outboxMessage(org)];
      await seed(store, { orgId: org }, { outbox: [kept, settled, lost] });
      expect(await store.claimOutbox({ now: T0, limit: 3, leaseMs: 1000, owner: "a" })).toHaveLength(3);
      expect(await store.settleOutbox(settled.id, "a", {})).toBe(true);
      // `lost` is handed over once `a`'s lease ran out; a renewal by `a` only extends `kept`.
      expect((await store.claimOutbox({ now: T0 + 1000, limit: 3, leaseMs: 10_000, owner: "b" })).map((entry) => entry.id).sort()).toEqual(
        [kept.id, lost.id].sort(),
      );
      expect(await store.settleOutbox(kept.id, "b", { retryAt: T0 + 1000, error: "again" })).toBe(true);
      expect(await store.claimOutbox({ now: T0 + 1000, limit: 1, leaseMs: 1000, owner: "a" })).toMatchObject([{ id: kept.id, attempts: 3 }]);
      const renewed = await store.renewOutbox({ ids: [kept.id, settled.id, lost.id, "obx_none"], owner: "a", now: T0 + 1900, leaseMs: 1000 });
      expect(renewed).toEqual([kept.id]);
      // Renewed until T0 + 2900: nobody takes it before, and `b` can still not settle it.
      expect(await store.claimOutbox({ now: T0 + 2899, limit: 3, leaseMs: 1000, owner: "b" })).toEqual([]);
      expect(await store.settleOutbox(kept.id, "b", {})).toBe(false);
      expect(await store.settleOutbox(lost.id, "a", {})).toBe(false);
      expect(await store.claimOutbox({ now: T0 + 2900, limit: 3, leaseMs: 1000, owner: "b" })).toMatchObject([{ id: kept.id, attempts: 4 }]);
      expect(await store.renewOutbox({ ids: [kept.id], owner: "a", now: T0 + 2950, leaseMs: 1000 })).toEqual([]);
      expect(await store.settleOutbox(kept.id, "a", {})).toBe(false);
    });

    it("answers settles made all at once as if they were made one by one, in some order", async () => {
      const { store, org } = context();
      const messages = Array.from({ length: 12 }, () => outboxMessage(org));
      await seed(store, { orgId: org }, { outbox: messages });
      expect(await store.claimOutbox({ now: T0, limit: 12, leaseMs: 1000, owner: "a" })).toHaveLength(12);
      const [first, twice, strangers, rescheduled, ...rest] = messages;
      // Settles in flight together: the holder's own, a second settle of one message, another owner's.
      // (A store that writes them in groups sends the first alone and the rest together.)
      const answers = await Promise.all([
        store.settleOutbox(first!.id, "a", {}),
        store.settleOutbox(twice!.id, "a", {}),
        store.settleOutbox(twice!.id, "a", {}),
        store.settleOutbox(strangers!.id, "b", {}),
        store.settleOutbox(rescheduled!.id, "a", { retryAt: T0 + 60_000, error: "HTTP 500" }),
        ...rest.map((message) => store.settleOutbox(message.id, "a", {})),
      ]);
      // Of the two settles of one message, one finished it and the other found nothing (which one may vary).
      expect([answers[0], answers[1]! !== answers[2]!, answers[3], answers[4], ...answers.slice(5)]).toEqual([
        true,
        true,
        false,
        true,
        ...rest.map(() => true),
      ]);
      const left = await store.outboxLeases(messages.map((message) => message.id));
      expect(left.map((lease) => lease.id).sort()).toEqual([strangers!.id, rescheduled!.id].sort());
      expect(await store.settleOutbox(strangers!.id, "a", {})).toBe(true);
    });

    it("renews a lease that ran out while nobody took it over", async () => {
      const { store, org } = context();
      const message = outboxMessage(org);
      await seed(store, { orgId: org }, { outbox: [message] });
      await store.claimOutbox({ now: T0, limit: 1, leaseMs: 1000, owner: "a" });
      expect(await store.renewOutbox({ ids: [message.id], owner: "a", now: T0 + 5000, leaseMs: 1000 })).toEqual([message.id]);
      expect(await store.claimOutbox({ now: T0 + 5999, limit: 1, leaseMs: 1000, owner: "b" })).toEqual([]);
      expect(await store.renewOutbox({ ids: [], owner: "a", now: T0, leaseMs: 1000 })).toEqual([]);
    });

    it("shows who holds each message still in the outbox", async () => {
      const { store, org } = context();
      const [held, waiting, done] = [outboxMessage(org), outboxMessage(org, T0 + 60_000), outboxMessage(org)];
      await seed(store, { orgId: org }, { outbox: [held, waiting, done] });
      await store.claimOutbox({ now: T0, limit: 3, leaseMs: 1000, owner: "a" });
      await store.settleOutbox(done.id, "a", {});
      const leases = await store.outboxLeases([held.id, waiting.id, done.id, "obx_none"]);
      expect([...leases].sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(
        [
          { id: held.id, attempts: 1, leaseOwner: "a", leaseUntil: T0 + 1000 },
          { id: waiting.id, attempts: 0, leaseOwner: null, leaseUntil: 0 },
        ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      expect(await store.outboxLeases([])).toEqual([]);
    });
  });

  describe("delivery log", () => {
    it("adds entries, replaces an entry's data under its id, and keeps when it started", async () => {
      const { store, org } = context();
      const webhookId = id("wh");
      const [first, second] = entries(org, webhookId, 2);
      await store.logDeliveries([first!, second!]);
      const ended = { ...first!, startedAt: T0 + 99, webhookId: id("wh"), data: { outcome: "succeeded", statusCode: 200, note: "ü\u2028\"'" } };
      await store.logDeliveries([ended]);
      const page = await store.deliveryLog(org, webhookId, { limit: 10 });
      expect(page).toEqual({ entries: [second, { ...first, data: ended.data }], total: 2, nextCursor: null });
      expect(await store.logDeliveries([])).toBe(undefined);
    });

    it("pages latest first by offset and by cursor, and a cursor page ignores entries added since", async () => {
      const { store, org } = context();
      const webhookId = id("wh");
      // Two entries share each start, so the id orders them.
      const written = entries(org, webhookId, 25).map((entry, index) => ({ ...entry, startedAt: T0 + Math.floor(index / 2) }));
      await store.logDeliveries(written.slice(0, 12));
      await store.logDeliveries(written.slice(12));
      const expected = [...written].sort(latestFirst);
      const first = await store.deliveryLog(org, webhookId, { limit: 10 });
      expect(first.entries).toEqual(expected.slice(0, 10));
      expect(first.total).toBe(25);
      expect(first.nextCursor === null).toBe(false);
      expect((await store.deliveryLog(org, webhookId, { limit: 10, offset: 20 })).entries).toEqual(expected.slice(20));
      expect((await store.deliveryLog(org, webhookId, { limit: 10, offset: 30 })).entries).toEqual([]);
      await store.logDeliveries(entries(org, webhookId, 3, T0 + 1000)); // newer: they go before the first page
      const rest = await store.deliveryLog(org, webhookId, { limit: 10, cursor: first.nextCursor! });
      expect(rest.entries).toEqual(expected.slice(10, 20));
      expect(rest.total).toBe(28);
      expect(await everyPage(store, org, webhookId, 7)).toHaveLength(28);
    });

    it("keeps each organization's and each endpoint's log apart", async () => {
      const { store, org } = context();
      const other = orgId();
      const webhookId = id("wh");
      const mine = entries(org, webhookId, 3);
      const theirs = entries(other, webhookId, 2).map((entry, index) => ({ ...entry, id: mine[index]!.id, data: { theirs: true } }));
      await store.logDeliveries([...mine, ...theirs, ...entries(org, id("wh"), 4)]);
      expect((await store.deliveryLog(org, webhookId, { limit: 10 })).entries).toEqual([...mine].sort(latestFirst));
      expect((await store.deliveryLog(other, webhookId, { limit: 10 })).entries).toEqual([...theirs].sort(latestFirst));
      expect(await store.deliveryLog(orgId(), webhookId, { limit: 10 })).toEqual({ entries: [], total: 0, nextCursor: null });
    });

    it("keeps every entry written at once by many writers, in batches large and small", async () => {
      const { store, org } = context();
      const webhookId = id("wh");
      const batches = Array.from({ length: 10 }, (_, index) => entries(org, webhookId, index === 0 ? 250 : 5, T0 + index * 1000));
      await concurrently(batches.length, (index) => store.logDeliveries(batches[index]!));
      const all = await everyPage(store, org, webhookId, 100);
      expect(all).toHaveLength(295);
      expect(all).toEqual(batches.flat().sort(latestFirst));
    });

    it("refuses a cursor that is none of its own, naming the field, and pages or refuses every hostile one", async () => {
      const { store, org } = context();
      const webhookId = id("wh");
      await store.logDeliveries(entries(org, webhookId, 3));
      await expect(store.deliveryLog(org, webhookId, { limit: 10, cursor: "nonsense" })).rejects.toMatchObject({ field: "cursor" });
      const hostile = [
        "",
        ":",
        "0:",
        "-1:x",
        "1e400:x",
        "NaN:x",
        `${"9".repeat(400)}:x`,
        "d1.",
        "d1.!!!",
        "c1.AAAA",
        "\u0000",
        "'; DROP TABLE x; --",
        "🙂:🙂",
      ];
      for (const cursor of hostile) {
        try {
          const page = await store.deliveryLog(org, webhookId, { limit: 10, cursor });
          expect(page.total, `cursor ${JSON.stringify(cursor)}`).toBe(3);
        } catch (error) {
          expect(error, `cursor ${JSON.stringify(cursor)}`).toMatchObject({ field: "cursor" });
        }
      }
    });
  });
}
