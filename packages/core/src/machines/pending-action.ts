import { deepCompareStrict } from "@cfworker/json-schema";
import { compileArgsSchema } from "../args-schema.js";
import { ConflictError, ExpiredError, IllegalTransitionError, InvalidInputError, NotFoundError } from "../errors.js";
import type { Approval, CancelReason, DecidedVia, OnExpire, PendingAction, Reviewer } from "../kinds/thread.js";
import { accept, dueReminders, iso, isoOrNull, refuse, reminderMoments, type Transition } from "../machine.js";
import type { EventDraft } from "../schemas/event.js";

/** Who made a decision and how: over the API (`<org>/<key label>`), on a review link (the approver), or the deadline. */
export interface Decider {
  readonly by: string;
  readonly via: DecidedVia;
}

/** Commands a pending action answers to. */
export type PendingActionCommand =
  /**
   * A "yes" over the API. With `execute`, the engine runs the tool's executor: the thread's
   * transition asks for that run in the outbox. `args` are the arguments as a person edited them.
   */
  | { readonly type: "confirm"; readonly callbackId: string; readonly execute?: boolean; readonly args?: unknown; readonly decider?: Decider }
  /** A "no": by a person (with their `text`), or by the thread closing. */
  | { readonly type: "cancel"; readonly reason?: CancelReason; readonly text?: string; readonly decider?: Decider }
  /**
   * A decision posted on the review link whose secret hashes to `hash`: an approval (counted
   * toward `approvalsRequired`, confirming the action once enough distinct approvers approved)
   * or a denial with a reason.
   */
  | {
      readonly type: "review";
      readonly hash: string;
      readonly approve: boolean;
      readonly callbackId: string;
      readonly execute?: boolean;
      readonly args?: unknown;
      readonly text?: string;
    }
  | { readonly type: "succeed"; readonly result: unknown }
  | { readonly type: "attemptFailed"; readonly error: string }
  /** A worker begins a run of the executor (recorded before it runs, so a crash mid-run counts). */
  | { readonly type: "start" }
  | { readonly type: "fail"; readonly error: string };

/** What a proposal asks for beyond the seed's tool, preview and deadline; each part optional. */
export interface ProposalOptions {
  readonly args?: unknown;
  readonly argsSchema?: Record<string, unknown>;
  readonly approvers?: readonly string[];
  readonly approvalsRequired?: number;
  readonly onExpire?: OnExpire;
  readonly remindBefore?: readonly number[];
  /** The hashes of the review links' secrets: the action's own link, and each approver's. */
  readonly reviewers?: readonly Reviewer[];
}

/** The `decided_by` of the action's own review link, which names no approver. */
export const LINK_DECIDER = "link";

/** The `decided_by` and `decided_via` of a decision the deadline made. */
const EXPIRY: Decider = { by: "expiry", via: "expiry" };

/** The reason kept with a denial the deadline made (`on_expire: "deny"`). */
const DENIED_AT_DEADLINE = "no decision before the deadline";

/** Compiled argument schemas by their JSON text: one action's schema is checked on every edit. */
const SCHEMAS = new Map<string, ReturnType<typeof compileArgsSchema>>();
const MAX_SCHEMAS = 256;

function schemaOf(schema: Record<string, unknown>): ReturnType<typeof compileArgsSchema> {
  const key = JSON.stringify(schema);
  let compiled = SCHEMAS.get(key);
  if (compiled === undefined) {
    compiled = compileArgsSchema(schema);
    if (SCHEMAS.size >= MAX_SCHEMAS) SCHEMAS.delete(SCHEMAS.keys().next().value!);
    SCHEMAS.set(key, compiled);
  }
  return compiled;
}

/** Checks `args` against an action's schema, if it has one; throws naming the path (`args.to`). */
export function checkArgs(schema: Record<string, unknown> | undefined, args: unknown): void {
  if (schema !== undefined) schemaOf(schema).check(args);
}

/** Checks a schema for `args` can be used: throws naming where it cannot (`argsSchema.properties.to.pattern`). */
export function checkArgsSchema(schema: Record<string, unknown>): void {
  schemaOf(schema);
}

/** Whether two JSON values are the same value, object keys in any order (the schema validator's own comparison). */
export const sameJson: (a: unknown, b: unknown) => boolean = deepCompareStrict;

