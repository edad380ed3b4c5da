import type { Emitter } from "mitt";
import { type AgentSessionsError, ConflictError, InvalidInputError, NotFoundError, PayloadTooLargeError, VersionConflictError } from "../errors.js";
import { eventId, isPrefixedId, isRecordId, isShowable } from "../ids.js";
import { KINDS, kindOf, RECORD_KINDS, type RecordKind } from "../kinds/index.js";
import type { Effects, Machine, Transition } from "../machine.js";
import { LIMITS, ListQuery } from "../schemas/common.js";
import type { EventDraft, SessionEvent } from "../schemas/event.js";
import type { OutboxMessage, RecordLimit, RecordWrite, Store, StoredRecord } from "../store.js";
import { parseInput } from "../validate.js";

/** Events the engine emits in-process: every event type, each with the event that was written. */
export type EngineEvents = Record<string, SessionEvent>;

/** A page of records as the engine returns it. */
export interface Page<T> {
  readonly data: T[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
  readonly nextCursor: string | null;
}

/** How a list is asked for: a status of the kind, and a page by `limit` (default 20) and `offset`, or by `cursor`. */
export interface ListOptions<Status extends string = string> {
  readonly status?: Status;
  readonly limit?: number;
  readonly offset?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** What a record repository needs from the engine. */
export interface RecordsContext {
  readonly store: Store;
  readonly clock: () => number;
  readonly emitter: Emitter<EngineEvents>;
  readonly maxRetries: number;
  /** Told of an in-process listener that threw; the write it heard of stands. */
  readonly onListenerError: (error: unknown, event: SessionEvent) => void;
  /**
   * Outbox messages every write of events adds, in the same atomic write: the webhook deliveries
   * of those events. Answers synchronously when it can, so a write pays no extra await.
   */
  readonly eventOutbox?: (record: StoredRecord, events: readonly SessionEvent[]) => readonly OutboxMessage[] | Promise<readonly OutboxMessage[]>;
  /** Told after every write that appended events, with the record's last `seq`, whether it added outbox messages, and the events. */
  readonly written?: (record: StoredRecord, outbox: boolean, events: readonly SessionEvent[]) => void;
  /** Told of each write applied again after it lost a compare-and-set to another write. */
  readonly conflicted?: (kind: RecordKind) => void;
}

/** How one write is made (what it adds beside the state and its events, the machine asks for as effects). */
export interface WriteExtras {
  /** Overrides how many times a write lost to a concurrent one is retried. */
  readonly retries?: number;
}

/**
 * How many due records a list by status writes before it reads. With a worker running few are
 * due at once; without one, each such list writes this many more, so the backlog shrinks.
 */
const SETTLED_PER_LIST = 100;
const NO_IDS: readonly string[] = [];

/** What any store's `nextCursor` looks like: a short run of URL-safe characters. */
const CURSOR = /^[\w.~-]{1,200}$/;

/**
 * Notes that a record was not found; used for another organization's records alike. The id is
 * named only when it could be one: a caller's 10 KB or control-character "id" is not echoed.
 */
export function notFound(kind: RecordKind, id?: string): NotFoundError {
  return new NotFoundError(id === undefined || !isShowable(id) ? `${kindOf(kind).noun} not found` : `${kindOf(kind).noun} ${id} not found`);
}

/**
 * Notes that no record of any kind has this id in the organization, named after the kind its
 * prefix belongs to ("Session sess_… not found", "Form form_… not found"), else "Record".
 */
export function notFoundAny(id: string): NotFoundError {
  const kind = RECORD_KINDS.find((candidate) => isPrefixedId(id, KINDS[candidate].prefix));
  const noun = kind === undefined ? "Record" : KINDS[kind].noun;
  return new NotFoundError(isShowable(id) ? `${noun} ${id} not found` : `${noun} not found`);
}

function toEvents(record: { id: string; orgId: string; kind: RecordKind }, first: number, drafts: readonly EventDraft[]) {
  return drafts.map(
    (draft, index): SessionEvent => ({
      id: eventId(record.id, first + index, draft.at),
      orgId: record.orgId,
      recordId: record.id,
      kind: record.kind,
      seq: first + index,
      type: draft.type,
      at: draft.at,
      payload: draft.payload,
    }),
  );
}

/**
 * Refuses a record of a kind that grows (one with `parts`) past `LIMITS.recordBytes`. Only a write that adds a part (a message,
 * a step, an action) can grow a record by more than a few kilobytes, so only those are measured:
 * serializing the whole state on every write would cost more than the rest of the write. A new
 * record without parts is made from one create input, which its schema's limits keep far below
 * the record limit.
 */
function assertRecordSize(kind: RecordKind, id: string, data: unknown, previous?: unknown): void {
  const parts = kindOf(kind).parts as ((state: unknown) => number) | undefined;
  if (parts === undefined) return; // only kinds with parts grow with use
  if (parts(data) <= (previous === undefined ? 0 : parts(previous))) return;
  const length = JSON.stringify(data).length;
  if (length * 3 <= LIMITS.recordBytes) return;
  const bytes = new TextEncoder().encode(JSON.stringify(data)).length;
  if (bytes > LIMITS.recordBytes) {
    throw new PayloadTooLargeError(`${kindOf(kind).noun.toLowerCase()} ${id} would exceed ${LIMITS.recordBytes} bytes`);
  }
}

/** Reads a record by id alone (the hosted page), which only a store with `capabilities.unscopedReads` can. */
function unscoped(store: Store, id: string): Promise<StoredRecord | null> {
  if (!store.capabilities.unscopedReads) {
    throw new Error("the store cannot read a record by its id alone (capabilities.unscopedReads): the hosted form page needs a store that can");
  }
  return store.getUnscoped!(id);
}

/** A command a machine refused, with the record's state as of now: what `Records.attempt` answers instead of throwing. */
export class Refusal<S> {
  constructor(
    readonly error: AgentSessionsError,
    readonly state: S,
  ) {}
}

const NOTHING: readonly never[] = [];

/** The longest pause before a retried write, in milliseconds. */
const MAX_RETRY_DELAY_MS = 50;

/**
 * The pause before retry `attempt` (2 and on; the first retry runs at once): a random share of a
 * window that doubles from 2 ms up to 50 ms, so writers that keep colliding spread out ("full
 * jitter").
 */
export function retryDelay(attempt: number): number {
  return Math.random() * Math.min(MAX_RETRY_DELAY_MS, 2 ** (attempt - 1));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Loads, applies, saves and emits: the only place records change. Every write is a
 * compare-and-set retried on conflict, with the transition's events in the same write.
 */
export class Records {
  constructor(private readonly context: RecordsContext) {}

  get store(): Store {
    return this.context.store;
  }

  get now(): number {
    return this.context.clock();
  }

  /**
   * Inserts a new record with its first events; a taken alias is a conflict naming it. With
   * `limit`, the insert is the store's `insertWithinLimit`, and a full organization is a conflict
   * with `limit.refusal` as its message.
   */
  async insert<S>(
    kind: RecordKind,
    state: S & { id: string; orgId: string; createdAt: number; updatedAt: number },
    drafts: readonly EventDraft[],
    options: {
      status: string;
      dueAt?: number | null;
      aliases?: string[];
      outbox?: OutboxMessage[];
      describeTaken?: (taken: string) => string;
      limit?: RecordLimit & { readonly refusal: string };
    },
  ): Promise<S> {
    assertRecordSize(kind, state.id, state);
    const events = toEvents({ id: state.id, orgId: state.orgId, kind }, 1, drafts);
    const record: StoredRecord = {
      id: state.id,
      orgId: state.orgId,
      kind,
      status: options.status,
      version: 1,
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      dueAt: options.dueAt ?? null,
      eventCount: events.length,
      data: state,
    };
    const pending = this.withEventOutbox(record, events, options.outbox ?? []);
    const outbox = pending instanceof Promise ? await pending : pending;
    const write: RecordWrite = { record, events, aliases: options.aliases ?? [], outbox };
    const { limit } = options;
    const result = limit ? await this.context.store.insertWithinLimit(write, limit) : await this.context.store.insert(write);
    if (!result.ok) {
      if ("full" in result) throw new ConflictError(limit!.refusal);
      throw new ConflictError(options.describeTaken?.(result.taken) ?? `${result.taken} already exists`);
    }
    this.emit(events);
    this.context.written?.(record, outbox.length > 0, events);
    return state;
  }

  /** Reads one record of one kind of one organization, or throws not found; a text that is not such an id never reaches the store. */
  async load(orgId: string | null, kind: RecordKind, id: string): Promise<StoredRecord> {
    if (!isPrefixedId(id, KINDS[kind].prefix)) throw notFound(kind, id);
    const { store } = this.context;
    const record = orgId === null ? await unscoped(store, id) : await store.get(orgId, id);
    if (!record || record.kind !== kind) throw notFound(kind, id);
    return record;
  }

  /** Reads one record of any kind of one organization, or throws not found; a text that is no id never reaches the store. */
  async loadAny(orgId: string, id: string): Promise<StoredRecord> {
    const record = isRecordId(id) ? await this.context.store.get(orgId, id) : null;
    if (!record) throw notFoundAny(id);
    return record;
  }

  /**
   * Applies `command` through `machine` to a record. When the compare-and-set loses to another
   * write, the command is applied again to the record as that write left it, so commands that
   * commute (two messages into one inbox, two context updates) both succeed, and one that no longer
   * fits (a confirm after a cancel) is refused by the machine, not by a version conflict. Writes of
   * one record through this engine take turns, so they never conflict with each other; a write that
   * loses to another instance retries at once, then after jittered, growing pauses. When the
   * command is refused after time changed the record (an expiry), that change is still saved, then
   * the refusal is thrown. The transition's effects (aliases, outbox messages) are written in the
   * same compare-and-set as its state and events. Returns the state after the command.
   */
  mutate<S, C>(orgId: string | null, kind: RecordKind, id: string, machine: Machine<S, C>, command: C, extra: WriteExtras = {}): Promise<S> {
    return this.enqueue(id, () => this.apply(orgId, kind, id, machine, command, extra, false) as Promise<S>);
  }

  /**
   * As `mutate`, but a command the machine refuses answers a `Refusal` with the record's state as
   * of now (a change time made to it saved, as `mutate` saves it) instead of throwing: for a caller
   * that shows the record either way, without reading it again.
   */
  attempt<S, C>(orgId: string | null, kind: RecordKind, id: string, machine: Machine<S, C>, command: C): Promise<S | Refusal<S>> {
    return this.enqueue(id, () => this.apply(orgId, kind, id, machine, command, {}, true));
  }

  /** Runs `write` once the last write queued for the record `id` settled, however it ended. */
  private enqueue<T>(id: string, write: () => Promise<T>): Promise<T> {
    const ahead = this.lastWrites.get(id);
    const queued = ahead === undefined ? write() : ahead.then(write, write);
    this.lastWrites.set(id, queued);
    const done = () => {
      if (this.lastWrites.get(id) === queued) this.lastWrites.delete(id);
    };
    queued.then(done, done);
    return queued;
  }

  /** The last write queued per record id, settled or not; an id leaves once its last write settled. */
  private readonly lastWrites = new Map<string, Promise<unknown>>();

  private async apply<S, C>(
    orgId: string | null,
    kind: RecordKind,
    id: string,
    machine: Machine<S, C>,
    command: C,
    extra: WriteExtras,
    answerRefusal: boolean,
  ): Promise<S | Refusal<S>> {
    const retries = extra.retries ?? this.context.maxRetries;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) this.context.conflicted?.(kind);
      if (attempt > 1) await pause(retryDelay(attempt));
      const record = await this.load(orgId, kind, id);
      const now = this.now;
      const state = record.data as S;
      const settled = machine.settle(state, now);
      const result: Transition<S> = machine.transition(settled.state, command, now);
      if (!result.ok) {
        if (settled.events.length > 0 && !(await this.save(machine, record, settled.state, settled.events))) continue;
        if (answerRefusal) return new Refusal(result.error, settled.state);
        throw result.error;
      }
      const drafts = settled.events.length > 0 ? [...settled.events, ...result.events] : result.events;
      if (result.state === state && drafts.length === 0 && result.effects === undefined) return state;
      if (await this.save(machine, record, result.state, drafts, result.effects)) return result.state;
    }
    throw new VersionConflictError(`${kindOf(kind).noun.toLowerCase()} ${id} changed concurrently too often; try again`);
  }

