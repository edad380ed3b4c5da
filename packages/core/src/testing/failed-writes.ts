import type { RecordWrite, Store, StoredRecord } from "../store.js";
import { events, next, outboxMessage, record, seed, T0 } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

/** What a test of the suite runs on: a fresh store, and an organization of its own. */
export interface SuiteContext {
  readonly store: Store;
  readonly org: string;
}

/** Values no store can serialize or copy, each made fresh: a write holding one must throw. */
export const POISONS: ReadonlyArray<readonly [name: string, make: () => unknown]> = [
  [
    "a getter that throws",
    () =>
      Object.defineProperty({}, "value", {
        enumerable: true,
        get() {
          throw new Error("poisoned getter");
        },
      }),
  ],
  [
    "a toJSON that throws",
    () => ({
      toJSON() {
        throw new Error("poisoned toJSON");
      },
    }),
  ],
  ["a BigInt", () => ({ big: BigInt(10) })],
];

type Place = "data" | "event" | "outbox";

const PLACES: ReadonlyArray<readonly [Place, string]> = [
  ["data", "the record's data"],
  ["event", "the last event's payload"],
  ["outbox", "the last outbox message's payload"],
];

/** `write` with `poison` added last to one of its parts, after values that serialize fine. */
function poisoned(write: RecordWrite, place: Place, poison: unknown): RecordWrite {
  if (place === "data") return { ...write, record: { ...write.record, data: { ...(write.record.data as object), poison } } };
  if (place === "event") {
    const last = write.events.at(-1)!;
    return { ...write, events: [...write.events.slice(0, -1), { ...last, payload: { ...last.payload, poison } }] };
  }
  const outbox = write.outbox!;
  const last = outbox.at(-1)!;
  return { ...write, outbox: [...outbox.slice(0, -1), { ...last, payload: { ...last.payload, poison } }] };
}

/** Everything a reader can see of `ids` and `aliases` in `org`: records (by id alone too, when the store can), timelines, aliases, every list, the due ids. */
async function observe(store: Store, org: string, ids: readonly string[], aliases: readonly string[]) {
  const lists = [];
  for (const status of [undefined, "active", "completed", "failed"]) {
    lists.push(await store.list(org, { kind: "workflow", limit: 50, ...(status === undefined ? {} : { status }) }));
  }
  return {
    records: await Promise.all(ids.map((id) => store.get(org, id))),
    unscoped: store.capabilities.unscopedReads ? await Promise.all(ids.map((id) => store.getUnscoped!(id))) : [],
    timelines: await Promise.all(ids.map((id) => store.timeline(org, id))),
    aliases: await Promise.all(aliases.map((alias) => store.resolveAlias(org, alias))),
    lists,
    due: await store.listDue(org, "workflow", T0, 10),
  };
}

/** A new record's insert with two events, an alias, a deadline and two outbox messages. */
function insertWrite(org: string): RecordWrite {
  const base = record({ orgId: org, status: "failed", dueAt: T0, data: { note: "inserted", nested: { list: [1, 2] } } });
  const created = events(base, ["session.created", "session.noted"]);
  return {
    record: { ...base, eventCount: created.length },
    events: created,
    aliases: ["alias:new"],
    outbox: [outboxMessage(org), outboxMessage(org)],
  };
}

/** The next version of `kept` with two events, an alias, a deadline and two outbox messages. */
function updateWrite(kept: StoredRecord): RecordWrite & { expectedVersion: number } {
  const write = next(
    kept,
    { status: "failed", dueAt: T0, data: { note: "updated", nested: { list: [1, 2] } } },
    ["session.noted", "session.failed"],
    [outboxMessage(kept.orgId), outboxMessage(kept.orgId)],
  );
  return { ...write, aliases: ["alias:new"] };
}

/**
 * Writes that throw half-way (a value that cannot be serialized or copied, in the record, an
 * event or an outbox message) leave every record, timeline, alias, list, deadline and outbox
 * message as it was, and the same write without that value then goes through whole.
 */
