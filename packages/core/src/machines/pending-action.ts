import { ExpiredError, IllegalTransitionError } from "../errors.js";
import type { CancelReason, PendingAction } from "../kinds/thread.js";
import { accept, iso, refuse, type Transition } from "../machine.js";
import type { EventDraft } from "../schemas/event.js";

/** Commands a pending action answers to. */
export type PendingActionCommand =
  /** With `execute`, the engine runs the tool's executor: the thread's transition asks for that run in the outbox. */
  | { readonly type: "confirm"; readonly callbackId: string; readonly execute?: boolean }
  | { readonly type: "cancel"; readonly reason?: CancelReason }
  | { readonly type: "succeed"; readonly result: unknown }
  | { readonly type: "attemptFailed"; readonly error: string }
  /** A worker begins a run of the executor (recorded before it runs, so a crash mid-run counts). */
  | { readonly type: "start" }
  | { readonly type: "fail"; readonly error: string };

/** Builds a proposed action in `pending`. */
export function proposeAction(
  threadId: string,
  input: { id: string; tool: string; preview: Record<string, unknown>; expiresAt: number },
  now: number,
): { action: PendingAction; events: EventDraft[] } {
  const action: PendingAction = {
    id: input.id,
    tool: input.tool,
    preview: input.preview,
    status: "pending",
    createdAt: now,
    expiresAt: input.expiresAt,
    decidedAt: null,
    callbackId: null,
    cancelReason: null,
    attempts: 0,
    runs: 0,
    result: null,
    error: null,
    completedAt: null,
  };
  const event = {
    type: "action.proposed",
    at: now,
    payload: { thread_id: threadId, action_id: action.id, tool: action.tool, expires_at: iso(action.expiresAt) },
  };
  return { action, events: [event] };
}

/** Cancels a pending action whose deadline passed by `now`; anything else is left as it is. */
export function settleAction(threadId: string, action: PendingAction, now: number): { action: PendingAction; events: EventDraft[] } {
  if (action.status !== "pending" || now < action.expiresAt) return { action, events: [] };
  return cancel(threadId, action, "expired", action.expiresAt);
}

function cancel(threadId: string, action: PendingAction, reason: CancelReason, at: number) {
  const next: PendingAction = { ...action, status: "cancelled", cancelReason: reason, decidedAt: at, completedAt: at };
  const payload = { thread_id: threadId, action_id: action.id, tool: action.tool, reason };
  return { action: next, events: [{ type: "action.cancelled", at, payload }] };
}

/**
 * The pending action machine: `pending → processing → succeeded | failed`, and
 * `pending → cancelled` by a person, by its deadline or by its thread closing.
 */
export function transitionAction(threadId: string, action: PendingAction, command: PendingActionCommand, now: number): Transition<PendingAction> {
  const base = { thread_id: threadId, action_id: action.id, tool: action.tool };
  switch (command.type) {
    case "confirm": {
      if (action.callbackId !== null) return accept(action);
      if (action.status !== "pending") return refuse(refusal(action, "confirm"));
      const next: PendingAction = { ...action, status: "processing", decidedAt: now, callbackId: command.callbackId };
      return accept(next, [{ type: "action.confirmed", at: now, payload: { ...base, callback_id: command.callbackId } }]);
    }
    case "cancel": {
      if (action.status === "cancelled") return accept(action);
      if (action.status !== "pending") return refuse(refusal(action, "cancel"));
      const { action: next, events } = cancel(threadId, action, command.reason ?? "person", now);
      return accept(next, events);
    }
    case "succeed":
    case "fail": {
      const target = command.type === "succeed" ? "succeeded" : "failed";
      if (action.status === target) return accept(action);
      if (action.status !== "processing") return refuse(refusal(action, command.type));
      const next: PendingAction = {
        ...action,
        status: target,
        attempts: action.attempts + 1,
        result: command.type === "succeed" ? command.result : null,
        error: command.type === "fail" ? command.error : null,
        completedAt: now,
      };
      const outcome = command.type === "succeed" ? { result: command.result } : { error: command.error };
      return accept(next, [
        { type: `action.${target}`, at: now, payload: { ...base, callback_id: action.callbackId, attempts: next.attempts, ...outcome } },
      ]);
    }
    case "start": {
      if (action.status !== "processing") return refuse(refusal(action, "run"));
      // No event: bookkeeping for the worker; the run's outcome is the event.
      return accept({ ...action, runs: (action.runs ?? 0) + 1 });
    }
    case "attemptFailed": {
      if (action.status !== "processing") return refuse(refusal(action, "record an attempt of"));
      const next: PendingAction = { ...action, attempts: action.attempts + 1, error: command.error };
      return accept(next, [
        {
          type: "action.attempt_failed",
          at: now,
          payload: { ...base, callback_id: action.callbackId, attempts: next.attempts, error: command.error },
        },
      ]);
    }
  }
}

function refusal(action: PendingAction, verb: string): IllegalTransitionError | ExpiredError {
  if (action.status === "cancelled" && action.cancelReason === "expired") {
    return new ExpiredError(`action ${action.id} expired at ${iso(action.expiresAt)}`);
  }
  const why = action.status === "cancelled" && action.cancelReason === "thread_closed" ? "cancelled when its thread closed" : action.status;
  return new IllegalTransitionError(action.status, verb, `cannot ${verb} action ${action.id}: it is ${why}`);
}
