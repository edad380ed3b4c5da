import type { Store } from "@agent-sessions/core";
import { runStoreConformance } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";

/** The memory store's maps, which are its storage, as the raw dump's entries: one a record, alias, message, key or listed id (the counts by status, derived from the records, are left out: they change with any record). */
async function rawDump(store: Store): Promise<string[]> {
  const inner = store as unknown as {
    records: Map<string, { index: { ids: string[] } } & Record<string, unknown>>;
    aliases: Map<string, string>;
    outbox: Map<string, unknown>;
    idempotencyKeys: { entries: Map<string, unknown>; creations: Map<string, string> };
    indexes: Map<string, Map<string, { ids: string[] }>>;
    deliveryLogs: { logs: Map<string, unknown[]>; byId: Map<string, Map<string, unknown>> };
  };
  const entries: string[] = [];
  for (const [id, { index: _index, ...slot }] of inner.records) entries.push(`record ${id} ${JSON.stringify(slot)}`);
  for (const [key, id] of inner.aliases) entries.push(`alias ${JSON.stringify(key)} ${id}`);
  for (const [id, slot] of inner.outbox) entries.push(`outbox ${id} ${JSON.stringify(slot)}`);
  for (const [key, entry] of inner.idempotencyKeys.entries) entries.push(`idempotency ${JSON.stringify(key)} ${JSON.stringify(entry)}`);
  for (const [key, id] of inner.idempotencyKeys.creations) entries.push(`idempotency-record ${JSON.stringify(key)} ${id}`);
  for (const [org, kinds] of inner.indexes) {
    for (const [kind, index] of kinds) {
      for (const id of index.ids) entries.push(`index ${org} ${kind} ${id}`);
    }
  }
  for (const [key, log] of inner.deliveryLogs.logs)
    for (const entry of log) entries.push(`delivery-log ${JSON.stringify(key)} ${JSON.stringify(entry)}`);
  for (const [org, ids] of inner.deliveryLogs.byId) {
    for (const [id, entry] of ids) entries.push(`delivery-log-id ${org} ${id} ${JSON.stringify(entry)}`);
  }
  return entries;
}

await runStoreConformance({ name: "memory", create: () => new MemoryStore(), test: vitest, rawDump });
