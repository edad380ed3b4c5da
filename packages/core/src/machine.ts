import type { AgentSessionsError } from "./errors.js";
import type { EventDraft } from "./schemas/event.js";
import type { OutboxMessage } from "./store.js";

/**
 * What a transition asks to be written beside its state and events, as data (as xstate's
 * `transition` returns its actions, executing none): the engine writes them in the same atomic
 * write, or not at all.
 */
export interface Effects {
  /** Names that resolve to the record from now on, unique in its organization. */
  readonly aliases?: readonly string[];
  /** Messages for the worker (a confirmed action's run), enqueued with the write. */
  readonly outbox?: readonly OutboxMessage[];
}

/** What a pure machine answers to (state, command, now): the next state, its events and effects, or why not. */
export type Transition<S> =
  | { readonly ok: true; readonly state: S; readonly events: readonly EventDraft[]; readonly effects?: Effects }
  | { readonly ok: false; readonly error: AgentSessionsError };

/**
 * The empty list and the empty metadata a new state starts with, shared and frozen: machines never
 * change a state in place, so every new session can hold the same ones (four objects fewer in a
 * new workflow session, about an eighth of what the memory store keeps of it).
 */
export const NONE = Object.freeze([]) as unknown as never[];
export const NO_METADATA = Object.freeze({}) as Record<string, unknown>;

/** A successful transition. An unchanged `state` with no events is an idempotent repeat. */
export function accept<S>(state: S, events: readonly EventDraft[] = [], effects?: Effects): Transition<S> {
  return effects === undefined ? { ok: true, state, events } : { ok: true, state, events, effects };
}

/** A refused transition. */
export function refuse<S>(error: AgentSessionsError): Transition<S> {
  return { ok: false, error };
}

/** The surface every session machine offers the engine. */
export interface Machine<S, C> {
  /** Applies what time alone does to `state` by `now` (expiries, timeouts); never refuses. */
  settle(state: S, now: number): { state: S; events: readonly EventDraft[] };
  /** Applies `command` at `now` to `state`, after settling it. */
  transition(state: S, command: C, now: number): Transition<S>;
  /** The next moment time alone will change `state`, or `null`. */
  dueAt(state: S): number | null;
  /** The status the store indexes for lists. */
  status(state: S): string;
  /**
   * Whether `settle` can change `status` (a form session expires; a workflow whose wait timed
   * out stays active): a list by status then writes what time did before it counts.
   */
  readonly timeChangesStatus: boolean;
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));

/**
 * ISO 8601 text of a millisecond timestamp (`2025-01-15T10:30:00.000Z`), as every wire format
 * shows times. Computed with integer arithmetic: several times faster than `Date#toISOString`,
 * which matters on the hot path of every transition that names a time.
 */
export function iso(ms: number): string {
  // One transition names the same moment many times (createdAt, updatedAt, each event's `at`).
  if (ms === lastIsoMs) return lastIsoText;
  if (!Number.isFinite(ms) || ms < 0 || ms >= 253402300800000) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const msText = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : String(millis);
  lastIsoText = `${String(year).padStart(4, "0")}-${PAD2[month]}-${PAD2[day]}T${PAD2[hours]}:${PAD2[minutes]}:${PAD2[seconds]}.${msText}Z`;
  lastIsoMs = ms;
  return lastIsoText;
}

let lastIsoMs = Number.NaN;
let lastIsoText = "";

/** `iso` of a moment that may not have come yet (`closedAt`, `decidedAt`): `null` stays `null`. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/**
 * Builds a machine from what time does (`settle`) and what commands do (`apply`): every
 * transition settles first, so a command never acts on a state its deadline already changed.
 */
export function defineMachine<S, C>(parts: {
  settle: Machine<S, C>["settle"];
  apply: (state: S, command: C, now: number) => Transition<S>;
  dueAt: Machine<S, C>["dueAt"];
  status: Machine<S, C>["status"];
  timeChangesStatus: boolean;
}): Machine<S, C> {
  const { settle, apply } = parts;
  return {
    settle,
    transition(state, command, now) {
      const settled = settle(state, now);
      const result = apply(settled.state, command, now);
      if (!result.ok || settled.events.length === 0) return result;
      return accept(result.state, [...settled.events, ...result.events], result.effects);
    },
    dueAt: parts.dueAt,
    status: parts.status,
    timeChangesStatus: parts.timeChangesStatus,
  };
}

/** The earliest `expiresAt` among the items still in `status`, or `null`. */
export function earliestDeadline(items: readonly { status: string; expiresAt: number }[], status: string): number | null {
  let due: number | null = null;
  for (const item of items) {
    if (item.status === status && (due === null || item.expiresAt < due)) due = item.expiresAt;
  }
  return due;
}

/**
 * The moments (milliseconds, earliest first) at which the reminders `remindBefore` (seconds
 * before `expiresAt`) are due, as of `now`: an entry whose moment is not after `now` is skipped,
 * since a reminder is sent only ahead of its deadline. Recomputed when a deadline moves.
 */
export function reminderMoments(remindBefore: readonly number[] | undefined, expiresAt: number, now: number): number[] {
  if (remindBefore === undefined || remindBefore.length === 0) return NONE;
  const moments = remindBefore.map((seconds) => expiresAt - seconds * 1000).filter((moment) => moment > now);
  return moments.sort((a, b) => a - b);
}

/**
 * Splits pending reminder moments into those due by `now` and those left. A deadline that passed
 * by `now` sends none of them (the thing has ended; a reminder after the end tells nothing) and
 * leaves none: the caller records the ending instead.
 */
export function dueReminders(
  reminders: readonly number[] | undefined,
  expiresAt: number,
  now: number,
): { readonly due: readonly number[]; readonly left: readonly number[] } {
  if (reminders === undefined || reminders.length === 0 || reminders[0]! > now) return { due: NONE, left: reminders ?? NONE };
  if (now >= expiresAt) return { due: NONE, left: NONE };
  const split = reminders.findIndex((moment) => moment > now);
  return split < 0 ? { due: reminders, left: NONE } : { due: reminders.slice(0, split), left: reminders.slice(split) };
}

/** The earlier of two moments, either of which may be `null`. */
export function earlier(a: number | null, b: number | null | undefined): number | null {
  if (b === null || b === undefined) return a;
  return a === null || b < a ? b : a;
}
