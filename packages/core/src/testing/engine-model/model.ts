import type { ErrorCode } from "../../errors.js";
import type { Agent } from "../../kinds/agent.js";
import type { AgentSession } from "../../kinds/agent-session.js";
import type { Form, FormSession } from "../../kinds/index.js";
import type { PendingAction, Thread } from "../../kinds/thread.js";
import type { Wait, Workflow } from "../../kinds/workflow.js";
import { ACTION_RETRY_MS, FLAKY_ERROR, MAX_ACTION_ATTEMPTS, SENT } from "./inputs.js";

// The reference model of the engine model test: what the SPEC says each command does, kept as
// plain records in the engine's shape. Time is applied eagerly (the clock moves, deadlines fire)
// where the engine applies it lazily; the events time alone caused wait in `unwritten` until a
// write of their record, a tick or a settle writes them. The rules of each kind of record are in
// forms.ts, workflows.ts, threads.ts and agents.ts.

export type Kind = "form" | "form_session" | "workflow" | "thread" | "agent" | "agent_session";
type Own<T> = Omit<T, "orgId">;
export interface States {
  form: Own<Form>;
  form_session: Own<FormSession>;
  workflow: Own<Workflow>;
  thread: Own<Thread>;
  agent: Own<Agent>;
  agent_session: Own<AgentSession>;
}

/** An event of a timeline: its type and the moment it names. */
export interface Happening {
  readonly type: string;
  readonly at: number;
}
/** A record's timeline: the events written (a nested list was written at once, in any order), and those time caused since. */
export interface Timeline {
  readonly written: (Happening | Happening[])[];
  unwritten: Happening[];
}
export interface Entry<K extends Kind = Kind> {
  readonly state: States[K];
  readonly log: Timeline;
}

/** The model's answer: success (with a hook that takes the engine's answer, for the ids it made), or an error code. */
export type Verdict = { readonly ok: true; readonly bind?: (answer: never) => void } | { readonly ok: false; readonly code: ErrorCode };
export const ok = (bind?: (answer: never) => void): Verdict => (bind ? { ok: true, bind } : { ok: true });
export const no = (code: ErrorCode): Verdict => ({ ok: false, code });

/** Every status a list can filter by, per kind (forms and agents are always `active`). */
export const STATUSES: Record<Kind, readonly string[]> = {
  form: ["active"],
  form_session: ["created", "open", "submitted", "expired"],
  workflow: ["active", "completed", "failed"],
  thread: ["active", "closed"],
  agent: ["active"],
  agent_session: ["started", "active", "idle"],
};
export const KINDS = Object.keys(STATUSES) as Kind[];
export const SECOND = 1000;

/** The records of one organization, as the SPEC says they are at `now`. */
export class EngineModel {
  readonly records: { [K in Kind]: Entry<K>[] } = { form: [], form_session: [], workflow: [], thread: [], agent: [], agent_session: [] };
  /** When the executor of each confirmed action runs next. */
  readonly runAt = new Map<PendingAction, number>();
  /** The wait of each `wait.expiring` not yet written: dropped if the wait's deadline passes first. */
  private readonly reminderOf = new WeakMap<Happening, Wait>();

  constructor(
    public now: number,
    /** The organization of the run: part of every record's JSON, so of its size. */
    readonly orgId: string,
  ) {}

  status(kind: Kind, entry: Entry): string {
    return "status" in entry.state ? entry.state.status : STATUSES[kind][0]!;
  }

  /** A page of a kind's records as a list shows it: newest id first. */
  page(kind: Kind, query: { status?: string; limit: number; offset: number }): { entries: Entry[]; total: number } {
    const all = (this.records[kind] as Entry[])
      .filter((entry) => query.status === undefined || this.status(kind, entry) === query.status)
      .sort((a, b) => (a.state.id < b.state.id ? 1 : -1));
    return { entries: all.slice(query.offset, query.offset + query.limit), total: all.length };
  }

  /** A new record and its first event; its id is the one the engine answers with. */
  add<K extends Kind>(kind: K, state: States[K], type: string): Verdict {
    this.records[kind].push({ state, log: { written: [{ type, at: this.now }], unwritten: [] } });
    return ok((answer: { id: string }) => void (state.id = answer.id));
  }

  /** A write of `entry` now: what time did is written first, then `types`. */
  write(entry: Entry, ...types: string[]): void {
    this.flush(entry);
    entry.log.written.push(...types.map((type) => ({ type, at: this.now })));
    if (types.length > 0) entry.state.updatedAt = this.now;
  }

  /** Writes what time did to `entry`; answers how many events that was. */
  flush(entry: Entry): number {
    const count = entry.log.unwritten.length;
    entry.log.written.push(...entry.log.unwritten.splice(0));
    return count;
  }

