import type {
  ActionStatus,
  agentSessionWire,
  agentWire,
  CancelReason,
  DecidedVia,
  formSessionWire,
  formWire,
  OnExpire,
  ThreadStatus,
  threadWire,
  WaitStatus,
  WaitType,
  WireBody,
  WorkflowStatus,
  webhookWire,
  workflowWire,
} from "@agent-sessions/core";

/**
 * What the server answers, as the router's wire shapes define them (a test checks the two agree).
 * Each family keeps its seed's casing: snake_case for forms (000), threads (002), agents (003) and
 * webhooks; camelCase for workflow sessions, inboxes and waits (001). Times are ISO 8601 strings.
 * The kinds converted to descriptors take their answers from core's wire schemas of them.
 */

type JsonObject = Record<string, unknown>;

/** The value a wire schema of core describes: `Answer<typeof formWire.body>` is a form as the server shows it. */
type Answer<Schema extends { static: unknown }> = Schema["static"];

/** A page of a list: `data` and seed 001's `pagination`, with the cursor of the next page. */
export interface Page<T> {
  data: T[];
  pagination: { limit: number; offset: number; total: number; nextCursor: string | null };
}

/** The paging parameters every list takes. */
export interface ListOptions {
  limit?: number;
  offset?: number;
  /** The `nextCursor` of the previous page, instead of `offset`. */
  cursor?: string;
}

// ---- forms and form sessions (seed 000) ----

/** What `forms.create` sends: `{ name, slug?, fields, allowPartial?, metadata? }`. */
export type CreateFormInput = WireBody<typeof formWire.create>;
/** What `formSessions.create` sends: seed 000's body, snake_case. */
export type CreateFormSessionInput = WireBody<typeof formSessionWire.create>;
/** What `formSessions.extend` sends: `{ expires_in }`. */
export type ExtendFormSessionInput = WireBody<typeof formSessionWire.extend>;

/** A form definition. */
export type Form = Answer<typeof formWire.body>;

/** One person's session with a form, with its hosted `url`. */
export type FormSession = Answer<typeof formSessionWire.body>;

/** What a person submitted; `partial` submissions list the required fields left out. */
export type Submission = NonNullable<FormSession["submission"]>;

// ---- workflow sessions, inboxes, messages, waits (seed 001) ----

/** What `sessions.create` sends: a name and metadata. */
export type CreateWorkflowInput = WireBody<typeof workflowWire.create>;
/** What `sessions.recordStep` sends: the action, its input, output, duration and error. */
export type RecordStepInput = WireBody<typeof workflowWire.step.record>;
/** What `inboxes.create` sends: `{ ttlSeconds }`. */
export type CreateInboxInput = WireBody<typeof workflowWire.inbox.create>;
/** What `messages.create` sends: `{ from, subject, body }`. */
export type PostMessageInput = WireBody<typeof workflowWire.message.create>;
/**
 * What `waits.create` sends: `{ type, inboxId, timeoutSeconds }`, and optionally `on_timeout`
 * (`"fail"` or `{ resolve_with }`), `pattern`, `since` and `remind_before`.
 */
export type CreateWaitInput = WireBody<typeof workflowWire.wait.create>;

/** A workflow session with the ids of its inboxes and waits. */
export interface Session {
  id: string;
  name: string;
  status: WorkflowStatus;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  metadata: JsonObject;
  inboxes: string[];
  waits: string[];
}

/** The answer to completing a session. */
export interface CompletedSession {
  id: string;
  status: "completed";
  completedAt: string;
}

/** One event of a session's timeline. */
export interface TimelineEvent {
  id: string;
  timestamp: string;
  type: string;
  payload: JsonObject;
}

/** A recorded step, as replayed. */
export interface Step {
  index: number;
  timestamp: string;
  action: string;
  input: unknown;
  output: unknown;
  durationMs: number;
  error?: { message: string; critical: boolean };
}

/** An inbox of a workflow session. */
export interface Inbox {
  id: string;
  sessionId: string;
  ttlSeconds: number;
  createdAt: string;
  expiresAt: string;
}

/** A message an inbox received. */
export interface Message {
  id: string;
  inboxId: string;
  from: string;
  subject: string;
  body: string;
  receivedAt: string;
}

/** The message that completed a wait and, for `otp` waits or waits with a `pattern`, the code. */
export interface WaitResult {
  messageId: string;
  from: string;
  subject: string;
  body: string;
  code: string | null;
}

/**
 * A wait for a message (or a one-time code); `result` holds what completed it: a `WaitResult`, or
 * when `timed_out` (it completed at its timeout with `on_timeout.resolve_with`) that value.
 */
export type Wait = {
  id: string;
  sessionId: string;
  type: WaitType;
  inboxId: string;
  status: WaitStatus;
  timeoutSeconds: number;
  createdAt: string;
  expiresAt: string;
  completedAt: string | null;
  /** What it does at its timeout, when it was given. */
  on_timeout?: "fail" | { resolve_with: unknown };
  /** The regular expression a message must match, when it was given. */
  pattern?: string;
  /** Messages received before this moment never complete it, when it was given. */
  since?: string;
  /** Seconds before the timeout at which `wait.expiring` is sent, when they were given. */
  remind_before?: number[];
} & ({ timed_out: false; result: WaitResult | null } | { timed_out: true; result: unknown });

