import type { Store } from "@agent-sessions/core";

/**
 * Everything a `MemoryStore` holds, one text per field of the store (its maps of records, aliases,
 * indexes, outbox and idempotency keys), with maps and sets spelled out as arrays: the memory
 * store's raw rows, for the conformance tests that look for what must not be stored.
 */
export async function rawDump(store: Store): Promise<string[]> {
  const seen = new WeakSet<object>();
  const replacer = (_key: string, value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return typeof value === "function" ? undefined : value;
    if (seen.has(value)) return "[shown above]";
    seen.add(value);
    if (value instanceof Map) return [...value];
    if (value instanceof Set) return [...value];
    return value;
  };
  return Object.entries(store).map(([field, value]) => `${field}: ${JSON.stringify(value, replacer)}`);
}
