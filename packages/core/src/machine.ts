import type { AgentSessionsError } from "./errors.js";
import type { EventDraft } from "./schemas/event.js";

/** What a pure machine answers to (state, command, now): the next state and its events, or why not. */
export type Transition<S> =
  | { readonly ok: true; readonly state: S; readonly events: readonly EventDraft[] }
  | { readonly ok: false; readonly error: AgentSessionsError };

/** A successful transition. An unchanged `state` with no events is an idempotent repeat. */
export function accept<S>(state: S, events: readonly EventDraft[] = []): Transition<S> {
  return { ok: true, state, events };
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
}

/** ISO 8601 text of a millisecond timestamp, as every wire format shows times. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
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
}): Machine<S, C> {
  const { settle, apply } = parts;
  return {
    settle,
    transition(state, command, now) {
      const settled = settle(state, now);
      const result = apply(settled.state, command, now);
      if (!result.ok || settled.events.length === 0) return result;
      return accept(result.state, [...settled.events, ...result.events]);
    },
    dueAt: parts.dueAt,
    status: parts.status,
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