export function describeFailedWrites(test: TestRunner, context: () => SuiteContext): void {
  const { describe, it, expect } = test;
  describe("writes that throw half-way", () => {
    for (const operation of ["insert", "compareAndSet"] as const) {
      for (const [place, where] of PLACES) {
        it(`${operation}: a value in ${where} that cannot be serialized leaves nothing behind`, async () => {
          const { store, org } = context();
          const queued = outboxMessage(org);
          const kept = await seed(store, { orgId: org }, { aliases: ["alias:kept"], outbox: [queued] });
          await seed(store, { orgId: org, status: "completed" });
          const write = operation === "insert" ? insertWrite(org) : updateWrite(kept);
          const apply = (attempt: RecordWrite) =>
            operation === "insert" ? store.insert(attempt) : store.compareAndSet({ ...attempt, expectedVersion: kept.version });
          const watched = [kept.id, write.record.id];
          const aliases = ["alias:kept", "alias:new"];
          const before = await observe(store, org, watched, aliases);

          for (const [poison, make] of POISONS) {
            await expect(apply(poisoned(write, place, make())), poison).rejects.toThrow();
            expect(await observe(store, org, watched, aliases), poison).toEqual(before);
          }
          expect(await store.claimDue({ now: T0, limit: 10, leaseMs: 1000, owner: "w" })).toEqual([]);
          const claimed = await store.claimOutbox({ now: T0, limit: 10, leaseMs: 1000, owner: "w" });
          expect(claimed.map((entry) => entry.id)).toEqual([queued.id]);

          expect(await apply(write)).toEqual(operation === "insert" ? { ok: true } : true);
          expect(await store.get(org, write.record.id)).toEqual(write.record);
          expect((await store.timeline(org, write.record.id)).slice(-2)).toEqual(write.events);
          expect(await store.resolveAlias(org, "alias:new")).toBe(write.record.id);
          expect((await store.list(org, { kind: "workflow", status: "failed", limit: 10 })).total).toBe(1);
          expect(await store.listDue(org, "workflow", T0, 10)).toEqual([write.record.id]);
          const due = await store.claimDue({ now: T0, limit: 10, leaseMs: 1000, owner: "w" });
          expect(due.map((claim) => claim.id)).toEqual([write.record.id]);
          const later = await store.claimOutbox({ now: T0, limit: 10, leaseMs: 1000, owner: "w2" });
          expect(new Set(later.map((entry) => entry.id))).toEqual(new Set(write.outbox!.map((message) => message.id)));
        });
      }
    }

    // A write larger than one command or statement of the store takes: Redis's Lua, for one,
    // cannot unpack 9,000 values into one call, and SQL databases bound a statement's parameters.
    it("writes a transition of 9,000 events whole or not at all", async () => {
      const { store, org } = context();
      const kept = await seed(store, { orgId: org });
      const types = Array.from({ length: 9000 }, (_, i) => `bulk.${i}`);
      const write = next(kept, { status: "completed" }, types);
      const outcome = await store.compareAndSet(write).catch((error: unknown) => error);
      const after = await store.get(org, kept.id);
      const timeline = await store.timeline(org, kept.id);
      const completed = await store.list(org, { kind: "workflow", status: "completed", limit: 10 });
      if (outcome === true) {
        expect(after).toEqual(write.record);
        expect(timeline).toHaveLength(types.length + 1);
        expect(completed.total).toBe(1);
      } else {
        expect(outcome).toBeInstanceOf(Error);
        expect(after).toEqual(kept);
        expect(timeline).toHaveLength(1);
        expect(completed.total).toBe(0);
      }
    });

    it("inserts a record with 9,000 events whole or not at all", async () => {
      const { store, org } = context();
      const base = record({ orgId: org });
      const created = events(
        base,
        Array.from({ length: 9000 }, (_, i) => `bulk.${i}`),
      );
      const write = { record: { ...base, eventCount: created.length }, events: created, aliases: ["alias:bulk"] };
      const outcome = await store.insert(write).catch((error: unknown) => error);
      const after = await store.get(org, base.id);
      const listed = await store.list(org, { kind: "workflow", limit: 10 });
      if (outcome instanceof Error) {
        expect(after).toBeNull();
        if (store.capabilities.unscopedReads) expect(await store.getUnscoped!(base.id)).toBeNull();
        expect(await store.timeline(org, base.id)).toEqual([]);
        expect(await store.resolveAlias(org, "alias:bulk")).toBeNull();
        expect(listed.total).toBe(0);
      } else {
        expect(outcome).toEqual({ ok: true });
        expect(after).toEqual(write.record);
        expect(await store.timeline(org, base.id)).toHaveLength(created.length);
        expect(await store.resolveAlias(org, "alias:bulk")).toBe(base.id);
        expect(listed.total).toBe(1);
      }
    });
  });
}
