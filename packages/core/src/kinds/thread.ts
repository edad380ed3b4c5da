import { type Static, Type } from "@sinclair/typebox";
import { iso, isoOrNull } from "../machine.js";
import { AnyObject, closed, DateTime, JsonObject, Metadata, Nullable, Timestamp } from "../schemas/common.js";
import { defineKind, statusSchema, wireInput } from "./kind.js";

/** What one thread holds at most, and how long its actions wait for a person. */
const LIMITS = {
  /** Context variables of one thread after an update. */
  contextVariables: 20,
  /** Context variables of one thread, serialized as JSON (UTF-8 bytes), after an update. */
  contextVariablesBytes: 4 * 1024,
  /** Pending actions one thread keeps, decided or not. */
  actions: 500,
  /** Characters of a tool's name. */
  toolChars: 100,
  /** Longest time a person can be given to decide an action, in seconds: one week. */
  maxActionExpiresInSeconds: 7 * 24 * 3600,
  /** Time a person has to decide an action proposed without `expiresIn`, in seconds: ten minutes. */
  defaultActionExpiresInSeconds: 600,
} as const;

/** The prefixes of a pending action's id (`act_…`) and of its confirmation's callback id (`cb_…`). */
export const ACTION_PREFIXES = { action: "act", callback: "cb" } as const;

/** The outbox topic of confirmed actions waiting for their executor. */
export const ACTION_TOPIC = "action";

/** Every status of a thread. */
export const THREAD_STATUSES = ["active", "closed"] as const;
export const ThreadStatus = statusSchema(THREAD_STATUSES);
export type ThreadStatus = (typeof THREAD_STATUSES)[number];

/** Every status of a pending action, in lifecycle order. */
export const ACTION_STATUSES = ["pending", "processing", "succeeded", "failed", "cancelled"] as const;
export const ActionStatus = statusSchema(ACTION_STATUSES);
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Why a pending action was cancelled: by the person, by its deadline, or by the thread closing. */
export const CancelReason = Type.Union([Type.Literal("person"), Type.Literal("expired"), Type.Literal("thread_closed")]);
export type CancelReason = Static<typeof CancelReason>;

/** A tool call the agent proposed, waiting for a person's "yes" until `expiresAt`. */
export const PendingAction = Type.Object({
  id: Type.String(),
  tool: Type.String(),
  preview: JsonObject,
  status: ActionStatus,
  createdAt: Timestamp,
  expiresAt: Timestamp,
  decidedAt: Nullable(Timestamp),
  callbackId: Nullable(Type.String()),
  cancelReason: Nullable(CancelReason),
  attempts: Type.Integer(),
  /** Runs of its executor begun, finished or not: a run cut short by a crash counts too. */
  runs: Type.Integer({ minimum: 0 }),
  result: Type.Unknown(),
  error: Nullable(Type.String()),
  completedAt: Nullable(Timestamp),
});
export type PendingAction = Static<typeof PendingAction>;

const VARIABLES_RULE =
  `Keys are UPPERCASE_SNAKE_CASE. A thread keeps at most ${LIMITS.contextVariables} variables ` +
  `and ${LIMITS.contextVariablesBytes} bytes of JSON.`;

/** A thread's context variables, as kept and as shown: the schema states the count limit. */
const ContextVariables = Type.Record(Type.String(), Type.Unknown(), {
  maxProperties: LIMITS.contextVariables,
  description: VARIABLES_RULE,
  errorMessage: "must be an object",
});

/** A conversation thread: context variables and the pending actions of its agent. */
export const Thread = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  status: ThreadStatus,
  contextVariables: ContextVariables,
  metadata: Metadata,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  closedAt: Nullable(Timestamp),
  durationSeconds: Nullable(Type.Integer()),
  billable: Nullable(Type.Boolean()),
  actions: Type.Array(PendingAction),
});
export type Thread = Static<typeof Thread>;

/**
 * Context variables as sent: a `null` value removes the key. The limits hold for the variables
 * after the update, so a patch may name more keys than a thread keeps (when it removes some).
 */
export const ContextVariablesPatch = Type.Record(Type.String(), Type.Unknown(), {
  description: `Variables to set; a null value removes the key. ${VARIABLES_RULE.slice(0, -1)}, after the update.`,
  errorMessage: "must be an object",
});
export type ContextVariablesPatch = Static<typeof ContextVariablesPatch>;

/** `engine.threads.create`: the first context variables and metadata. */
export const CreateThreadInput = Type.Object({ contextVariables: Type.Optional(ContextVariablesPatch), metadata: Type.Optional(Metadata) }, closed);
export type CreateThreadInput = Static<typeof CreateThreadInput>;

/** `engine.threads.updateContext`: the variables to set or (with `null`) remove. */
export const UpdateContextInput = Type.Object({ contextVariables: ContextVariablesPatch }, closed);
export type UpdateContextInput = Static<typeof UpdateContextInput>;

/** `engine.threads.proposeAction`: the tool, what the person is shown, and how long they have. */
export const ProposeActionInput = Type.Object(
  {
    tool: Type.String({
      pattern: "^[A-Za-z][A-Za-z0-9_.-]*$",
      maxLength: LIMITS.toolChars,
      errorMessage: `must start with a letter and hold only letters, digits, _, . and - (at most ${LIMITS.toolChars})`,
    }),
    preview: JsonObject,
    /** Seconds the person has to decide. Default: `threadKind.limits.defaultActionExpiresInSeconds`. */
    expiresIn: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxActionExpiresInSeconds })),
  },
  closed,
);
export type ProposeActionInput = Static<typeof ProposeActionInput>;

