import { PURGEABLE_KINDS } from "../engine/retention.js";
import { InvalidInputError } from "../errors.js";
import { KINDS, RECORD_KINDS, type RecordKind } from "../kinds/index.js";
import { type IdempotencyStore, type PurgeCounts, type Store, type StoredRecord, storeIdempotency } from "../store.js";
import type { SuiteContext } from "./failed-writes.js";
import { id, next, orgId, outboxMessage, seed, T0 } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

const DAY = 86_400_000;
/** The purges' cut-off: records last written before it go. */
const BEFORE = T0 + DAY;

/** One record the block made, and every text that names something of its (id, aliases, messages, keys). */
interface Made {
  readonly record: StoredRecord;
  readonly tokens: readonly string[];
  readonly aliases: readonly string[];
  readonly outbox: number;
  readonly idempotency: number;
  readonly deliveries: number;
}

/** What `rawDump` is: every row or key of the store's storage as text, one entry each. */
export type RawDump = (store: Store) => Promise<string[]>;

/**
 * `purge`: records of a kind in one of the given statuses, with no deadline, last written before
 * the cut-off, go with their events, aliases, idempotency entries and waiting outbox messages,
 * in bounded batches across organizations; a dry run counts the same and changes nothing; and
 * nothing else changes. With `rawDump` (every stored row or key as text), it also proves on the
 * storage itself that no trace of a purged record is left and that every other entry is
 * byte-for-byte what it was.
 */
