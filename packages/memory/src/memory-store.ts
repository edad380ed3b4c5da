import {
  assertPurgeOptions,
  assertRecordLimit,
  type ClaimOptions,
  createMemoryNotifier,
  type DeliveryLogEntry,
  type DeliveryLogPage,
  type DeliveryLogQuery,
  type DueClaim,
  type IdempotencyEntry,
  type InsertResult,
  InvalidInputError,
  isRecordId,
  type LimitedInsertResult,
  type ListRecordsQuery,
  MemoryIdempotencyStore,
  type OutboxEntry,
  type OutboxLease,
  type OutboxMessage,
  type PurgeOptions,
  type PurgeResult,
  type RecordKind,
  type RecordLimit,
  type RecordPage,
  type RecordWrite,
  type RenewOptions,
  type SessionEvent,
  type Store,
  type StoreCapabilities,
  type StoredRecord,
  type StoreNotifier,
} from "@agent-sessions/core";
import { deepFreeze } from "./deep-freeze.js";
import { DeliveryLogs } from "./delivery-logs.js";
import { IdIndex } from "./id-index.js";
import { LeaseQueue } from "./lease-queue.js";

/**
 * A record as kept: its index header, its state and its events, all deeply frozen. The engine's
 * machines never change a state they are given, so frozen states are shared, not copied, and the
 * parts a transition did not change stay shared between versions.
 */
interface Slot {
  id: string;
  orgId: string;
  kind: StoredRecord["kind"];
  status: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  dueAt: number | null;
  eventCount: number;
  data: unknown;
  events: SessionEvent[];
  leaseOwner: string | null;
  leaseUntil: number;
  generation: number;
  /** Moves on when `dueAt` does: tells the current entry in `index.deadlines` from stale ones. */
  dueGeneration: number;
  /** The index of the record's organization and kind, which also counts its statuses and keeps its deadlines. */
  index: IdIndex<Slot>;
}

interface OutboxSlot {
  message: OutboxMessage;
  /** The record whose write enqueued it. */
  recordId: string;
  attempts: number;
  lastError: string | null;
  leaseOwner: string | null;
  leaseUntil: number;
  generation: number;
}

export interface MemoryStoreOptions {
  /** Refuses writes past this many records, as a guard for long-running tests. Default: none. */
  readonly maxRecords?: number;
}

/**
 * The in-memory store: every guarantee of the Store contract, and every capability, within one
 * process. For tests and single-process use; nothing survives a restart.
 */