  /** Persists what time alone did to a record by `now`, once; returns the events it wrote. */
  async settle<S>(orgId: string, kind: RecordKind, id: string, machine: Machine<S, unknown>, now: number, claimed?: StoredRecord): Promise<number> {
    for (let attempt = 0; attempt <= this.context.maxRetries; attempt++) {
      if (attempt > 0) this.context.conflicted?.(kind);
      // The record a claim handed out saves the first read; a write lost since reads it afresh.
      const record = attempt === 0 && claimed?.id === id && claimed.orgId === orgId ? claimed : await this.context.store.get(orgId, id);
      if (!record || record.kind !== kind) return 0;
      const settled = machine.settle(record.data as S, now);
      if (settled.events.length === 0) return 0;
      if (await this.save(machine, record, settled.state, settled.events)) return settled.events.length;
    }
    return 0;
  }

  /** Reads a record's state as of now: a deadline that passed shows, saved or not. */
  async view<S>(orgId: string | null, kind: RecordKind, id: string, machine?: Machine<S, unknown>): Promise<S> {
    const record = await this.load(orgId, kind, id);
    return machine ? machine.settle(record.data as S, this.now).state : (record.data as S);
  }

  /**
   * Lists an organization's records of one kind, each as of now. Asked for a status that time
   * changes, it writes what time did to the records whose deadline passed (`SETTLED_PER_LIST` of
   * them, earliest first), as the worker would, so the store's counts and pages are as of now even
   * when no worker ran.
   */
  async list<S>(orgId: string, kind: RecordKind, options: ListOptions, machine?: Machine<S, unknown>): Promise<Page<S>> {
    // The status is judged first, as the router did before lists checked it: a status the kind
    // does not have is named as such, however long it is and whatever else the query holds.
    const { statuses } = KINDS[kind];
    const status = (options as { status?: unknown }).status;
    if (typeof status === "string" && !(statuses as readonly string[]).includes(status)) {
      throw new InvalidInputError("status", `must be one of ${statuses.join(", ")}`);
    }
    const query = parseInput(ListQuery, options);
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    // A cursor is a store's token for the last record of a page (an id, or an encoding of one):
    // text that cannot be one never reaches the store.
    if (query.cursor !== undefined && !CURSOR.test(query.cursor)) {
      throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
    }
    const timed = query.status !== undefined && machine?.timeChangesStatus ? machine : undefined;
    // The due records are asked for beside the first read of the page, so a list with none (the
    // usual case while a worker runs) waits for no extra round trip; with some, they are written
    // and the page is read again.
    let dueAsked = timed === undefined;
    let pageCorrected = timed === undefined;
    for (;;) {
      const reading = this.context.store.list(orgId, {
        kind,
        limit,
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.cursor !== undefined ? { cursor: query.cursor } : { offset }),
      });
      const [page, due] = dueAsked
        ? [await reading, NO_IDS]
        : await Promise.all([reading, this.context.store.listDue(orgId, kind, this.now, SETTLED_PER_LIST)]);
      dueAsked = true;
      const now = this.now;
      if (timed && due.length > 0) {
        await this.settleAll(orgId, kind, due, timed, now);
        continue;
      }
      const data = page.records.map((record) => (machine ? machine.settle(record.data as S, now).state : (record.data as S)));
      // With more than `SETTLED_PER_LIST` records due (no worker ran for long), or a deadline that
      // passed after those were written, a page can still hold a record that no longer has the
      // status asked for: those are written too, and the page is read once more.
      if (timed && !pageCorrected) {
        pageCorrected = true;
        const stale = page.records.filter(
          (record, i) => record.dueAt !== null && record.dueAt <= now && (data[i] as { status?: unknown }).status !== record.status,
        );
        if (stale.length > 0) {
          await this.settleAll(
            orgId,
            kind,
            stale.map((record) => record.id),
            timed,
            now,
          );
          continue;
        }
      }
      return { data, total: page.total, limit, offset: query.cursor !== undefined ? 0 : offset, nextCursor: page.nextCursor };
    }
  }