export function describePurge(test: TestRunner, context: () => SuiteContext, rawDump: RawDump | undefined): void {
  const { describe, it, expect } = test;

  /** A record of `kind` ending in `status` at `updatedAt`, with events, aliases, outbox messages and an idempotency entry. */
  async function make(store: Store, org: string, kind: RecordKind, status: string, updatedAt: number, dueAt: number | null = null): Promise<Made> {
    const tag = id("tag");
    const live = KINDS[kind].statuses.find((candidate) => !(KINDS[kind].terminal as readonly string[]).includes(candidate))!;
    const aliases = [`alias-${tag}-a`, `alias-${tag}-b`];
    const first = outboxMessage(org, T0 + 10 * DAY);
    const created = await seed(
      store,
      { orgId: org, id: id(KINDS[kind].prefix), kind, status: live, createdAt: T0 - DAY, updatedAt: T0 - DAY },
      { aliases: [aliases[0]!], outbox: [first] },
    );
    const last = outboxMessage(org, T0 + 10 * DAY);
    const write = next(created, { status, updatedAt, dueAt }, ["step.done", "session.ended"], [last]);
    expect(await store.compareAndSet({ ...write, aliases: [aliases[1]!] })).toBe(true);
    const tokens = [created.id, ...aliases, first.id, last.id];
    // A webhook endpoint's delivery log: one attempt ended, one whose sender never said.
    const deliveries = kind === "webhook" ? [`${tag}-d1/1`, `${tag}-d2/1`] : [];
    if (deliveries.length > 0) {
      await store.logDeliveries(
        deliveries.map((entryId, index) => ({
          orgId: org,
          webhookId: created.id,
          id: entryId,
          startedAt: T0 + index,
          data: { outcome: "started", tag },
        })),
      );
      await store.logDeliveries([{ orgId: org, webhookId: created.id, id: deliveries[0]!, startedAt: T0, data: { outcome: "succeeded", tag } }]);
      tokens.push(...deliveries);
    }
    let idempotency = 0;
    const keys = storeIdempotency(store);
    if (keys) {
      const key = `idem-${tag}`;
      expect(await keys.reserveIdempotencyKey(org, key, { fingerprint: "f", expiresAt: T0 + 400 * DAY, response: null }, T0)).toBeNull();
      await keys.completeIdempotencyKey(org, key, { status: 201, body: `{"id":"${created.id}"}` }, created.id);
      tokens.push(key);
      idempotency = 1;
    }
    return { record: write.record, tokens, aliases, outbox: 2, idempotency, deliveries: deliveries.length };
  }

  /** A kept idempotency entry of no record, and one of a record that is not purged. */
  async function unrelatedKey(keys: IdempotencyStore, org: string): Promise<void> {
    const key = id("idem");
    await keys.reserveIdempotencyKey(org, key, { fingerprint: "f", expiresAt: T0 + 400 * DAY, response: null }, T0);
    await keys.completeIdempotencyKey(org, key, { status: 200 });
  }

  /** Every kind of record in every state that matters, in two organizations. */
  async function world(store: Store, org: string) {
    const other = orgId();
    const purged: Made[] = [];
    const kept: Made[] = [];
    for (const owner of [org, other]) {
      for (const { kind, statuses } of PURGEABLE_KINDS) {
        for (const status of statuses) purged.push(await make(store, owner, kind, status, T0));
        kept.push(await make(store, owner, kind, statuses[0]!, BEFORE)); // terminal, but not long enough
        kept.push(await make(store, owner, kind, statuses[0]!, T0, T0 + 1000)); // terminal, with a deadline ahead
        const live = KINDS[kind].statuses.find((status) => !statuses.includes(status))!;
        kept.push(await make(store, owner, kind, live, T0)); // old, but live
      }
      for (const kind of RECORD_KINDS.filter((candidate) => KINDS[candidate].terminal.length === 0)) {
        kept.push(await make(store, owner, kind, KINDS[kind].statuses[0]!, T0)); // a kind that never ends
      }
      const keys = storeIdempotency(store);
      if (keys) await unrelatedKey(keys, owner);
    }
    return { other, purged, kept };
  }

  /** Runs purge on every purgeable kind in batches of `limit`, following the cursor, and sums the counts. */
  async function purgeAll(store: Store, limit: number, dryRun: boolean): Promise<PurgeCounts & { calls: number }> {
    const total = { records: 0, events: 0, deliveries: 0, aliases: 0, idempotency: 0, outbox: 0, calls: 0 };
    for (const { kind, statuses } of PURGEABLE_KINDS) {
      let cursor: string | undefined;
      do {
        const { nextCursor, ...counts } = await store.purge({ kind, statuses, before: BEFORE, limit, dryRun, ...(cursor ? { cursor } : {}) });
        expect(counts.records).toBeLessThanOrEqual(limit);
        for (const name of ["records", "events", "deliveries", "aliases", "idempotency", "outbox"] as const) total[name] += counts[name];
        total.calls++;
        cursor = nextCursor ?? undefined;
      } while (cursor !== undefined);
    }
    return total;
  }

  function expected(purged: readonly Made[]): PurgeCounts {
    return {
      records: purged.length,
      events: purged.reduce((sum, made) => sum + made.record.eventCount, 0),
      deliveries: purged.reduce((sum, made) => sum + made.deliveries, 0),
      aliases: purged.reduce((sum, made) => sum + made.aliases.length, 0),
      idempotency: purged.reduce((sum, made) => sum + made.idempotency, 0),
      outbox: purged.reduce((sum, made) => sum + made.outbox, 0),
    };
  }

  /** Everything a reader sees of each record, to compare before and after. */
  async function views(store: Store, made: readonly Made[]) {
    return Promise.all(
      made.map(async ({ record, aliases }) => ({
        record: await store.get(record.orgId, record.id),
        timeline: await store.timeline(record.orgId, record.id),
        deliveries: await store.deliveryLog(record.orgId, record.id, { limit: 10 }),
        aliases: await Promise.all(aliases.map((alias) => store.resolveAlias(record.orgId, alias))),
      })),
    );
  }

  describe("purge of terminal records", () => {
    it("removes old terminal records with everything of theirs, in bounded batches, and nothing else", async () => {
      const { store, org } = context();
      const { other, purged, kept } = await world(store, org);
      const keptBefore = await views(store, kept);
      const dumpBefore = rawDump ? (await rawDump(store)).sort() : null;
      const lists = async (owner: string) =>
        Promise.all(
          PURGEABLE_KINDS.map(async ({ kind }) => (await store.list(owner, { kind, limit: 100 })).records.map((record) => record.id).sort()),
        );

      // A dry run, one record a call: the same counts as the purge after it, and nothing changes.
      const dry = await purgeAll(store, 1, true);
      expect(dry.calls).toBeGreaterThan(purged.length);
      const { calls: _dryCalls, ...dryCounts } = dry;
      expect(dryCounts).toEqual(expected(purged));
      if (dumpBefore) expect((await rawDump!(store)).sort()).toEqual(dumpBefore);
      expect(await store.get(purged[0]!.record.orgId, purged[0]!.record.id)).toEqual(purged[0]!.record);

      const { calls, ...counts } = await purgeAll(store, 3, false);
      expect(counts).toEqual(expected(purged));
      expect(calls).toBeGreaterThan(PURGEABLE_KINDS.length);

      for (const { record, aliases } of purged) {
        expect(await store.get(record.orgId, record.id), `${record.kind} ${record.status} is gone`).toBeNull();
        expect(await store.timeline(record.orgId, record.id)).toEqual([]);
        expect(await store.deliveryLog(record.orgId, record.id, { limit: 10 })).toEqual({ entries: [], total: 0, nextCursor: null });
        for (const alias of aliases) expect(await store.resolveAlias(record.orgId, alias)).toBeNull();
        if (store.capabilities.unscopedReads) expect(await store.getUnscoped!(record.id)).toBeNull();
      }
      expect(await views(store, kept)).toEqual(keptBefore);
      for (const owner of [org, other]) {
        const keptIds = PURGEABLE_KINDS.map(({ kind }) =>
          kept
            .filter((made) => made.record.kind === kind && made.record.orgId === owner)
            .map((made) => made.record.id)
            .sort(),
        );
        expect(await lists(owner)).toEqual(keptIds);
        for (const { kind } of PURGEABLE_KINDS) {
          const terminal = KINDS[kind].terminal[0]!;
          const page = await store.list(owner, { kind, status: terminal, limit: 100 });
          expect(page.total).toBe(page.records.length);
        }
      }
      // Only the kept records' messages are left to claim.
      const claimed = await store.claimOutbox({ now: T0 + 20 * DAY, limit: 1000, leaseMs: 1000, owner: "purge-test" });
      expect(claimed.length).toBe(kept.reduce((sum, made) => sum + made.outbox, 0));
      // A purge of idempotency entries is seen by a request reusing the key: it runs again.
      const keys = storeIdempotency(store);
      if (keys) {
        const key = purged[0]!.tokens.find((token) => token.startsWith("idem-"))!;
        expect(
          await keys.reserveIdempotencyKey(purged[0]!.record.orgId, key, { fingerprint: "g", expiresAt: T0 + 2, response: null }, T0 + 1),
        ).toBeNull();
        await keys.releaseIdempotencyKey(purged[0]!.record.orgId, key);
      }

      if (dumpBefore) {
        // On the storage itself: no entry names anything of a purged record, and every other entry is as it was.
        const purgedTokens = purged.flatMap((made) => made.tokens);
        const names = (entry: string) => purgedTokens.some((token) => entry.includes(token));
        const after = (await rawDump!(store)).sort();
        // The claim above leased the kept messages: compare with the dump taken before it.
        const leased = new Set(claimed.map((entry) => entry.id));
        const unleased = (entries: string[]) => entries.filter((entry) => ![...leased].some((message) => entry.includes(message)));
        expect(after.filter(names)).toEqual([]);
        expect(unleased(after)).toEqual(unleased(dumpBefore.filter((entry) => !names(entry))));
        for (const made of kept)
          expect(
            after.some((entry) => entry.includes(made.record.id)),
            `${made.record.id} is still stored`,
          ).toBe(true);
      }

      // Nothing is left to purge.
      const { calls: _again, ...none } = await purgeAll(store, 100, false);
      expect(none).toEqual({ records: 0, events: 0, deliveries: 0, aliases: 0, idempotency: 0, outbox: 0 });
    });

    it("removes each record once when several purges run at once", async () => {
      const { store, org } = context();
      const made = await Promise.all(Array.from({ length: 6 }, () => make(store, org, "workflow", "completed", T0)));
      const purger = async () => {
        const total = { records: 0, events: 0 };
        for (;;) {
          const result = await store.purge({ kind: "workflow", statuses: ["completed"], before: BEFORE, limit: 1 });
          total.records += result.records;
          total.events += result.events;
          if (result.records === 0) return total;
        }
      };
      const totals = await Promise.all([purger(), purger(), purger()]);
      expect(totals.reduce((sum, total) => sum + total.records, 0)).toBe(made.length);
      expect(totals.reduce((sum, total) => sum + total.events, 0)).toBe(expected(made).events);
      for (const { record } of made) expect(await store.get(org, record.id)).toBeNull();
    });

    it("keeps a record whose status is not among the statuses given", async () => {
      const { store, org } = context();
      const made = await make(store, org, "workflow", "completed", T0);
      const result = await store.purge({ kind: "workflow", statuses: ["failed"], before: BEFORE, limit: 10 });
      expect(result).toEqual({ records: 0, events: 0, deliveries: 0, aliases: 0, idempotency: 0, outbox: 0, nextCursor: null });
      expect(await store.purge({ kind: "thread", statuses: ["completed"], before: BEFORE, limit: 10 })).toMatchObject({ records: 0 });
      expect(await store.get(org, made.record.id)).toEqual(made.record);
    });

    it("refuses a limit below 1 and a cursor that is none of its own, naming the field", async () => {
      const { store } = context();
      await expect(store.purge({ kind: "workflow", statuses: ["completed"], before: BEFORE, limit: 0 })).rejects.toThrow(/limit/);
      await expect(store.purge({ kind: "workflow", statuses: ["completed"], before: BEFORE, limit: 10, cursor: "nonsense" })).rejects.toMatchObject({
        name: InvalidInputError.name,
        field: "cursor",
      });
    });
  });
}
