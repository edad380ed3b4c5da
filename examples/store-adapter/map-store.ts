// A complete store adapter in one file: every required method of the Store contract over plain
// Maps, plus one optional capability (reads by id alone, for the hosted form page). It passes
// `runStoreConformance` (test/conformance.test.ts); the README's "Writing a store adapter" walks
// through it. A real adapter keeps the same shape and replaces each Map with its database.
import {
  assertPurgeOptions,
  assertRecordLimit,
  type ClaimOptions,
  type DeliveryLogEntry,
  type DeliveryLogPage,
  type DeliveryLogQuery,
  type DueClaim,
  type InsertResult,
  InvalidInputError,
  isRecordId,
  type LimitedInsertResult,
  type ListRecordsQuery,
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
  type StoredRecord,
} from "@agent-sessions/core";

/** A record with its timeline and the lease a due-deadline claim put on it. */
interface Row {
  record: StoredRecord;
  events: readonly SessionEvent[];
  leaseUntil: number;
}

/** An outbox message with its attempts and lease. */
interface Queued {
  message: OutboxMessage;
  /** The record whose write enqueued it: `purge` removes it with that record. */
  recordId: string;
  attempts: number;
  lastError: string | null;
  leaseOwner: string | null;
  leaseUntil: number;
}

/** A copy through JSON, as a database keeps values: it throws for a value no store can keep, before anything changed. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The delivery log's order: latest start first, then id descending. */
const latestFirst = (a: DeliveryLogEntry, b: DeliveryLogEntry) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Newest id first: ids are time-ordered, so this is newest first, and stable. */
const newestFirst = (a: StoredRecord, b: StoredRecord) => (a.id < b.id ? 1 : -1);

export class MapStore implements Store {
  readonly capabilities = { unscopedReads: true, idempotency: false, notifier: false } as const;
  // Idempotency and a notifier are not offered: the router then keeps Idempotency-Keys in its
  // process, and several instances would need a notifier of their own.
  private readonly rows = new Map<string, Row>();
  /** `orgId \0 alias` → record id. */
  private readonly aliases = new Map<string, string>();
  private readonly outbox = new Map<string, Queued>();
  /** `orgId \0 id` → a delivery log entry. */
  private readonly deliveries = new Map<string, DeliveryLogEntry>();

  async insert(write: RecordWrite): Promise<InsertResult> {
    return this.add(write);
  }

  async insertWithinLimit(write: RecordWrite, limit: RecordLimit): Promise<LimitedInsertResult> {
    assertRecordLimit(limit);
    const { orgId, kind } = write.record;
    // Counting and inserting without an `await` between them: no other call runs in between.
    const counted = this.records().filter((r) => r.orgId === orgId && r.kind === kind && r.status === limit.status);
    return counted.length >= limit.max ? { ok: false, full: true } : this.add(write);
  }

  async compareAndSet(write: RecordWrite & { expectedVersion: number }): Promise<boolean> {
    const row = this.rows.get(write.record.id);
    if (!row || row.record.orgId !== write.record.orgId || row.record.version !== write.expectedVersion) return false;
    const owners = (write.aliases ?? []).map((alias) => this.aliases.get(aliasKey(write.record.orgId, alias)));
    if (owners.some((owner) => owner !== undefined && owner !== row.record.id)) return false;
    const record = copy(write.record); // every copy before the first change
    const events = copy(write.events);
    const queued = this.copyOutbox(record.id, write.outbox);
    row.record = record;
    row.events = row.events.concat(events);
    row.leaseUntil = 0; // a write hands the due deadline back
    this.commit(record, write.aliases, queued);
    return true;
  }

  async get(orgId: string, id: string): Promise<StoredRecord | null> {
    const row = this.rows.get(id);
    return row && row.record.orgId === orgId ? copy(row.record) : null;
  }

  async getUnscoped(id: string): Promise<StoredRecord | null> {
    const row = this.rows.get(id);
    return row ? copy(row.record) : null;
  }

  async resolveAlias(orgId: string, alias: string): Promise<string | null> {
    return this.aliases.get(aliasKey(orgId, alias)) ?? null;
  }

