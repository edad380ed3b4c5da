import { type PendingAction, threadKind } from "../../kinds/thread.js";
import { sameJson } from "../../machines/pending-action.js";
import { type EngineModel, type Entry, no, ok, SECOND, type States, type Verdict } from "./model.js";

// The model's rules for conversation threads (seed 002): active → closed, context variables, and
// pending actions: pending → processing (then the executor's outcome, in `EngineModel.tick`) or
// pending → cancelled by a person, by their deadline or by their thread closing.

type Thread = Entry<"thread"> | undefined;

/** Context variables after `patch`: `null` removes a key; within `threadKind.limits` after it. */
function merge(current: Record<string, unknown>, patch: Record<string, unknown>, keysValid: boolean): Record<string, unknown> | null {
  if (!keysValid) return null;
  const variables = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete variables[key];
    else variables[key] = value;
  }
  const bytes = new TextEncoder().encode(JSON.stringify(variables)).length;
  const { contextVariables, contextVariablesBytes } = threadKind.limits;
  return Object.keys(variables).length <= contextVariables && bytes <= contextVariablesBytes ? variables : null;
}

export function createThread(
  m: EngineModel,
  variables: Record<string, unknown>,
  keysValid: boolean,
  metadata: object | undefined,
  valid: boolean,
): Verdict {
  const merged = valid ? merge({}, variables, keysValid) : null;
  if (!merged) return no("invalid_input");
  const state = {
    id: "",
    status: "active",
    contextVariables: merged,
    metadata: metadata ?? {},
    createdAt: m.now,
    updatedAt: m.now,
    ...{ closedAt: null, durationSeconds: null, billable: null, actions: [] },
  };
  return m.add("thread", state as States["thread"], "session.created");
}

/** Merges `patch` into an active thread's variables; JSON the boundary refuses is refused before the thread is read. */
export function updateContext(
  m: EngineModel,
  entry: Thread,
  patch: { variables: Record<string, unknown>; keysValid: boolean },
  valid: boolean,
): Verdict {
  if (!valid) return no("invalid_input");
  if (!entry) return no("not_found");
  m.flush(entry);
  if (entry.state.status !== "active") return no("illegal_transition");
  const merged = merge(entry.state.contextVariables, patch.variables, patch.keysValid);
  if (!merged) return no("invalid_input");
  entry.state.contextVariables = merged;
  m.write(entry, "context.updated");
  return ok();
}

/** Closes the thread: billable past a minute or with a confirmed action; its pending actions are cancelled. */
export function close(m: EngineModel, entry: Thread): Verdict {
  if (!entry) return no("not_found");
  m.flush(entry);
  const { state } = entry;
  if (state.status === "closed") return ok();
  const durationSeconds = Math.floor((m.now - state.createdAt) / SECOND);
  const billable = durationSeconds >= 60 || state.actions.some((action) => action.callbackId !== null);
  const pending = state.actions.filter((action) => action.status === "pending");
  for (const action of pending) {
    Object.assign(action, { status: "cancelled", cancelReason: "thread_closed", decidedAt: m.now, completedAt: m.now });
  }
  Object.assign(state, { status: "closed", closedAt: m.now, durationSeconds, billable });
  m.write(entry, ...pending.map(() => "action.cancelled"), "session.closed");
  return ok();
}

export function propose(
  m: EngineModel,
  entry: Thread,
  input: { tool: string; preview: Record<string, unknown>; expiresIn?: number; options?: Record<string, unknown> },
  valid: boolean,
): Verdict {
  if (!valid) return no("invalid_input");
  if (!entry) return no("not_found");
  m.flush(entry);
  if (entry.state.status !== "active") return no("illegal_transition");
  const { args, argsSchema, onExpire } = input.options ?? {};
  const action: PendingAction = {
    ...{ id: "", tool: input.tool, preview: input.preview, status: "pending", createdAt: m.now },
    ...{ expiresAt: m.now + (input.expiresIn ?? 600) * SECOND, decidedAt: null, callbackId: null, cancelReason: null },
    ...{ attempts: 0, runs: 0, result: null, error: null, completedAt: null },
    ...(args !== undefined ? { args } : {}),
    ...(argsSchema !== undefined ? { argsSchema: argsSchema as Record<string, unknown> } : {}),
    ...(onExpire === "deny" ? { onExpire: "deny" as const } : {}),
  };
  entry.state.actions.push(action);
  m.write(entry, "action.proposed");
  // The review link's secret is random: the action keeps its hash, which the model takes from the answer.
  return ok((answer: { id: string; reviewers?: PendingAction["reviewers"] }) => {
    action.id = answer.id;
    if (answer.reviewers) action.reviewers = answer.reviewers;
  });
}

/**
 * A person's decision: a confirmation moves a pending action to `processing` (its executor runs
 * at the next tick); a cancellation cancels it. Confirming again, or cancelling a cancelled
 * action, is harmless; an action past its deadline is expired.
 */
export function decide(
  m: EngineModel,
  entry: Thread,
  actionId: string,
  confirmed: boolean,
  extra: { args?: unknown; passesSchema?: boolean; reason?: string; reasonValid?: boolean } = {},
): Verdict {
  // The input is judged before the action is looked for: a reason with a yes, arguments with a no, or a reason too long.
  if (confirmed && extra.reason !== undefined) return no("invalid_input");
  if (!confirmed && extra.args !== undefined) return no("invalid_input");
  if (extra.reasonValid === false) return no("invalid_input");
  if (!entry) return no("not_found");
  m.flush(entry);
  const action = entry.state.actions.find((candidate) => candidate.id === actionId);
  if (!action) return no("not_found");
  if (confirmed ? action.callbackId !== null : action.status === "cancelled") return ok();
  if (action.status !== "pending") {
    return no(action.cancelReason === "expired" || action.cancelReason === "denied" ? "expired" : "illegal_transition");
  }
  // Edited arguments are checked against the action's schema, if it has one; the action stays pending when they fail.
  if (confirmed && extra.args !== undefined && action.argsSchema !== undefined && extra.passesSchema === false) return no("invalid_input");
  if (confirmed && extra.args !== undefined && !sameJson(extra.args, action.args ?? null)) {
    action.originalArgs = action.args ?? null;
    action.args = extra.args;
  }
  if (!confirmed && extra.reason !== undefined) action.reason = extra.reason;
  // Over the API, a decision is recorded as the caller's: the organization, when no key label is given.
  const byCaller = (answer: { action: PendingAction }) => void (action.decidedBy = answer.action.decidedBy);
  if (!confirmed) {
    Object.assign(action, { status: "cancelled", cancelReason: "person", decidedAt: m.now, completedAt: m.now, decidedVia: "api" });
    m.write(entry, "action.cancelled");
    return ok(byCaller);
  }
  Object.assign(action, { status: "processing", decidedAt: m.now, decidedVia: "api" });
  m.runAt.set(action, m.now);
  m.write(entry, "action.confirmed");
  return ok((answer: { action: PendingAction }) => {
    action.callbackId = answer.action.callbackId;
    byCaller(answer);
  });
}