/** `engine.threads.decideAction`: `true` has the action executed, `false` cancels it. */
export const DecideActionInput = Type.Object({ confirmed: Type.Boolean() }, closed);
export type DecideActionInput = Static<typeof DecideActionInput>;

/**
 * Threads (seed 002): context variables and the pending actions a person decides, until closed.
 * A pending action is part of its thread's record (`actions`), not a record of its own: closing a
 * thread cancels its actions in the same write.
 */
export const threadKind = defineKind({
  name: "thread",
  prefix: "thread",
  noun: "Session",
  statuses: THREAD_STATUSES,
  terminal: ["closed"],
  state: Thread,
  limits: LIMITS,
  parts: (state: Thread) => state.actions.length,
});

/** A thread as seed 002 shows it, snake_case, with the ids of its pending actions. */
export const ThreadBody = Type.Object(
  {
    thread_id: Type.String({ examples: ["thread_0190e1b0000070008000000000000001"] }),
    status: ThreadStatus,
    context_variables: ContextVariables,
    metadata: AnyObject,
    created_at: DateTime,
    updated_at: DateTime,
    closed_at: Nullable(DateTime),
    duration_seconds: Nullable(Type.Integer()),
    billable: Nullable(Type.Boolean()),
    pending_actions: Type.Array(Type.String()),
  },
  { $id: "Thread" },
);

/** The answer to closing a thread (seed 002). */
export const ClosedThreadBody = Type.Object({
  thread_id: Type.String(),
  closed_at: DateTime,
  duration_seconds: Type.Integer(),
  billable: Type.Boolean(),
});

/** A pending action as the wire shows it, snake_case. */
export const ActionBody = Type.Object(
  {
    action_id: Type.String({ examples: ["act_0190e1b0000070008000000000000001"] }),
    thread_id: Type.String(),
    tool: Type.String({ examples: ["send_email"] }),
    preview: AnyObject,
    expires_at: DateTime,
    status: ActionStatus,
    callback_id: Nullable(Type.String()),
    cancel_reason: Nullable(Type.String()),
    attempts: Type.Integer(),
    result: Type.Unknown(),
    error: Nullable(Type.String()),
    created_at: DateTime,
    decided_at: Nullable(DateTime),
    completed_at: Nullable(DateTime),
  },
  { $id: "PendingAction" },
);

/** The answer to a person's decision (seed 002): cancelled, or confirmed with its `callback_id`. */
export const DecisionBody = Type.Object({
  thread_id: Type.String(),
  action_id: Type.String(),
  callback_id: Type.Optional(Type.String()),
  status: Type.String(),
  message: Type.String(),
});

/** Threads and pending actions on the wire (seed 002, snake_case). */
export const threadWire = {
  create: wireInput(CreateThreadInput, { contextVariables: "context_variables" }),
  updateContext: wireInput(UpdateContextInput, { contextVariables: "context_variables" }),
  proposeAction: wireInput(ProposeActionInput, { expiresIn: "expires_in" }),
  decideAction: wireInput(DecideActionInput),
  body: ThreadBody,
  toBody: (thread: Thread): Static<typeof ThreadBody> => ({
    thread_id: thread.id,
    status: thread.status,
    context_variables: thread.contextVariables,
    metadata: thread.metadata,
    created_at: iso(thread.createdAt),
    updated_at: iso(thread.updatedAt),
    closed_at: isoOrNull(thread.closedAt),
    duration_seconds: thread.durationSeconds,
    billable: thread.billable,
    pending_actions: thread.actions.filter((action) => action.status === "pending").map((action) => action.id),
  }),
  closed: ClosedThreadBody,
  toClosed: (thread: Thread): Static<typeof ClosedThreadBody> => ({
    thread_id: thread.id,
    closed_at: iso(thread.closedAt!),
    duration_seconds: thread.durationSeconds!,
    billable: thread.billable!,
  }),
  action: ActionBody,
  toAction: (threadId: string, action: PendingAction): Static<typeof ActionBody> => ({
    action_id: action.id,
    thread_id: threadId,
    tool: action.tool,
    preview: action.preview,
    expires_at: iso(action.expiresAt),
    status: action.status,
    callback_id: action.callbackId,
    cancel_reason: action.cancelReason,
    attempts: action.attempts,
    result: action.result ?? null,
    error: action.error,
    created_at: iso(action.createdAt),
    decided_at: isoOrNull(action.decidedAt),
    completed_at: isoOrNull(action.completedAt),
  }),
  decision: DecisionBody,
  /** What a decision answers: the cancellation, or the confirmation with its callback id (and the action's status now). */
  toDecision: (threadId: string, action: PendingAction): Static<typeof DecisionBody> => {
    if (action.status === "cancelled") return { thread_id: threadId, action_id: action.id, status: "cancelled", message: "Action cancelled" };
    const message = action.status === "processing" ? "Action confirmed, executing..." : `Action confirmed, ${action.status}`;
    return { thread_id: threadId, action_id: action.id, callback_id: action.callbackId!, status: action.status, message };
  },
};