  async list(orgId: string, query: ListRecordsQuery): Promise<RecordPage> {
    // This store's cursor is the id of a page's last record: any other text is none of its cursors.
    if (query.cursor !== undefined && !isRecordId(query.cursor)) {
      throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
    }
    const { cursor, kind, status, limit } = query;
    const matching = this.records()
      .filter((r) => r.orgId === orgId && r.kind === kind && (status === undefined || r.status === status))
      .sort(newestFirst);
    const after = cursor === undefined ? -1 : matching.findIndex((r) => r.id < cursor);
    const from = cursor === undefined ? (query.offset ?? 0) : after === -1 ? matching.length : after;
    const records = matching.slice(from, from + limit);
    const more = from + limit < matching.length;
    return { records: records.map(copy), total: matching.length, nextCursor: more ? records.at(-1)!.id : null };
  }

  async timeline(orgId: string, id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<SessionEvent[]> {
    const row = this.rows.get(id);
    if (!row || row.record.orgId !== orgId) return [];
    const start = Math.max(0, options.afterSeq ?? 0); // event `seq` n sits at index n - 1
    return copy(row.events.slice(start, options.limit === undefined ? undefined : start + options.limit));
  }

  async listDue(orgId: string, kind: RecordKind, now: number, limit: number): Promise<string[]> {
    const due = this.dueRows(now).filter(({ record }) => record.orgId === orgId && record.kind === kind);
    return due.slice(0, limit).map(({ record }) => record.id);
  }

  async claimDue({ now, limit, leaseMs }: ClaimOptions): Promise<DueClaim[]> {
    const free = this.dueRows(now).filter((row) => row.leaseUntil <= now);
    return free.slice(0, limit).map((row) => {
      row.leaseUntil = now + leaseMs;
      const { orgId, id, kind, dueAt } = row.record;
      return { orgId, id, kind, dueAt: dueAt!, leaseUntil: row.leaseUntil };
    });
  }

  async claimOutbox({ now, limit, leaseMs, owner, topic }: ClaimOptions & { topic?: string }): Promise<OutboxEntry[]> {
    const free = [...this.outbox.values()]
      .filter((q) => q.message.availableAt <= now && q.leaseUntil <= now && (topic === undefined || q.message.topic === topic))
      .sort((a, b) => a.message.availableAt - b.message.availableAt);
    return free.slice(0, limit).map((q) => {
      q.leaseOwner = owner;
      q.leaseUntil = now + leaseMs;
      q.attempts++; // every claim is an attempt, one whose holder died included
      return { ...copy(q.message), attempts: q.attempts, lastError: q.lastError, leaseOwner: owner, leaseUntil: q.leaseUntil };
    });
  }

  async settleOutbox(id: string, owner: string, outcome: { retryAt?: number; error?: string }): Promise<boolean> {
    const queued = this.outbox.get(id);
    if (!queued || queued.leaseOwner !== owner) return false;
    if (outcome.retryAt === undefined) return this.outbox.delete(id);
    queued.lastError = outcome.error ?? null;
    queued.leaseOwner = null;
    queued.leaseUntil = 0;
    queued.message = { ...queued.message, availableAt: outcome.retryAt };
    return true;
  }

  async renewOutbox({ ids, owner, now, leaseMs }: RenewOptions): Promise<string[]> {
    const held = ids.filter((id) => this.outbox.get(id)?.leaseOwner === owner);
    for (const id of held) this.outbox.get(id)!.leaseUntil = now + leaseMs;
    return held;
  }

  async outboxLeases(ids: readonly string[]): Promise<OutboxLease[]> {
    const queued = ids.map((id) => this.outbox.get(id)).filter((q) => q !== undefined);
    return queued.map((q) => ({ id: q.message.id, attempts: q.attempts, leaseOwner: q.leaseOwner, leaseUntil: q.leaseUntil }));
  }

  async logDeliveries(entries: readonly DeliveryLogEntry[]): Promise<void> {
    const copies = entries.map(copy); // throws before anything changed
    for (const entry of copies) {
      const key = aliasKey(entry.orgId, entry.id);
      const previous = this.deliveries.get(key);
      this.deliveries.set(key, previous ? { ...previous, data: entry.data } : entry);
    }
  }

  async deliveryLog(orgId: string, webhookId: string, { limit, offset = 0, cursor }: DeliveryLogQuery): Promise<DeliveryLogPage> {
    const log = this.logOf(orgId, webhookId).sort(latestFirst);
    let start = offset;
    if (cursor !== undefined) {
      const at = log.findIndex((entry) => `${entry.startedAt}:${entry.id}` === cursor);
      if (at === -1) throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
      start = at + 1;
    }
    const entries = log.slice(start, start + limit).map(copy);
    const last = entries.at(-1);
    const nextCursor = last && start + limit < log.length ? `${last.startedAt}:${last.id}` : null;
    return { entries, total: log.length, nextCursor };
  }

  /**
   * Removes up to `limit` matching records (oldest last write first) with their events, aliases
   * and waiting outbox messages, without an `await` in between; the cursor is the last one's
   * `updatedAt:id`. This store keeps no idempotency entries, so it removes none.
   */
  async purge(options: PurgeOptions): Promise<PurgeResult> {
    assertPurgeOptions(options);
    const [at, after] =
      options.cursor === undefined
        ? [Number.NEGATIVE_INFINITY, ""]
        : [Number(options.cursor.split(":")[0]), options.cursor.slice(options.cursor.indexOf(":") + 1)];
    if (Number.isNaN(at)) throw new InvalidInputError("cursor", "must be the nextCursor of a previous purge");
    const batch = this.records()
      .filter((r) => r.kind === options.kind && options.statuses.includes(r.status) && r.dueAt === null && r.updatedAt < options.before)
      .filter((r) => r.updatedAt > at || (r.updatedAt === at && r.id > after))
      .sort((a, b) => a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : 1))
      .slice(0, options.limit);
    const ids = new Set(batch.map((r) => r.id));
    const aliases = [...this.aliases].filter(([key, id]) => ids.has(id) && key.startsWith(`${this.rows.get(id)!.record.orgId}\u0000`));
    const outbox = [...this.outbox.values()].filter((q) => ids.has(q.recordId));
    const events = batch.reduce((sum, r) => sum + this.rows.get(r.id)!.events.length, 0);
    const deliveries = batch.flatMap((r) => this.logOf(r.orgId, r.id));
    if (!options.dryRun) {
      for (const entry of deliveries) this.deliveries.delete(aliasKey(entry.orgId, entry.id));
      for (const [key] of aliases) this.aliases.delete(key);
      for (const q of outbox) this.outbox.delete(q.message.id);
      for (const id of ids) this.rows.delete(id);
    }
    const last = batch.at(-1);
    const nextCursor = last && batch.length === options.limit ? `${last.updatedAt}:${last.id}` : null;
    return {
      records: batch.length,
      events,
      deliveries: deliveries.length,
      aliases: aliases.length,
      idempotency: 0,
      outbox: outbox.length,
      nextCursor,
    };
  }