export class MemoryStore implements Store {
  readonly capabilities: StoreCapabilities = { unscopedReads: true, idempotency: true, notifier: true };
  private readonly records = new Map<string, Slot>();
  private readonly aliases = new Map<string, string>();
  /** Per organization, per kind: nested maps, so finding one builds no key string. */
  private readonly indexes = new Map<string, Map<string, IdIndex<Slot>>>();
  private readonly due = new LeaseQueue<Slot>(generationOf);
  private readonly outbox = new Map<string, OutboxSlot>();
  private readonly outboxQueue = new LeaseQueue<OutboxSlot>(generationOf);
  private readonly idempotencyKeys = new MemoryIdempotencyStore();
  private readonly deliveryLogs = new DeliveryLogs();
  /** Where the notifiers `createNotifier` makes meet. */
  private readonly announcements = createMemoryNotifier();
  private readonly maxRecords: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
  }

  /** How many records the store holds. */
  get size(): number {
    return this.records.size;
  }

  async insert(write: RecordWrite): Promise<InsertResult> {
    const taken = this.taken(write);
    if (taken !== null) return { ok: false, taken };
    this.add(write);
    return { ok: true };
  }

  async insertWithinLimit(write: RecordWrite, limit: RecordLimit): Promise<LimitedInsertResult> {
    assertRecordLimit(limit);
    // One synchronous step from the count to the insert: no other caller runs in between.
    const index = this.indexes.get(write.record.orgId)?.get(write.record.kind);
    if ((index?.count(limit.status) ?? 0) >= limit.max) return { ok: false, full: true };
    const taken = this.taken(write);
    if (taken !== null) return { ok: false, taken };
    this.add(write);
    return { ok: true };
  }

  async compareAndSet(write: RecordWrite & { expectedVersion: number }): Promise<boolean> {
    const { record } = write;
    const slot = this.records.get(record.id);
    if (!slot || slot.orgId !== record.orgId || slot.version !== write.expectedVersion) return false;
    for (const alias of write.aliases ?? []) {
      const owner = this.aliases.get(aliasKey(record.orgId, alias));
      if (owner !== undefined && owner !== record.id) return false;
    }
    // Everything that can throw (a value that is not JSON, a getter that throws) runs before the
    // first change, so a write that throws leaves the record as it was.
    const data = deepFreeze(record.data);
    const appended = write.events.map(deepFreeze);
    const outbox = this.outboxSlots(record.id, write.outbox);
    const moved = slot.dueAt !== record.dueAt;
    slot.index.recount(slot.status, record.status);
    slot.status = record.status;
    slot.version = record.version;
    slot.updatedAt = record.updatedAt;
    slot.dueAt = record.dueAt;
    slot.eventCount = record.eventCount;
    slot.data = data;
    slot.leaseOwner = null;
    slot.leaseUntil = 0;
    for (const event of appended) slot.events.push(event);
    for (const alias of write.aliases ?? []) this.aliases.set(aliasKey(record.orgId, alias), record.id);
    this.queueDue(slot, moved);
    this.enqueue(outbox);
    return true;
  }

  async get(orgId: string, id: string): Promise<StoredRecord | null> {
    const slot = this.records.get(id);
    return slot && slot.orgId === orgId ? toRecord(slot) : null;
  }

  async getUnscoped(id: string): Promise<StoredRecord | null> {
    const slot = this.records.get(id);
    return slot ? toRecord(slot) : null;
  }

  async resolveAlias(orgId: string, alias: string): Promise<string | null> {
    return this.aliases.get(aliasKey(orgId, alias)) ?? null;
  }

  async list(orgId: string, query: ListRecordsQuery): Promise<RecordPage> {
    // This store's cursor is the id of a page's last record: any other text is none of its cursors.
    if (query.cursor !== undefined && !isRecordId(query.cursor)) {
      throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
    }
    const index = this.indexes.get(orgId)?.get(query.kind);
    if (!index) return { records: [], total: 0, nextCursor: null };
    const total = index.count(query.status);
    const ids = index.ids;
    let position = query.cursor !== undefined ? index.firstAtOrAfter(query.cursor) - 1 : ids.length - 1;
    let skip = query.cursor !== undefined ? 0 : (query.offset ?? 0);
    const records: StoredRecord[] = [];
    if (query.status === undefined && skip > 0) {
      position -= skip;
      skip = 0;
    }
    let last: Slot | undefined;
    let more = false;
    for (; position >= 0; position--) {
      const slot = this.records.get(ids[position]!)!;
      if (query.status !== undefined && slot.status !== query.status) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      if (records.length === query.limit) {
        more = true;
        break;
      }
      records.push(toRecord(slot));
      last = slot;
    }
    return { records, total, nextCursor: more && last ? last.id : null };
  }

  async timeline(orgId: string, id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<SessionEvent[]> {
    const slot = this.records.get(id);
    if (!slot || slot.orgId !== orgId) return [];
    const start = Math.max(0, options.afterSeq ?? 0);
    const end = options.limit === undefined ? slot.events.length : start + options.limit;
    return slot.events.slice(start, end);
  }

  async claimDue(options: ClaimOptions): Promise<DueClaim[]> {
    const claimed = this.due.take(options.now, options.limit, (slot) => slot.dueAt !== null);
    return claimed.map((slot) => {
      slot.leaseOwner = options.owner;
      slot.leaseUntil = options.now + options.leaseMs;
      slot.generation++;
      this.due.push(slot, slot.leaseUntil);
      return { orgId: slot.orgId, id: slot.id, kind: slot.kind, dueAt: slot.dueAt!, leaseUntil: slot.leaseUntil, record: toRecord(slot) };
    });
  }

  async listDue(orgId: string, kind: RecordKind, now: number, limit: number): Promise<string[]> {
    const index = this.indexes.get(orgId)?.get(kind);
    return index ? index.deadlines.peek(now, limit).map((slot) => slot.id) : [];
  }

  async claimOutbox(options: ClaimOptions & { topic?: string }): Promise<OutboxEntry[]> {
    const topic = options.topic;
    const claimed = this.outboxQueue.take(options.now, options.limit, (slot) => (topic === undefined ? true : slot.message.topic === topic));
    return claimed.map((slot) => {
      slot.leaseOwner = options.owner;
      slot.leaseUntil = options.now + options.leaseMs;
      slot.attempts++;
      slot.generation++;
      this.outboxQueue.push(slot, slot.leaseUntil);
      return {
        ...slot.message,
        attempts: slot.attempts,
        lastError: slot.lastError,
        leaseOwner: options.owner,
        leaseUntil: slot.leaseUntil,
      };
    });
  }

  async settleOutbox(id: string, owner: string, outcome: { retryAt?: number; error?: string }): Promise<boolean> {
    const slot = this.outbox.get(id);
    if (!slot || slot.leaseOwner !== owner) return false;
    slot.generation++;
    if (outcome.retryAt === undefined) {
      this.outbox.delete(id);
      return true;
    }
    slot.lastError = outcome.error ?? null;
    slot.leaseOwner = null;
    slot.leaseUntil = 0;
    slot.message = Object.freeze({ ...slot.message, availableAt: outcome.retryAt });
    this.outboxQueue.push(slot, outcome.retryAt);
    return true;
  }

  async renewOutbox(options: RenewOptions): Promise<string[]> {
    const renewed: string[] = [];
    for (const id of options.ids) {
      const slot = this.outbox.get(id);
      if (!slot || slot.leaseOwner !== options.owner) continue;
      slot.leaseUntil = options.now + options.leaseMs;
      slot.generation++; // the old lease end goes stale in the queue
      this.outboxQueue.push(slot, slot.leaseUntil);
      renewed.push(id);
    }
    return renewed;
  }

  async outboxLeases(ids: readonly string[]): Promise<OutboxLease[]> {
    const leases: OutboxLease[] = [];
    for (const id of ids) {
      const slot = this.outbox.get(id);
      if (slot) leases.push({ id, attempts: slot.attempts, leaseOwner: slot.leaseOwner, leaseUntil: slot.leaseUntil });
    }
    return leases;
  }

  async logDeliveries(entries: readonly DeliveryLogEntry[]): Promise<void> {
    this.deliveryLogs.write(entries);
  }

  async deliveryLog(orgId: string, webhookId: string, query: DeliveryLogQuery): Promise<DeliveryLogPage> {
    return this.deliveryLogs.page(orgId, webhookId, query);
  }

  /**
   * Visits the records of the kind in organizations that have some in those statuses, oldest last write first, and
   * removes the matching ones with their events, aliases, idempotency entries and waiting outbox
   * messages in one synchronous step. The cursor is the last visited record's `updatedAt:id`.
   */
  async purge(options: PurgeOptions): Promise<PurgeResult> {
    assertPurgeOptions(options);
    const after = options.cursor === undefined ? null : parseCursor(options.cursor);
    const statuses = new Set(options.statuses);
    const matching: Slot[] = [];
    for (const kinds of this.indexes.values()) {
      const index = kinds.get(options.kind);
      // An organization with none of the kind in those statuses costs a few counts, not a visit of its records.
      if (!index || options.statuses.every((status) => index.count(status) === 0)) continue;
      for (const id of index.ids) {
        const slot = this.records.get(id)!;
        if (!statuses.has(slot.status) || slot.updatedAt >= options.before || slot.dueAt !== null) continue;
        if (after && (slot.updatedAt < after.at || (slot.updatedAt === after.at && slot.id <= after.id))) continue;
        matching.push(slot);
      }
    }
    matching.sort((a, b) => a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const batch = matching.slice(0, options.limit);
    const last = batch.at(-1);
    const nextCursor = batch.length === options.limit && last ? `${last.updatedAt}:${last.id}` : null;
    const counts = { records: batch.length, events: 0, deliveries: 0, aliases: 0, idempotency: 0, outbox: 0, nextCursor };
    if (batch.length === 0) return counts;
    const ids = new Set(batch.map((slot) => slot.id));
    const dryRun = options.dryRun ?? false;
    for (const [key, owner] of this.aliases) {
      if (!ids.has(owner) || this.records.get(owner)?.orgId !== key.slice(0, key.indexOf("\u0000"))) continue;
      counts.aliases++;
      if (!dryRun) this.aliases.delete(key);
    }
    for (const [messageId, slot] of this.outbox) {
      if (!ids.has(slot.recordId) || this.records.get(slot.recordId)?.orgId !== slot.message.orgId) continue;
      counts.outbox++;
      if (dryRun) continue;
      slot.generation++; // its queue entry goes stale
      this.outbox.delete(messageId);
    }
    const byOrg = new Map<string, Set<string>>();
    for (const slot of batch) {
      counts.events += slot.events.length;
      const orgIds = byOrg.get(slot.orgId) ?? new Set<string>();
      byOrg.set(slot.orgId, orgIds.add(slot.id));
    }
    for (const [orgId, orgIds] of byOrg) {
      counts.idempotency += this.idempotencyKeys.forgetRecords(orgId, orgIds, dryRun);
      counts.deliveries += this.deliveryLogs.forget(orgId, orgIds, dryRun);
    }
    if (dryRun) return counts;
    for (const slot of batch) {
      this.records.delete(slot.id);
      const { index } = slot;
      index.ids.splice(index.firstAtOrAfter(slot.id), 1);
      index.byStatus.set(slot.status, index.byStatus.get(slot.status)! - 1);
      // Its deadline entries go stale, and are dropped as the queues pop or compact them.
      slot.generation++;
      slot.dueGeneration++;
      slot.dueAt = null;
    }
    return counts;
  }

  reserveIdempotencyKey(orgId: string, key: string, entry: IdempotencyEntry, now: number): Promise<IdempotencyEntry | null> {
    return this.idempotencyKeys.reserveIdempotencyKey(orgId, key, entry, now);
  }

  completeIdempotencyKey(orgId: string, key: string, response: unknown, recordId?: string): Promise<void> {
    return this.idempotencyKeys.completeIdempotencyKey(orgId, key, response, recordId);
  }

  releaseIdempotencyKey(orgId: string, key: string): Promise<void> {
    return this.idempotencyKeys.releaseIdempotencyKey(orgId, key);
  }

  /** A notifier for engines sharing this store in one process; `close()` drops its listeners. */
  createNotifier(): StoreNotifier {
    const shared = this.announcements;
    const unsubscribes = new Set<() => void>();
    return {
      publish: (orgId, recordId, seq) => shared.publish(orgId, recordId, seq),
      subscribe(listener) {
        const unsubscribe = shared.subscribe(listener);
        unsubscribes.add(unsubscribe);
        return () => {
          unsubscribes.delete(unsubscribe);
          unsubscribe();
        };
      },
      async close() {
        for (const unsubscribe of unsubscribes) unsubscribe();
        unsubscribes.clear();
      },
    };
  }

  private indexFor(orgId: string, kind: string): IdIndex<Slot> {
    let kinds = this.indexes.get(orgId);
    if (!kinds) {
      kinds = new Map();
      this.indexes.set(orgId, kinds);
    }
    let index = kinds.get(kind);
    if (!index) {
      index = new IdIndex<Slot>(dueGenerationOf);
      kinds.set(kind, index);
    }
    return index;
  }

  /** Queues the record's deadline for claims (which a write always hands back), and for `listDue` when it `moved`. */
  private queueDue(slot: Slot, moved: boolean): void {
    slot.generation++;
    if (slot.dueAt !== null) this.due.push(slot, slot.dueAt);
    if (!moved) return;
    slot.dueGeneration++;
    const { deadlines, ids } = slot.index;
    if (slot.dueAt !== null) deadlines.push(slot, slot.dueAt);
    // Only `listDue` pops these entries, and a store may never be asked: stale ones are dropped
    // once they outnumber the records, which keeps the queue within a few entries a record.
    if (deadlines.size > 2 * ids.length + 64) deadlines.compact();
  }

  /** The id or alias of `write` that is already taken, or null. */
  private taken(write: RecordWrite): string | null {
    const { record } = write;
    if (this.records.has(record.id)) return record.id;
    for (const alias of write.aliases ?? []) {
      if (this.aliases.has(aliasKey(record.orgId, alias))) return alias;
    }
    return null;
  }

  /** Adds a new record whose id and aliases are free; builds every part before it changes anything. */
  private add(write: RecordWrite): void {
    const { record } = write;
    if (this.records.size >= this.maxRecords) throw new Error(`memory store is full (${this.maxRecords} records)`);
    const data = deepFreeze(record.data);
    const events = write.events.map(deepFreeze);
    const outbox = this.outboxSlots(record.id, write.outbox);
    const index = this.indexFor(record.orgId, record.kind);
    // An object literal, so every slot shares one hidden class (a spread would give each its own).
    const slot: Slot = {
      id: record.id,
      orgId: record.orgId,
      kind: record.kind,
      status: record.status,
      version: record.version,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      dueAt: record.dueAt,
      eventCount: record.eventCount,
      data,
      events,
      leaseOwner: null,
      leaseUntil: 0,
      generation: 0,
      dueGeneration: 0,
      index,
    };
    this.records.set(record.id, slot);
    index.add(record.id);
    index.recount(null, record.status);
    for (const alias of write.aliases ?? []) this.aliases.set(aliasKey(record.orgId, alias), record.id);
    this.queueDue(slot, true);
    this.enqueue(outbox);
  }

  /**
   * The slots of the messages not queued yet, each a copy through JSON, as the other stores
   * serialize them: a payload they could not store throws here, before the write changes anything.
   */
  private outboxSlots(recordId: string, messages: readonly OutboxMessage[] | undefined): readonly OutboxSlot[] {
    if (messages === undefined || messages.length === 0) return NO_SLOTS;
    const slots: OutboxSlot[] = [];
    for (const message of messages) {
      if (this.outbox.has(message.id)) continue;
      slots.push({
        // A frozen copy: claims hand it out as it is, and no caller can change the store's own.
        message: deepFreeze(JSON.parse(JSON.stringify(message)) as OutboxMessage),
        recordId,
        attempts: 0,
        lastError: null,
        leaseOwner: null,
        leaseUntil: 0,
        generation: 0,
      });
    }
    return slots;
  }

  private enqueue(slots: readonly OutboxSlot[]): void {
    for (const slot of slots) {
      // The same message twice in one write is queued once, as the first copy.
      if (this.outbox.has(slot.message.id)) continue;
      this.outbox.set(slot.message.id, slot);
      this.outboxQueue.push(slot, slot.message.availableAt);
    }
  }
}

const NO_SLOTS: readonly OutboxSlot[] = [];

/** A purge cursor, `updatedAt:id`, back as its parts; anything else is none of this store's cursors. */
function parseCursor(cursor: string): { at: number; id: string } {
  const colon = cursor.indexOf(":");
  const at = Number(cursor.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(at)) throw new InvalidInputError("cursor", "must be the nextCursor of a previous purge");
  return { at, id: cursor.slice(colon + 1) };
}

const generationOf = (slot: { generation: number }) => slot.generation;
const dueGenerationOf = (slot: Slot) => slot.dueGeneration;

function toRecord(slot: Slot): StoredRecord {
  return {
    id: slot.id,
    orgId: slot.orgId,
    kind: slot.kind,
    status: slot.status,
    version: slot.version,
    createdAt: slot.createdAt,
    updatedAt: slot.updatedAt,
    dueAt: slot.dueAt,
    eventCount: slot.eventCount,
    data: slot.data,
  };
}

// Joined, not `+`: a key is kept for as long as its alias, and V8 keeps a concatenation of 13
// characters or more as a rope of its two pieces.
function aliasKey(orgId: string, name: string): string {
  return [orgId, name].join("\u0000");
}
