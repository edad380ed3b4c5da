import { type Static, Type } from "@sinclair/typebox";
import { iso, isoOrNull } from "../machine.js";
import { AnyObject, closed, DateTime, JsonObject, Metadata, Nullable, RemindBefore, Timestamp } from "../schemas/common.js";
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
  /** Approvers one action names, each with a review link of their own. */
  approvers: 20,
  /** Characters of an approver's name (an email address is at most 320). */
  approverChars: 320,
  /** Characters of the reason that comes with a "no". */
  reasonChars: 1000,
  /** Random bytes of a review link's secret: 256 bits. */
  reviewSecretBytes: 32,
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

/**
 * Why a pending action was cancelled: by a person, by its deadline (`on_expire: "cancel"`), denied
 * at its deadline (`on_expire: "deny"`), or by the thread closing.
 */
export const CancelReason = Type.Union([Type.Literal("person"), Type.Literal("expired"), Type.Literal("denied"), Type.Literal("thread_closed")]);
export type CancelReason = Static<typeof CancelReason>;

/** How a decision was made: over the API, on a review link, or by the deadline passing. */
export const DecidedVia = Type.Union([Type.Literal("api"), Type.Literal("link"), Type.Literal("expiry")]);
export type DecidedVia = Static<typeof DecidedVia>;

/** What an action's deadline does to it while still pending: cancel it (the seed's default) or deny it. */
export const OnExpire = Type.Union([Type.Literal("cancel"), Type.Literal("deny")], { errorMessage: "must be one of cancel, deny" });
export type OnExpire = Static<typeof OnExpire>;

/** One approval of an action with approvers: who approved, and when. */
export const Approval = Type.Object({ approver: Type.String(), at: Timestamp });
export type Approval = Static<typeof Approval>;

/**
 * A review link of an action: the SHA-256 (hex) of its secret, never the secret itself, and the
 * approver it belongs to; `null` is the action's own link, which decides when no approvers are
 * named and only shows the action when some are.
 */
export const Reviewer = Type.Object({ approver: Nullable(Type.String()), hash: Type.String() });
export type Reviewer = Static<typeof Reviewer>;

/**
 * A tool call the agent proposed, waiting for a person's "yes" until `expiresAt`. The fields from
 * `args` on are present only when used (an action proposed as the seed proposes one has none).
 */
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
  /** The tool call's arguments: what runs (after a person's edit, if any). */
  args: Type.Optional(Type.Unknown()),
  /** The arguments as proposed, kept once a person changed them. */
  originalArgs: Type.Optional(Type.Unknown()),
  /** The JSON Schema `args` and every edit of them are checked against. */
  argsSchema: Type.Optional(JsonObject),
  /** The reason a person gave with a "no", or why the deadline denied it. */
  reason: Type.Optional(Type.String()),
  /** Who decided: `<org>/<key label>` over the API, the approver on a link (`link` for the action's own), or `expiry`. */
  decidedBy: Type.Optional(Type.String()),
  decidedVia: Type.Optional(DecidedVia),
  /** `deny` when the deadline denies the action; absent, it cancels it. */
  onExpire: Type.Optional(Type.Literal("deny")),
  /** Seconds before `expiresAt` at which `action.expiring` is sent. */
  remindBefore: Type.Optional(Type.Array(Type.Integer())),
  /** The moments of the reminders not sent yet, earliest first. */
  reminders: Type.Optional(Type.Array(Timestamp)),
  approvers: Type.Optional(Type.Array(Type.String())),
  /** Distinct approvals that confirm the action; absent is 1. */
  approvalsRequired: Type.Optional(Type.Integer({ minimum: 1 })),
  approvals: Type.Optional(Type.Array(Approval)),
  reviewers: Type.Optional(Type.Array(Reviewer)),
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
    /** The tool call's arguments (any JSON), which a person may edit before confirming. */
    args: Type.Optional(Type.Unknown({ description: "The tool call's arguments (any JSON); a person may edit them before confirming" })),
    /** A JSON Schema for `args`, checked now and on every edit. */
    argsSchema: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        errorMessage: "must be a JSON Schema object",
        description: "A JSON Schema (draft 2020-12 unless `$schema` says otherwise) that `args` and every edit of them must satisfy",
      }),
    ),
    /** People who decide on links of their own; see `approvalsRequired`. */
    approvers: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.approverChars, pattern: "^[^\\u0000-\\u001f\\u007f]+$" }), {
        minItems: 1,
        maxItems: LIMITS.approvers,
        uniqueItems: true,
        description: "Names or email addresses; each gets a review link of their own, which records who decided",
      }),
    ),
    /** Distinct approvers who must approve before the action runs (default 1, at most the number of approvers). */
    approvalsRequired: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.approvers })),
    /** What the deadline does to the action if nobody decided: cancel (default) or deny. */
    onExpire: Type.Optional(OnExpire),
    remindBefore: Type.Optional(RemindBefore),
  },
  closed,
);
export type ProposeActionInput = Static<typeof ProposeActionInput>;

/**
 * `engine.threads.decideAction`: `true` has the action executed (with `args`, the arguments as a
 * person edited them), `false` cancels it (with the person's `reason`).
 */