  /** Inserts a record whose id and aliases are free, whole or not at all. */
  private add(write: RecordWrite): InsertResult {
    const { orgId, id } = write.record;
    if (this.rows.has(id)) return { ok: false, taken: id };
    const taken = (write.aliases ?? []).find((alias) => this.aliases.has(aliasKey(orgId, alias)));
    if (taken !== undefined) return { ok: false, taken };
    const row: Row = { record: copy(write.record), events: copy(write.events), leaseUntil: 0 };
    const queued = this.copyOutbox(id, write.outbox);
    this.rows.set(id, row);
    this.commit(row.record, write.aliases, queued);
    return { ok: true };
  }

  /** The parts of a write that cannot throw: its aliases and its outbox messages (a message already queued is kept as it was). */
  private commit(record: StoredRecord, aliases: readonly string[] = [], queued: readonly Queued[]): void {
    for (const alias of aliases) this.aliases.set(aliasKey(record.orgId, alias), record.id);
    for (const q of queued) if (!this.outbox.has(q.message.id)) this.outbox.set(q.message.id, q);
  }

  private copyOutbox(recordId: string, messages: readonly OutboxMessage[] = []): Queued[] {
    return messages.map((message) => ({ message: copy(message), recordId, attempts: 0, lastError: null, leaseOwner: null, leaseUntil: 0 }));
  }

  /** An endpoint's delivery log, in no order. */
  private logOf(orgId: string, webhookId: string): DeliveryLogEntry[] {
    return [...this.deliveries.values()].filter((entry) => entry.orgId === orgId && entry.webhookId === webhookId);
  }

  private records(): StoredRecord[] {
    return [...this.rows.values()].map((row) => row.record);
  }

  /** Rows whose deadline has come, earliest first. */
  private dueRows(now: number): Row[] {
    const due = [...this.rows.values()].filter(({ record }) => record.dueAt !== null && record.dueAt <= now);
    return due.sort((a, b) => a.record.dueAt! - b.record.dueAt! || (a.record.id < b.record.id ? -1 : 1));
  }
}

function aliasKey(orgId: string, alias: string): string {
  return `${orgId}\u0000${alias}`;
}