  /** Moves the clock; every deadline it passes fires, earliest first. */
  advance(ms: number): void {
    this.now += ms;
    for (const { state, log } of this.records.form_session) {
      if (state.status !== "created" && state.status !== "open") continue;
      if (state.expiresAt <= this.now) {
        // The engine writes a reminder only before the deadline: one not written by then never is.
        log.unwritten = log.unwritten.filter((event) => event.type !== "session.expiring");
        delete state.reminders;
        Object.assign(state, { status: "expired", expiredAt: state.expiresAt, updatedAt: Math.max(state.updatedAt, state.expiresAt) });
        log.unwritten.push({ type: "session.expired", at: state.expiresAt });
        continue;
      }
      const due = (state.reminders ?? []).filter((at) => at <= this.now);
      if (due.length === 0) continue;
      log.unwritten.push(...due.map((at) => ({ type: "session.expiring", at })));
      const left = state.reminders!.slice(due.length);
      if (left.length > 0) state.reminders = left;
      else delete state.reminders;
    }
    for (const { state, log } of this.records.workflow) {
      // What time did to each pending wait, in the order it happened (a moment's events in the order of the waits).
      const happened: Happening[] = [];
      for (const wait of state.waits) {
        if (wait.status !== "pending") continue;
        if (wait.expiresAt <= this.now) {
          // The engine writes a reminder only before the deadline: one not written by then never is.
          log.unwritten = log.unwritten.filter((event) => this.reminderOf.get(event) !== wait);
          delete wait.reminders;
          const at = wait.expiresAt;
          state.updatedAt = Math.max(state.updatedAt, at);
          if (wait.onTimeout !== undefined && wait.onTimeout !== "fail") {
            Object.assign(wait, { status: "completed", completedAt: at, timedOut: true, result: wait.onTimeout.resolveWith });
            happened.push({ type: "wait.completed", at });
          } else {
            Object.assign(wait, { status: "timed_out", completedAt: at });
            happened.push({ type: "wait.timed_out", at });
          }
          continue;
        }
        const due = (wait.reminders ?? []).filter((at) => at <= this.now);
        if (due.length === 0) continue;
        for (const at of due) {
          const reminder = { type: "wait.expiring", at };
          this.reminderOf.set(reminder, wait);
          happened.push(reminder);
        }
        const left = wait.reminders!.slice(due.length);
        if (left.length > 0) wait.reminders = left;
        else delete wait.reminders;
      }
      log.unwritten.push(...happened.sort((a, b) => a.at - b.at));
    }
    for (const { state, log } of this.records.thread) {
      for (const action of this.due(state.actions)) {
        const at = action.expiresAt;
        // The deadline cancels the action, or denies it when it was proposed with `on_expire: "deny"`.
        const denied = action.onExpire === "deny";
        Object.assign(action, { status: "cancelled", cancelReason: denied ? "denied" : "expired", decidedAt: at, completedAt: at });
        Object.assign(action, { decidedBy: "expiry", decidedVia: "expiry", ...(denied ? { reason: "no decision before the deadline" } : {}) });
        state.updatedAt = Math.max(state.updatedAt, at);
        log.unwritten.push({ type: "action.cancelled", at });
      }
    }
  }

  /** The deadlines still ahead, earliest first: of live form sessions (and their reminders), inboxes, pending waits and pending actions. */
  deadlines(): number[] {
    const pending = <T extends { status: string }>(items: T[]) => items.filter((item) => item.status === "pending");
    const ahead = [
      ...this.records.form_session
        .filter(({ state }) => ["created", "open"].includes(state.status))
        .flatMap(({ state }) => [state.expiresAt, ...(state.reminders ?? [])]),
      ...this.records.workflow.flatMap(({ state }) => [
        ...[...state.inboxes, ...pending(state.waits)].map((item) => item.expiresAt),
        ...pending(state.waits).flatMap((wait) => wait.reminders ?? []),
      ]),
      ...this.records.thread.flatMap(({ state }) => pending(state.actions).map((action) => action.expiresAt)),
    ];
    return ahead.filter((at) => at > this.now).sort((a, b) => a - b);
  }

  private due<T extends { status: string; expiresAt: number }>(items: T[]): T[] {
    return items.filter((item) => item.status === "pending" && item.expiresAt <= this.now).sort((a, b) => a.expiresAt - b.expiresAt);
  }

  /**
   * A round of background work: every deadline is written, then each confirmed action whose turn
   * came runs its executor once; the outcomes of one thread's actions may be written in any order.
   */
  tick(): void {
    for (const kind of KINDS) for (const entry of this.records[kind]) this.flush(entry);
    for (const entry of this.records.thread) {
      const outcomes: string[] = [];
      for (const action of entry.state.actions) {
        if (action.status !== "processing" || this.runAt.get(action)! > this.now) continue;
        action.runs += 1;
        action.attempts += 1;
        if (action.tool === "send_email") {
          Object.assign(action, { status: "succeeded", result: SENT, completedAt: this.now });
          outcomes.push("action.succeeded");
        } else if (action.attempts >= MAX_ACTION_ATTEMPTS) {
          Object.assign(action, { status: "failed", error: FLAKY_ERROR, completedAt: this.now });
          outcomes.push("action.failed");
        } else {
          action.error = FLAKY_ERROR;
          this.runAt.set(action, this.now + ACTION_RETRY_MS);
          outcomes.push("action.attempt_failed");
        }
      }
      if (outcomes.length === 0) continue;
      entry.log.written.push(outcomes.map((type) => ({ type, at: this.now })));
      entry.state.updatedAt = this.now;
    }
  }
}