  /**
   * Writes what time did by `now` to each of `ids`. A worker may settle the same records meanwhile:
   * each settle is a compare-and-set, so one of the two writes it and the other finds nothing left.
   */
  private async settleAll<S>(orgId: string, kind: RecordKind, ids: readonly string[], machine: Machine<S, unknown>, now: number): Promise<void> {
    await Promise.all(ids.map((id) => this.settle(orgId, kind, id, machine, now)));
  }

  private async save<S>(
    machine: Machine<S, unknown>,
    previous: StoredRecord,
    state: S,
    drafts: readonly EventDraft[],
    effects: Effects = {},
  ): Promise<boolean> {
    assertRecordSize(previous.kind, previous.id, state, previous.data);
    const events = toEvents(previous, previous.eventCount + 1, drafts);
    const updatedAt = (state as { updatedAt?: number }).updatedAt ?? previous.updatedAt;
    const record: StoredRecord = {
      ...previous,
      status: machine.status(state),
      version: previous.version + 1,
      updatedAt,
      dueAt: machine.dueAt(state),
      eventCount: previous.eventCount + events.length,
      data: state,
    };
    const pending = this.withEventOutbox(record, events, effects.outbox ?? NOTHING);
    const outbox = pending instanceof Promise ? await pending : pending;
    const saved = await this.context.store.compareAndSet({
      record,
      events,
      aliases: effects.aliases ?? NOTHING,
      outbox,
      expectedVersion: previous.version,
    });
    if (saved) {
      this.emit(events);
      this.context.written?.(record, outbox.length > 0, events);
    }
    return saved;
  }

