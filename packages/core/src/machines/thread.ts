import { ConflictError, IllegalTransitionError, InvalidInputError, NotFoundError } from "../errors.js";
import { PART_PREFIXES } from "../ids.js";
import { ACTION_TOPIC, type PendingAction, type Thread, threadKind } from "../kinds/thread.js";
import { accept, defineMachine, type Effects, earlier, iso, type Machine, NO_METADATA, NONE, refuse, type Transition } from "../machine.js";
import type { EventDraft } from "../schemas/event.js";
import type { OutboxMessage } from "../store.js";
import { jsonBytes } from "../validate.js";
import { actionDueAt, type PendingActionCommand, type ProposalOptions, proposeAction, settleAction, transitionAction } from "./pending-action.js";

/** What a billing policy sees of a thread that is closing. */
export interface ClosingThread {
  readonly id: string;
  readonly orgId: string;
  readonly durationSeconds: number;
  readonly actionsConfirmed: number;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Decides whether a closed thread counts toward billing. It must be pure. */
export type BillablePolicy = (thread: ClosingThread) => boolean;

/**
 * The default policy: a thread is billable unless it closed within a one-minute grace period
 * without any confirmed action.
 */
export const defaultBillablePolicy: BillablePolicy = (thread) => thread.durationSeconds >= 60 || thread.actionsConfirmed > 0;

/** Commands a conversation thread answers to. */
export type ThreadCommand =
  | { readonly type: "updateContext"; readonly variables: Readonly<Record<string, unknown>> }
  | { readonly type: "close"; readonly policy?: BillablePolicy }
  | ({
      readonly type: "proposeAction";
      readonly actionId: string;
      readonly tool: string;
      readonly preview: Record<string, unknown>;
      /** The deadline: a moment, or (`expiresInMs`) a time from the write's own `now`, so it is exactly that long after `createdAt`. */
      readonly expiresAt?: number;
      readonly expiresInMs?: number;
    } & ProposalOptions)
  | { readonly type: "action"; readonly actionId: string; readonly command: PendingActionCommand }
  | { readonly type: "tick" };

const CONTEXT_KEY = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;
const { contextVariables: MAX_VARIABLES, contextVariablesBytes: MAX_VARIABLES_BYTES } = threadKind.limits;

/** Context variables after a patch, with the keys it set and removed. */
export interface MergedContext {
  readonly variables: Record<string, unknown>;
  readonly set: string[];
  readonly removed: string[];
}

/**
 * Merges a context-variable patch into `current`: keys must be UPPERCASE_SNAKE_CASE, `null`
 * removes a key, and the result stays within `threadKind.limits` (variables and bytes of JSON).
 * Answers why not as an `InvalidInputError` naming `contextVariables`, for the caller to refuse.
 */
export function mergeContextVariables(
  current: Readonly<Record<string, unknown>>,
  patch: Readonly<Record<string, unknown>>,
): MergedContext | InvalidInputError {
  const variables: Record<string, unknown> = { ...current };
  const set: string[] = [];
  const removed: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (!CONTEXT_KEY.test(key)) return new InvalidInputError(`contextVariables.${key}`, "keys must be UPPERCASE_SNAKE_CASE");
    if (value === null) {
      if (Object.hasOwn(variables, key)) removed.push(key);
      delete variables[key];
    } else {
      variables[key] = value;
      set.push(key);
    }
  }
  const count = Object.keys(variables).length;
  if (count > MAX_VARIABLES) {
    return new InvalidInputError("contextVariables", `at most ${MAX_VARIABLES} variables after the update (this update would leave ${count})`);
  }
  const text = JSON.stringify(variables);
  // Each UTF-16 unit is at most 3 UTF-8 bytes: only text that might be over the limit is encoded.
  const bytes = text.length * 3 <= MAX_VARIABLES_BYTES ? text.length : jsonBytes(variables);
  if (bytes > MAX_VARIABLES_BYTES) {
    return new InvalidInputError(
      "contextVariables",
      `at most ${MAX_VARIABLES_BYTES} bytes of JSON after the update (this update would leave ${bytes})`,
    );
  }
  return { variables, set, removed };
}

/** Builds a new thread in `active`, or refuses context variables it cannot keep. */
export function createThread(
  input: { id: string; orgId: string; contextVariables?: Record<string, unknown>; metadata?: Record<string, unknown> },
  now: number,
): Transition<Thread> {
  const merged = mergeContextVariables({}, input.contextVariables ?? {});
  if (merged instanceof InvalidInputError) return refuse(merged);
  const state: Thread = {
    id: input.id,
    orgId: input.orgId,
    status: "active",
    contextVariables: merged.variables,
    metadata: input.metadata ?? NO_METADATA,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    durationSeconds: null,
    billable: null,
    actions: NONE,
  };
  return accept(state, [{ type: "session.created", at: now, payload: { thread_id: input.id } }]);
}

/** The outbox message that has a confirmed action executed; its id follows from the callback id. */
function actionRun(thread: Thread, action: PendingAction, now: number): OutboxMessage {
  const callbackId = action.callbackId!;
  return {
    id: `${PART_PREFIXES.outbox}_${callbackId.slice(callbackId.indexOf("_") + 1)}`,
    orgId: thread.orgId,
    topic: ACTION_TOPIC,
    payload: { thread_id: thread.id, action_id: action.id, callback_id: callbackId },
    availableAt: now,
  };
}

