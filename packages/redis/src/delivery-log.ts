import { type DeliveryLogEntry, type DeliveryLogPage, InvalidInputError } from "@agent-sessions/core";
import { assertOrgId, type KeySpace } from "./keys.js";

/** One call of the log script: the key that routes it, and its arguments. */
export interface DeliveryWrite {
  readonly key: string;
  readonly args: (string | number)[];
}

/**
 * The calls that write `entries` (see `LOG_DELIVERIES_SCRIPT`): one for them all, or on Redis
 * Cluster (`bySlot`) one a bucket. Every entry is checked and serialized first, so one that
 * cannot be throws here and nothing reaches Redis.
 */
export function deliveryWrites(keys: KeySpace, entries: readonly DeliveryLogEntry[], bySlot: boolean): DeliveryWrite[] {
  const writes = new Map<string, DeliveryWrite>();
  entries.forEach((entry, index) => {
    const args = entryArgs(keys, entry, `entries[${index}]`);
    const group = bySlot ? keys.bucket(entry.orgId) : "";
    const write = writes.get(group);
    if (write) write.args.push(...args);
    else writes.set(group, { key: keys.deliveries(entry.orgId), args });
  });
  return [...writes.values()];
}

/** One entry's arguments: organization base, id, webhookId, startedAt, stored JSON head, data JSON. */
function entryArgs(keys: KeySpace, entry: DeliveryLogEntry, field: string): (string | number)[] {
  assertOrgId(entry.orgId);
  for (const name of ["id", "webhookId"] as const) {
    if (typeof entry[name] !== "string" || entry[name].length === 0) throw new InvalidInputError(`${field}.${name}`, "must be a non-empty string");
  }
  if (!Number.isFinite(entry.startedAt)) throw new InvalidInputError(`${field}.startedAt`, "must be a finite number of milliseconds");
  const data = JSON.stringify(entry.data);
  if (data === undefined) throw new InvalidInputError(`${field}.data`, "must be a JSON value");
  // `data` last: the script keeps this head when a later write replaces the data.
  const head = `{"webhookId":${JSON.stringify(entry.webhookId)},"startedAt":${JSON.stringify(entry.startedAt)},"data":`;
  return [keys.org(entry.orgId), entry.id, entry.webhookId, entry.startedAt, head, data];
}

/** A delivery log cursor: `<startedAt>:<id>` of the last entry of the previous page. */
export function deliveryCursor(entry: DeliveryLogEntry): string {
  return `${entry.startedAt}:${entry.id}`;
}

/** A delivery log cursor back as its parts; anything else is none of this store's cursors. */
export function parseDeliveryCursor(cursor: string): { score: string; id: string } {
  const match = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?):(.+)$/i.exec(cursor);
  if (!match) throw new InvalidInputError("cursor", "must be the nextCursor of a previous page of the delivery log");
  return { score: match[1]!, id: match[2]! };
}

/** The delivery log script's answer (total, more, then id and stored JSON each) as a page. */
export function readDeliveryPage(orgId: string, reply: readonly (string | number)[]): DeliveryLogPage {
  const [total, more] = reply as [number, number];
  const entries: DeliveryLogEntry[] = [];
  for (let i = 2; i < reply.length; i += 2) {
    const stored = JSON.parse(reply[i + 1] as string) as Omit<DeliveryLogEntry, "orgId" | "id">;
    entries.push({ orgId, webhookId: stored.webhookId, id: reply[i] as string, startedAt: stored.startedAt, data: stored.data });
  }
  const last = entries.at(-1);
  return { entries, total, nextCursor: more === 1 && last ? deliveryCursor(last) : null };
}
