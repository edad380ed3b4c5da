import { isAgentSessionsError } from "../errors.js";
import { createIdGenerator, eventId } from "../ids.js";
import type { RecordKind } from "../kinds/index.js";
import type { SessionEvent } from "../schemas/event.js";
import type { OutboxMessage, RecordWrite, Store, StoredRecord } from "../store.js";

/** A fixed moment the suite's clocks start from; stores never read a clock of their own. */
export const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

const newId = createIdGenerator();

/** A fresh organization id, so tests sharing a namespace never see each other. */
export function orgId(): string {
  return newId("org");
}

/** A new id with `prefix`. */
export function id(prefix = "sess"): string {
  return newId(prefix);
}

/** A record header and data as the engine would write them. */
export function record(overrides: Partial<StoredRecord> & { orgId: string }): StoredRecord {
  const recordId = overrides.id ?? id();
  return {
    id: recordId,
    kind: "workflow",
    status: "active",
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    dueAt: null,
    eventCount: 0,
    data: { id: recordId, note: "fixture" },
    ...overrides,
  };
}

/** Events numbered after `previous.eventCount`, as the engine numbers them. */
export function events(target: Pick<StoredRecord, "id" | "orgId" | "kind" | "eventCount">, types: string[], at = T0): SessionEvent[] {
  return types.map((type, index) => {
    const seq = target.eventCount + index + 1;
    return {
      id: eventId(target.id, seq, at),
      orgId: target.orgId,
      recordId: target.id,
      kind: target.kind,
      seq,
      type,
      at,
      payload: { n: seq },
    };
  });
}

/** Inserts a record with one `session.created` event and returns it as stored. */
export async function seed(
  store: Store,
  overrides: Partial<StoredRecord> & { orgId: string },
  extra: Partial<Pick<RecordWrite, "aliases" | "outbox">> = {},
): Promise<StoredRecord> {
  const base = record({ ...overrides, eventCount: 0 });
  const created = events(base, ["session.created"], base.createdAt);
  const stored = { ...base, eventCount: created.length };
  const result = await store.insert({ record: stored, events: created, ...extra });
  if (!result.ok) throw new Error(`seed: ${result.taken} already exists`);
  return stored;
}

/** The next version of `previous` with `changes` and `types` as its new events. */
export function next(
  previous: StoredRecord,
  changes: Partial<StoredRecord>,
  types: string[],
  outbox: OutboxMessage[] = [],
): RecordWrite & { expectedVersion: number } {
  const appended = events(previous, types, changes.updatedAt ?? previous.updatedAt);
  return {
    record: {
      ...previous,
      ...changes,
      version: previous.version + 1,
      eventCount: previous.eventCount + appended.length,
    },
    events: appended,
    outbox,
    expectedVersion: previous.version,
  };
}

/** An outbox message available at `availableAt`. */
export function outboxMessage(org: string, availableAt = T0, topic = "webhook"): OutboxMessage {
  return { id: id("obx"), orgId: org, topic, payload: { hello: "world", n: 1 }, availableAt };
}

/** Runs `count` calls of `task` at once and waits for all. */
export function concurrently<T>(count: number, task: (index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => task(index)));
}

/** One call's answer in a race: its value, or the stable code and message of the error it was refused with. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * Runs `count` calls at once. A refusal is an outcome; anything but an `AgentSessionsError` (a
 * 5xx to a client) fails the test.
 */
export async function race<T>(count: number, call: (index: number) => Promise<T>): Promise<Outcome<T>[]> {
  return concurrently(count, async (index): Promise<Outcome<T>> => {
    try {
      return { ok: true, value: await call(index) };
    } catch (error) {
      if (!isAgentSessionsError(error) || error.code === "internal") throw error;
      return { ok: false, code: error.code, message: error.message };
    }
  });
}

/** Metadata of about `bytes` UTF-8 bytes full of characters that trip serializers. */
export function awkwardMetadata(bytes: number): Record<string, unknown> {
  const tricky = 'ünïcödé ✓ 漢字 🎉 "quotes" \\back\\slash\\ \n\t\r </script> \u2028\u2029 null \u0001';
  const metadata: Record<string, unknown> = {
    nested: { deep: { deeper: [1, 2.5, -3, 1e21, true, false, null, "x"] } },
    emptyString: "",
    emptyObject: {},
    emptyArray: [],
    maxSafe: Number.MAX_SAFE_INTEGER,
  };
  let i = 0;
  while (new TextEncoder().encode(JSON.stringify(metadata)).length < bytes - 200) {
    metadata[`key_${i++}`] = tricky;
  }
  return metadata;
}

export type { RecordKind };