// ---- threads and pending actions (seed 002) ----

/** What `threads.create` sends: `{ context_variables?, metadata? }`, seed 002's casing. */
export type CreateThreadInput = WireBody<typeof threadWire.create>;
/** What `threads.updateContext` sends: `{ context_variables }`. */
export type UpdateContextInput = WireBody<typeof threadWire.updateContext>;
/**
 * What `actions.propose` sends: seed 002's `{ tool, preview, expires_in? }`, and optionally the tool
 * call's `args` with an `args_schema` they (and a person's edits of them) must satisfy, the
 * `approvers` who each decide on a review link of their own, `approvals_required` of them,
 * `on_expire` (`"cancel"` or `"deny"`) and `remind_before` (seconds before the deadline).
 */
export type ProposeActionInput = WireBody<typeof threadWire.proposeAction>;

/**
 * What `actions.decide` sends: a "yes", optionally with the arguments as a person edited them
 * (checked against the action's `args_schema`), or a "no", optionally with a reason the agent reads.
 */
export type DecideActionInput = { confirmed: true; args?: unknown } | { confirmed: false; reason?: string };

/** A conversation thread. */
export interface Thread {
  thread_id: string;
  status: ThreadStatus;
  context_variables: JsonObject;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  duration_seconds: number | null;
  billable: boolean | null;
  pending_actions: string[];
}

/** The answer to closing a thread. */
export interface ClosedThread {
  thread_id: string;
  closed_at: string;
  duration_seconds: number;
  billable: boolean;
}

/** One approver's approval of an action that needs approvals from named approvers. */
export interface ActionApproval {
  approver: string;
  approved_at: string;
}

/** A tool call waiting for (or past) a person's decision. */
export interface PendingAction {
  action_id: string;
  thread_id: string;
  tool: string;
  preview: JsonObject;
  expires_at: string;
  status: ActionStatus;
  callback_id: string | null;
  /** Why it was cancelled: by a person, by its deadline (`expired`, or `denied` with `on_expire: "deny"`), or by its thread closing. */
  cancel_reason: CancelReason | null;
  attempts: number;
  result: unknown;
  error: string | null;
  created_at: string;
  decided_at: string | null;
  completed_at: string | null;
  /** The arguments that run (or will): as proposed, or as a person edited them; `null` when none were proposed. */
  args: unknown;
  /** The arguments as proposed. */
  original_args: unknown;
  /** Whether a person changed the arguments before approving them. */
  args_changed: boolean;
  args_schema: JsonObject | null;
  /** The reason given with a "no", or why the deadline denied the action. */
  reason: string | null;
  /** Who decided: `<org>/<key label>` over the API, the approver on a review link (`link` for the action's own link), or `expiry`. */
  decided_by: string | null;
  decided_via: DecidedVia | null;
  on_expire: OnExpire;
  approvers: string[];
  approvals_required: number;
  /** The approvals counted so far, in order. */
  approvals: ActionApproval[];
  remind_before: number[];
}

/** The answer to proposing an action: the action, with its review links (shown only this once). */
export interface ProposedAction extends PendingAction {
  /** The action's review page: no API key needed; it decides the action when no approvers are named. */
  review_url: string;
  /** Each approver's own review page, when approvers are named. */
  review_urls?: Record<string, string>;
}

/** The answer to confirming (202, `callback_id` set) or cancelling (200) an action. */
export interface ActionDecision {
  thread_id: string;
  action_id: string;
  callback_id?: string;
  status: string;
  message: string;
}

// ---- agents and agent sessions (seed 003) ----

/** What `agents.create` sends: `{ name, capabilities?, model_id?, metadata? }`. */
export type CreateAgentInput = WireBody<typeof agentWire.create>;
/** What `agentSessions.create` sends: seed 003's body, `{ agent_id, capabilities?, model_id?, tags?, title? }`. */
export type CreateAgentSessionInput = WireBody<typeof agentSessionWire.create>;
/** What `agentSessions.postMessage` sends: `{ role, content, usage? }`. */
export type PostAgentMessageInput = WireBody<typeof agentSessionWire.postMessage>;

/** An agent. */
export type Agent = Answer<typeof agentWire.body>;

/** One run of an agent. */
export type AgentSession = Answer<typeof agentSessionWire.body>;

// ---- webhooks ----

/** What `webhooks.create` sends: `{ url, events?, description? }`. */
export type CreateWebhookInput = WireBody<typeof webhookWire.create>;

/** A webhook endpoint (its secret is shown only when it is created). */
export type WebhookEndpoint = Answer<typeof webhookWire.body>;

/** A webhook endpoint as created, with its signing secret. */
export type CreatedWebhookEndpoint = Answer<typeof webhookWire.createdBody>;

/** One attempt to deliver one event to one endpoint. */
export type DeliveryAttempt = Answer<typeof webhookWire.deliveryBody>;
