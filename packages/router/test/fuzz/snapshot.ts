// What both organizations hold in the store, read through the store contract itself: every list's
// total and every record as stored (status, version, event count, deadline, state). Compared
// before and after a refused request, it shows a write a 4xx left behind.
import { RECORD_KINDS, type RecordKind, type Store, type StoredRecord } from "@agent-sessions/core";

/** Every kind of record the store keeps, from core's own schema of them. */
const PAGE = 100;
/** Between a snapshot entry's header and the record's data: JSON text never holds a raw line break. */
const HEADER_END = "\n";

/** Every list total and record of some organizations: `org/kind` → total, `org/id` → the record as JSON. */
export type Snapshot = ReadonlyMap<string, string>;

async function listAll(store: Store, orgId: string, kind: RecordKind): Promise<{ total: number; records: StoredRecord[] }> {
  const first = await store.list(orgId, { kind, limit: PAGE });
  const records = [...first.records];
  let cursor = first.nextCursor;
  // A run makes tens of records of a kind, so one page is the rule and the loop the exception.
  while (cursor !== null && records.length < 5000) {
    const page = await store.list(orgId, { kind, limit: PAGE, cursor });
    records.push(...page.records);
    cursor = page.nextCursor;
  }
  return { total: first.total, records };
}

/** Reads every list of every kind of each organization, all at once. */
export async function snapshot(store: Store, orgIds: readonly string[]): Promise<Snapshot> {
  const lists = await Promise.all(
    orgIds.flatMap((orgId) => RECORD_KINDS.map(async (kind) => ({ orgId, kind, ...(await listAll(store, orgId, kind)) }))),
  );
  const entries = new Map<string, string>();
  for (const { orgId, kind, total, records } of lists) {
    entries.set(`${orgId}/${kind} total`, String(total));
    for (const record of records) {
      const { status, version, eventCount, dueAt, updatedAt, data } = record;
      entries.set(`${orgId}/${record.id}`, `${JSON.stringify({ status, version, eventCount, dueAt, updatedAt })}${HEADER_END}${jsonOf(data)}`);
    }
  }
  return entries;
}

class Literal {
  constructor(readonly text: string) {}
}

/**
 * JSON text of a stored value, written without recursion: a store may hold (until the boundary
 * of issue 16 item 1 is in) a value nested deeper than `JSON.stringify`'s stack allows.
 */
export function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "undefined";
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof Literal) out.push(item.text);
    else if (item === null || typeof item !== "object") out.push(JSON.stringify(item) ?? "null");
    else if (Array.isArray(item)) {
      stack.push(new Literal("]"));
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i], ...(i > 0 ? [new Literal(",")] : []));
      stack.push(new Literal("["));
    } else {
      const keys = Object.keys(item);
      stack.push(new Literal("}"));
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push((item as Record<string, unknown>)[keys[i]!], new Literal(`${i > 0 ? "," : ""}${JSON.stringify(keys[i])}:`));
      stack.push(new Literal("{"));
    }
  }
  return out.join("");
}

/** The differences between two snapshots, each as `key: before → after`. */
export function differences(before: Snapshot, after: Snapshot): string[] {
  const changed: string[] = [];
  const clip = (text: string | undefined) => (text === undefined ? "(absent)" : text.length > 300 ? `${text.slice(0, 300)}…` : text);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(key) !== after.get(key)) changed.push(`${key}: ${clip(before.get(key))} → ${clip(after.get(key))}`);
  }
  return changed;
}

/** The index header of a record as a snapshot keeps it: what the store itself reads. */
export function recordHeader(entry: string): { status: string; version: number; eventCount: number; dueAt: number | null } {
  return JSON.parse(entry.slice(0, entry.indexOf(HEADER_END))) as ReturnType<typeof recordHeader>;
}

/** Whether a record's only change is `created → open` by one event: what showing a hosted form does. */
export function onlyOpened(before: Snapshot, after: Snapshot, key: string): boolean {
  const was = before.get(key);
  const now = after.get(key);
  if (was === undefined || now === undefined) return false;
  const a = recordHeader(was);
  const b = recordHeader(now);
  return a.status === "created" && b.status === "open" && b.version === a.version + 1 && b.eventCount === a.eventCount + 1;
}