/** Builds a proposed action in `pending`; the optional parts are kept only when given. */
export function proposeAction(
  threadId: string,
  input: { id: string; tool: string; preview: Record<string, unknown>; expiresAt: number } & ProposalOptions,
  now: number,
): { action: PendingAction; events: EventDraft[] } {
  let action: PendingAction = {
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
  const reminders = reminderMoments(input.remindBefore, input.expiresAt, now);
  action = {
    ...action,
    ...(input.args !== undefined ? { args: input.args } : {}),
    ...(input.argsSchema !== undefined ? { argsSchema: input.argsSchema } : {}),
    ...(input.approvers !== undefined && input.approvers.length > 0 ? { approvers: [...input.approvers] } : {}),
    ...(input.approvalsRequired !== undefined && input.approvalsRequired > 1 ? { approvalsRequired: input.approvalsRequired } : {}),
    ...(input.onExpire === "deny" ? { onExpire: "deny" as const } : {}),
    ...(input.remindBefore !== undefined && input.remindBefore.length > 0 ? { remindBefore: [...input.remindBefore] } : {}),
    ...(reminders.length > 0 ? { reminders } : {}),
    ...(input.reviewers !== undefined && input.reviewers.length > 0 ? { reviewers: [...input.reviewers] } : {}),
  };
  const payload: Record<string, unknown> = { thread_id: threadId, action_id: action.id, tool: action.tool, expires_at: iso(action.expiresAt) };
  if (action.approvers) Object.assign(payload, { approvers: action.approvers, approvals_required: action.approvalsRequired ?? 1 });
  return { action, events: [{ type: "action.proposed", at: now, payload }] };
}

/**
 * What time alone does to an action by `now`: its reminders that came due are sent
 * (`action.expiring`, each once, only while it is pending and before its deadline), and a pending
 * action past its deadline is cancelled, or denied when it was proposed with `on_expire: "deny"`.
 */
export function settleAction(threadId: string, action: PendingAction, now: number): { action: PendingAction; events: EventDraft[] } {
  if (action.status !== "pending") return { action, events: [] };
  if (now >= action.expiresAt) {
    const reason: CancelReason = action.onExpire === "deny" ? "denied" : "expired";
    return cancel(threadId, action, reason, action.expiresAt, EXPIRY, reason === "denied" ? DENIED_AT_DEADLINE : undefined);
  }
  const { due, left } = dueReminders(action.reminders, action.expiresAt, now);
  if (due.length === 0) return { action, events: [] };
  const events = due.map((moment) => ({
    type: "action.expiring",
    at: moment,
    payload: {
      thread_id: threadId,
      action_id: action.id,
      tool: action.tool,
      expires_at: iso(action.expiresAt),
      remind_before: Math.round((action.expiresAt - moment) / 1000),
    },
  }));
  const next: PendingAction = { ...action };
  if (left.length > 0) next.reminders = [...left];
  else delete next.reminders;
  return { action: next, events };
}

/** The next moment time alone changes a pending action: its next reminder, else its deadline. */
export function actionDueAt(action: PendingAction): number | null {
  if (action.status !== "pending") return null;
  const reminder = action.reminders?.[0];
  return reminder !== undefined && reminder < action.expiresAt ? reminder : action.expiresAt;
}

function decision(action: PendingAction, at: number): Record<string, unknown> {
  return { decided_at: isoOrNull(at), decided_by: action.decidedBy ?? null, decided_via: action.decidedVia ?? null };
}

function cancel(threadId: string, action: PendingAction, reason: CancelReason, at: number, decider?: Decider, text?: string) {
  const next: PendingAction = { ...action, status: "cancelled", cancelReason: reason, decidedAt: at, completedAt: at };
  delete next.reminders;
  if (decider) Object.assign(next, { decidedBy: decider.by, decidedVia: decider.via });
  if (text !== undefined) next.reason = text;
  const payload = {
    thread_id: threadId,
    action_id: action.id,
    tool: action.tool,
    cancel_reason: reason,
    reason: next.reason ?? null,
    ...decision(next, at),
  };
  return { action: next, events: [{ type: "action.cancelled", at, payload }] };
}

/** Moves a pending action to `processing` with the arguments that will run (edited ones checked against its schema). */
function confirm(
  threadId: string,
  action: PendingAction,
  callbackId: string,
  args: unknown,
  decider: Decider | undefined,
  now: number,
): Transition<PendingAction> {
  const refused = argsRefusal(action, args);
  if (refused) return refuse(refused);
  const next: PendingAction = { ...action, status: "processing", decidedAt: now, callbackId };
  delete next.reminders;
  if (decider) Object.assign(next, { decidedBy: decider.by, decidedVia: decider.via });
  if (args !== undefined && !sameJson(args, action.args ?? null)) {
    if (next.originalArgs === undefined) next.originalArgs = action.args ?? null;
    next.args = args;
  }
  const payload = {
    thread_id: threadId,
    action_id: action.id,
    tool: action.tool,
    callback_id: callbackId,
    ...decision(next, now),
    args_changed: next.originalArgs !== undefined,
  };
  return accept(next, [{ type: "action.confirmed", at: now, payload }]);
}

/** Why edited `args` cannot run (the path the action's schema refuses), if they cannot. */
function argsRefusal(action: PendingAction, args: unknown): InvalidInputError | undefined {
  if (args === undefined) return undefined;
  try {
    checkArgs(action.argsSchema, args);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  return undefined;
}

/** The review link whose secret hashes to `hash`, if the action has one. */
function reviewerOf(action: PendingAction, hash: string): Reviewer | undefined {
  return action.reviewers?.find((reviewer) => reviewer.hash === hash);
}

/**
 * A decision posted on a review link. On the action's own link it decides the action when no
 * approvers are named, and decides nothing when some are (it only shows the action). On an
 * approver's link, a denial cancels the action with its reason, and an approval counts toward
 * `approvalsRequired`: the last one needed confirms it (once, in the same write). An approval
 * with arguments other than the ones approved so far replaces them and starts the count again, so
 * what runs is what every counted approver saw. A link that already decided decides nothing again.
 */
function review(threadId: string, action: PendingAction, command: Extract<PendingActionCommand, { type: "review" }>, now: number) {
  const reviewer = reviewerOf(action, command.hash);
  if (!reviewer) return refuse<PendingAction>(new NotFoundError("Review link not found"));
  if (action.status !== "pending") return refuse<PendingAction>(refusal(action, command.approve ? "approve" : "deny"));
  if (reviewer.approver === null && action.approvers !== undefined) {
    return refuse<PendingAction>(
      new ConflictError(`action ${action.id} is decided by its approvers, each on their own link; this link only shows it`),
    );
  }
  const decider: Decider = { by: reviewer.approver ?? LINK_DECIDER, via: "link" };
  if (!command.approve) {
    const { action: next, events } = cancel(threadId, action, "person", now, decider, command.text);
    return accept(next, events);
  }
  if (reviewer.approver === null) return confirm(threadId, action, command.callbackId, command.args, decider, now);
  if (action.approvals?.some((approval) => approval.approver === reviewer.approver)) {
    return refuse<PendingAction>(new ConflictError(`${reviewer.approver} already approved action ${action.id}`));
  }
  const refused = argsRefusal(action, command.args);
  if (refused) return refuse<PendingAction>(refused);
  const edited = command.args !== undefined && !sameJson(command.args, action.args ?? null);
  const approval: Approval = { approver: reviewer.approver, at: now };
  const approvals = edited ? [approval] : [...(action.approvals ?? []), approval];
  const required = action.approvalsRequired ?? 1;
  let next: PendingAction = { ...action, approvals };
  if (edited) {
    next.originalArgs = action.originalArgs !== undefined ? action.originalArgs : (action.args ?? null);
    next.args = command.args;
  }
  const approved: EventDraft = {
    type: "action.approved_by",
    at: now,
    payload: {
      thread_id: threadId,
      action_id: action.id,
      tool: action.tool,
      approver: reviewer.approver,
      approvals: approvals.length,
      approvals_required: required,
      args_changed: edited,
    },
  };
  if (approvals.length < required) return accept(next, [approved]);
  const confirmed = confirm(threadId, next, command.callbackId, undefined, decider, now);
  if (!confirmed.ok) return confirmed;
  next = confirmed.state;
  return accept(next, [approved, ...confirmed.events]);
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
      return confirm(threadId, action, command.callbackId, command.args, command.decider, now);
    }
    case "cancel": {
      if (action.status === "cancelled") return accept(action);
      if (action.status !== "pending") return refuse(refusal(action, "cancel"));
      const { action: next, events } = cancel(threadId, action, command.reason ?? "person", now, command.decider, command.text);
      return accept(next, events);
    }
    case "review":
      return review(threadId, action, command, now);
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
  if (action.status === "cancelled" && (action.cancelReason === "expired" || action.cancelReason === "denied")) {
    return new ExpiredError(`action ${action.id} expired at ${iso(action.expiresAt)}`);
  }
  const why =
    action.status === "cancelled" && action.cancelReason === "thread_closed"
      ? "cancelled when its thread closed"
      : action.decidedBy !== undefined && action.decidedAt !== null
        ? `${action.status} (decided by ${action.decidedBy})`
        : action.status;
  return new IllegalTransitionError(action.status, verb, `cannot ${verb} action ${action.id}: it is ${why}`);
}