export const DecideActionInput = Type.Object(
  {
    confirmed: Type.Boolean(),
    args: Type.Optional(
      Type.Unknown({ description: "With `confirmed: true`: the arguments to run with, checked against the action's `args_schema`" }),
    ),
    reason: Type.Optional(Type.String({ maxLength: LIMITS.reasonChars, description: "With `confirmed: false`: why, for the agent to read" })),
  },
  closed,
);
export type DecideActionInput = Static<typeof DecideActionInput>;

/** `engine.threads.reviewDecide`: what a review page posts, approve (with edited `args`) or deny (with a `reason`). */
export const ReviewDecisionInput = Type.Object(
  {
    approve: Type.Boolean(),
    args: Type.Optional(Type.Unknown()),
    reason: Type.Optional(Type.String({ maxLength: LIMITS.reasonChars })),
  },
  closed,
);
export type ReviewDecisionInput = Static<typeof ReviewDecisionInput>;

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
    args: Type.Unknown({ description: "The arguments that run (or will): as proposed, or as a person edited them" }),
    original_args: Type.Unknown({ description: "The arguments as proposed" }),
    args_changed: Type.Boolean(),
    args_schema: Nullable(AnyObject),
    reason: Nullable(Type.String({ description: "The reason given with a no, or why the deadline denied the action" })),
    decided_by: Nullable(
      Type.String({ description: "`<org>/<key label>` over the API, the approver on a review link (`link` for the action's own), or `expiry`" }),
    ),
    decided_via: Nullable(DecidedVia),
    on_expire: OnExpire,
    approvers: Type.Array(Type.String()),
    approvals_required: Type.Integer(),
    approvals: Type.Array(Type.Object({ approver: Type.String(), approved_at: DateTime })),
    remind_before: Type.Array(Type.Integer()),
  },
  { $id: "PendingAction" },
);

/** The answer to proposing an action: the action, with the review links shown this once (only their hashes are kept). */
export const ProposedActionBody = Type.Composite(
  [
    ActionBody,
    Type.Object({
      review_url: Type.String({
        description: "The action's review page: no API key needed; shows the action, and decides it when no approvers are named",
      }),
      review_urls: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Each approver's own review page" })),
    }),
  ],
  { $id: "ProposedAction" },
);

/** The answer to a person's decision (seed 002): cancelled, or confirmed with its `callback_id`. */
export const DecisionBody = Type.Object({
  thread_id: Type.String(),
  action_id: Type.String(),
  callback_id: Type.Optional(Type.String()),
  status: Type.String(),
  message: Type.String(),
});

/**
 * A proposed action with the secrets of its review links, shown to the proposer this once: the
 * token of the action's own link, and each approver's.
 */
export type ProposedAction = PendingAction & {
  readonly reviewTokens: { readonly link: string; readonly approvers: Readonly<Record<string, string>> };
};

/** Threads and pending actions on the wire (seed 002, snake_case). */
export const threadWire = {
  create: wireInput(CreateThreadInput, { contextVariables: "context_variables" }),
  updateContext: wireInput(UpdateContextInput, { contextVariables: "context_variables" }),
  proposeAction: wireInput(ProposeActionInput, {
    expiresIn: "expires_in",
    argsSchema: "args_schema",
    approvalsRequired: "approvals_required",
    onExpire: "on_expire",
    remindBefore: "remind_before",
  }),
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
    args: action.args ?? null,
    original_args: (action.originalArgs !== undefined ? action.originalArgs : action.args) ?? null,
    args_changed: action.originalArgs !== undefined,
    args_schema: action.argsSchema ?? null,
    reason: action.reason ?? null,
    decided_by: action.decidedBy ?? null,
    decided_via: action.decidedVia ?? null,
    on_expire: action.onExpire ?? "cancel",
    approvers: action.approvers ?? [],
    approvals_required: action.approvalsRequired ?? 1,
    approvals: (action.approvals ?? []).map((approval) => ({ approver: approval.approver, approved_at: iso(approval.at) })),
    remind_before: action.remindBefore ?? [],
  }),
  proposed: ProposedActionBody,
  /** The proposal's answer: the action and its review links (`origin` + `/r/<token>`). */
  toProposed: (threadId: string, proposed: ProposedAction, origin: string): Static<typeof ProposedActionBody> => {
    const url = (token: string) => `${origin}/r/${token}`;
    const { link, approvers } = proposed.reviewTokens;
    const named = Object.entries(approvers);
    return {
      ...threadWire.toAction(threadId, proposed),
      review_url: url(link),
      ...(named.length > 0 ? { review_urls: Object.fromEntries(named.map(([approver, token]) => [approver, url(token)])) } : {}),
    };
  },
  decision: DecisionBody,
  /** What a decision answers: the cancellation, or the confirmation with its callback id (and the action's status now). */
  toDecision: (threadId: string, action: PendingAction): Static<typeof DecisionBody> => {
    if (action.status === "cancelled") return { thread_id: threadId, action_id: action.id, status: "cancelled", message: "Action cancelled" };
    const message = action.status === "processing" ? "Action confirmed, executing..." : `Action confirmed, ${action.status}`;
    return { thread_id: threadId, action_id: action.id, callback_id: action.callbackId!, status: action.status, message };
  },
};