function settle(state: Thread, now: number): { state: Thread; events: EventDraft[] } {
  let events: EventDraft[] | undefined;
  let actions: PendingAction[] | undefined;
  state.actions.forEach((action, index) => {
    const settled = settleAction(state.id, action, now);
    if (settled.events.length === 0) return;
    actions ??= state.actions.slice();
    events ??= [];
    actions[index] = settled.action;
    events.push(...settled.events);
  });
  if (!actions || !events) return { state, events: [] };
  events.sort((a, b) => a.at - b.at);
  const updatedAt = Math.max(state.updatedAt, events[events.length - 1]!.at);
  return { state: { ...state, actions, updatedAt }, events };
}

function apply(state: Thread, command: ThreadCommand, now: number): Transition<Thread> {
  switch (command.type) {
    case "tick":
      return accept(state);
    case "close": {
      if (state.status === "closed") return accept(state);
      const durationSeconds = Math.max(0, Math.floor((now - state.createdAt) / 1000));
      const events: EventDraft[] = [];
      const actions = state.actions.map((action) => {
        if (action.status !== "pending") return action;
        const cancelled = transitionAction(state.id, action, { type: "cancel", reason: "thread_closed" }, now);
        if (!cancelled.ok) return action;
        events.push(...cancelled.events);
        return cancelled.state;
      });
      const policy = command.policy ?? defaultBillablePolicy;
      const billable = policy({
        id: state.id,
        orgId: state.orgId,
        durationSeconds,
        actionsConfirmed: state.actions.filter((action) => action.callbackId !== null).length,
        metadata: state.metadata,
      });
      const next: Thread = { ...state, status: "closed", closedAt: now, durationSeconds, billable, actions, updatedAt: now };
      events.push({
        type: "session.closed",
        at: now,
        payload: { thread_id: state.id, closed_at: iso(now), duration_seconds: durationSeconds, billable },
      });
      return accept(next, events);
    }
    case "updateContext": {
      if (state.status !== "active") return refuse(illegal(state, "update the context of"));
      const merged = mergeContextVariables(state.contextVariables, command.variables);
      if (merged instanceof InvalidInputError) return refuse(merged);
      const next: Thread = { ...state, contextVariables: merged.variables, updatedAt: now };
      return accept(next, [{ type: "context.updated", at: now, payload: { thread_id: state.id, set: merged.set, removed: merged.removed } }]);
    }
    case "proposeAction": {
      if (state.status !== "active") return refuse(illegal(state, "propose an action in"));
      if (state.actions.some((action) => action.id === command.actionId)) {
        return refuse(new ConflictError(`action ${command.actionId} already exists in thread ${state.id}`));
      }
      if (state.actions.length >= threadKind.limits.actions) {
        return refuse(new ConflictError(`thread ${state.id} already holds ${threadKind.limits.actions} actions, the most one thread keeps`));
      }
      const { type: _type, actionId, expiresInMs, ...proposal } = command;
      const expiresAt = expiresInMs !== undefined ? now + expiresInMs : (command.expiresAt ?? now);
      if (expiresAt <= now) return refuse(new InvalidInputError("expiresIn", "must be in the future"));
      const { action, events } = proposeAction(state.id, { id: actionId, ...proposal, expiresAt }, now);
      return accept({ ...state, actions: [...state.actions, action], updatedAt: now }, events);
    }
    case "action": {
      const index = state.actions.findIndex((action) => action.id === command.actionId);
      if (index < 0) return refuse(new NotFoundError(`Action ${command.actionId} not found`));
      const result = transitionAction(state.id, state.actions[index]!, command.command, now);
      if (!result.ok) return refuse(result.error);
      if (result.state === state.actions[index]) return accept(state);
      const actions = state.actions.slice();
      actions[index] = result.state;
      const next: Thread = { ...state, actions, updatedAt: now };
      // A confirmation the engine executes (over the API, or the last approval a link posted) asks
      // for the executor's run in the same write.
      const { command: decided } = command;
      const confirmed = state.actions[index]!.status === "pending" && result.state.status === "processing";
      const execute = (decided.type === "confirm" || decided.type === "review") && decided.execute === true;
      const effects: Effects | undefined = confirmed && execute ? { outbox: [actionRun(next, result.state, now)] } : undefined;
      return accept(next, result.events, effects);
    }
  }
}

function illegal(state: Thread, verb: string): IllegalTransitionError {
  return new IllegalTransitionError(state.status, verb, `cannot ${verb} thread ${state.id}: it is ${state.status}`);
}

/** The conversation thread machine: `active → closed`, with context variables and pending actions. */
export const threadMachine: Machine<Thread, ThreadCommand> = defineMachine({
  settle,
  apply,
  dueAt: (state) => {
    let due: number | null = null;
    for (const action of state.actions) due = earlier(due, actionDueAt(action));
    return due;
  },
  status: (state) => state.status,
  timeChangesStatus: false,
});