  /** Emits events another instance wrote, as if written here (see `Notifier`). */
  emitRelayed(events: readonly SessionEvent[]): void {
    this.emit(events);
  }

  /** `own` plus the outbox messages the written events add (their webhook deliveries). */
  private withEventOutbox(
    record: StoredRecord,
    events: readonly SessionEvent[],
    own: readonly OutboxMessage[],
  ): readonly OutboxMessage[] | Promise<readonly OutboxMessage[]> {
    const hook = this.context.eventOutbox;
    if (!hook || events.length === 0) return own;
    const added = hook(record, events);
    const join = (more: readonly OutboxMessage[]) => (more.length === 0 ? own : own.length === 0 ? more : [...own, ...more]);
    return added instanceof Promise ? added.then(join) : join(added);
  }

  private emit(events: readonly SessionEvent[]): void {
    // Each listener is called on its own: one that throws neither undoes the write nor silences the rest.
    const all = this.context.emitter.all;
    for (const event of events) {
      for (const handler of all.get(event.type) ?? []) this.call(() => (handler as (e: SessionEvent) => void)(event), event);
      for (const handler of all.get("*") ?? []) this.call(() => (handler as (t: string, e: SessionEvent) => void)(event.type, event), event);
    }
  }

  private call(listener: () => void, event: SessionEvent): void {
    try {
      listener();
    } catch (error) {
      this.context.onListenerError(error, event);
    }
  }
}
