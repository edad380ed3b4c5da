import { type Static, Type } from "@sinclair/typebox";
import { iso, isoOrNull } from "../machine.js";
import { AnyObject, closed, DateTime, DateTimeInput, Metadata, Nullable, RemindBefore, Timestamp } from "../schemas/common.js";
import { defineKind, statusSchema, wireInput } from "./kind.js";

/** What one workflow session holds at most; past a count the machine refuses the command as a conflict. */
const LIMITS = {
  /** Inboxes of one session. */
  inboxes: 100,
  /** Waits of one session. */
  waits: 500,
  /** Messages one session's inboxes received. */
  messages: 500,
  /** Recorded steps of one session, creations of inboxes and waits included. */
  steps: 1000,
  /** Longest lifetime of an inbox, in seconds: thirty days. */
  maxInboxTtlSeconds: 30 * 24 * 3600,
  /** Longest timeout of a wait, in seconds: one day. */
  maxWaitTimeoutSeconds: 24 * 3600,
  /** Characters of a message's body. */
  messageBodyChars: 64 * 1024,
  /** Characters of the reason a session failed with, or of a step's error. */
  errorChars: 2000,
  /** Characters of a session's name. */
  nameChars: 200,
  /** Characters of a message's sender: an address is at most 320 (RFC 5321). */
  fromChars: 320,
  /** Characters of a message's subject: a header line is at most 998 (RFC 5322). */
  subjectChars: 998,
  /** Characters of a step's action name. */
  actionChars: 100,
  /** Characters of a wait's `pattern`. */
  patternChars: 500,
  /** A wait's `on_timeout.resolve_with` value, serialized as JSON (UTF-8 bytes). */
  resolveWithBytes: 16 * 1024,
} as const;

/** The prefixes of the ids of a session's parts: `inb_…`, `wait_…`, `msg_…` (`ID_PREFIXES` lists them). */
export const WORKFLOW_PART_PREFIXES = { inbox: "inb", wait: "wait", message: "msg" } as const;

/** Every status of a workflow session. */
export const WORKFLOW_STATUSES = ["active", "completed", "failed"] as const;
export const WorkflowStatus = statusSchema(WORKFLOW_STATUSES);
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** An address inside a workflow session that receives messages until `expiresAt`. */
export const Inbox = Type.Object({
  id: Type.String(),
  ttlSeconds: Type.Integer(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
});
export type Inbox = Static<typeof Inbox>;

/** A message an inbox received; `consumedBy` is the wait it completed, if any. */
export const Message = Type.Object({
  id: Type.String(),
  inboxId: Type.String(),
  from: Type.String(),
  subject: Type.String(),
  body: Type.String(),
  receivedAt: Timestamp,
  otp: Nullable(Type.String()),
  consumedBy: Nullable(Type.String()),
});
export type Message = Static<typeof Message>;

export const WaitType = Type.Union([Type.Literal("otp"), Type.Literal("message")], {
  errorMessage: "must be one of otp, message",
});
export type WaitType = Static<typeof WaitType>;

/** A wait's status: `cancelled` once its session completed or failed while it was pending. */
export const WaitStatus = Type.Union([Type.Literal("pending"), Type.Literal("completed"), Type.Literal("timed_out"), Type.Literal("cancelled")]);
export type WaitStatus = Static<typeof WaitStatus>;

/** What completed a wait: the matching message and, for `otp` waits, the extracted code. */
export const WaitResult = Type.Object({
  messageId: Type.String(),
  from: Type.String(),
  subject: Type.String(),
  body: Type.String(),
  code: Nullable(Type.String()),
});
export type WaitResult = Static<typeof WaitResult>;

/**
 * What a wait does when its timeout passes while it is pending: `"fail"` (the default) times it
 * out; `{ resolve_with }` completes it with that value, marked `timed_out`. The object keeps the
 * wire's key, as a caller writes it (only top-level fields are renamed).
 */
export const OnTimeout = Type.Union([Type.Literal("fail"), Type.Object({ resolve_with: Type.Unknown() }, closed)], {
  errorMessage: 'must be "fail" or {"resolve_with": <any JSON value>}',
  description: 'At the timeout: "fail" (the default) times the wait out; {"resolve_with": <JSON>} completes it with that value and timed_out: true',
});
export type OnTimeout = Static<typeof OnTimeout>;

const WaitFields = Type.Object({
  id: Type.String(),
  type: WaitType,
  inboxId: Type.String(),
  timeoutSeconds: Type.Integer(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  status: WaitStatus,
  /** The message that completed it (`WaitResult`), or the `resolve_with` value when `timedOut`. */
  result: Type.Unknown(),
  completedAt: Nullable(Timestamp),
  /** Present, `true`, only when it completed by `on_timeout.resolve_with` at its timeout. */
  timedOut: Type.Optional(Type.Literal(true)),
  /** What it does at its timeout, as given; absent when not given (`"fail"`). */
  onTimeout: Type.Optional(Type.Union([Type.Literal("fail"), Type.Object({ resolveWith: Type.Unknown() })])),
  /** The regular expression a message must match, its capture group being the code; absent when not given. */
  pattern: Type.Optional(Type.String()),
  /** Messages received before this moment never match it; absent when not given (any earlier unconsumed message does). */
  since: Type.Optional(Timestamp),
  /** Seconds before `expiresAt` at which `wait.expiring` is sent, as given; absent when not given. */
  remindBefore: Type.Optional(Type.Array(Type.Integer())),
  /** The moments (ms, earliest first) of the reminders still to send while it is pending; absent when none is. */
  reminders: Type.Optional(Type.Array(Timestamp)),
});
/**
 * A workflow waiting for a message (or a one-time code) in one of its inboxes, until a timeout.
 * Typed by how it ended: `result` is the `WaitResult` of the message that completed it (or
 * `null`), unless `timedOut`, when it is the `resolve_with` value, any JSON.
 */
export const Wait = Type.Unsafe<
  Omit<Static<typeof WaitFields>, "result" | "timedOut"> &
    ({ readonly timedOut?: undefined; result: WaitResult | null } | { readonly timedOut: true; result: unknown })
>(WaitFields);
export type Wait = Static<typeof Wait>;

/** A recorded step of a workflow, replayed by `POST /api/v1/sessions/:id/replay`. */
export const Step = Type.Object({
  index: Type.Integer(),
  at: Timestamp,
  action: Type.String(),
  input: Type.Unknown(),
  output: Type.Unknown(),
  durationMs: Type.Integer(),
  error: Nullable(Type.Object({ message: Type.String(), critical: Type.Boolean() })),
});
export type Step = Static<typeof Step>;

/** A workflow session: groups inboxes and waits, from `active` to `completed` or `failed`. */
export const Workflow = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  name: Type.String(),
  status: WorkflowStatus,
  metadata: Metadata,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  completedAt: Nullable(Timestamp),
  failedAt: Nullable(Timestamp),
  failure: Nullable(Type.Object({ message: Type.String(), step: Nullable(Type.Integer()) })),
  inboxes: Type.Array(Inbox),
  waits: Type.Array(Wait),
  messages: Type.Array(Message),
  steps: Type.Array(Step),
});
export type Workflow = Static<typeof Workflow>;

/** An inbox as `engine.workflows.getInbox` reads it: with its session's id and the messages it received. */
export interface InboxWithMessages {
  readonly inbox: Inbox;
  readonly sessionId: string;
  readonly messages: Message[];
}

/** A wait as `engine.workflows.getWait` reads it: with its session's id. */
export type WaitWithSession = Wait & { readonly sessionId: string };

/** `engine.workflows.create`: a descriptive name and metadata. */
export const CreateWorkflowInput = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: LIMITS.nameChars }), metadata: Type.Optional(Metadata) },
  closed,
);
export type CreateWorkflowInput = Static<typeof CreateWorkflowInput>;

/** `engine.workflows.fail`: why the session failed. */
export const FailWorkflowInput = Type.Object({ reason: Type.String({ maxLength: LIMITS.errorChars }) }, closed);
export type FailWorkflowInput = Static<typeof FailWorkflowInput>;

/** `engine.workflows.createInbox`: how long the inbox receives messages, in seconds. */
export const CreateInboxInput = Type.Object({ ttlSeconds: Type.Integer({ minimum: 1, maximum: LIMITS.maxInboxTtlSeconds }) }, closed);
export type CreateInboxInput = Static<typeof CreateInboxInput>;

/** `engine.workflows.postMessage`: a message for an inbox, e.g. from a mail provider's webhook. */
export const PostMessageInput = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: LIMITS.fromChars }),
    subject: Type.String({ maxLength: LIMITS.subjectChars }),
    body: Type.String({ maxLength: LIMITS.messageBodyChars }),
  },
  closed,
);
export type PostMessageInput = Static<typeof PostMessageInput>;

/**
 * `engine.workflows.createWait`: what to wait for, in which inbox of the session, for how many
 * seconds; optionally what to do at the timeout, the pattern of the code, the earliest message
 * that counts, and reminders before the timeout.
 */
export const CreateWaitInput = Type.Object(
  {
    type: WaitType,
    inboxId: Type.String({ minLength: 1 }),
    timeoutSeconds: Type.Integer({ minimum: 1, maximum: LIMITS.maxWaitTimeoutSeconds }),
    /** At the timeout: `"fail"` (the default), or `{ resolve_with }` to complete with that value, `timed_out: true`. */
    onTimeout: Type.Optional(OnTimeout),
    /**
     * A regular expression (RE2 syntax, run in linear time) with exactly one capture group: the
     * wait takes only a message it matches (subject first, then body), and its code is what the
     * group captured. For `message` waits too.
     */
    pattern: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: LIMITS.patternChars,
        description:
          "A regular expression (RE2 syntax: no lookarounds or backreferences) with exactly one capture group. Only a message it matches (in the subject, else the body) completes the wait; result.code is what the group captured",
        examples: ["code:? (\\d{6})"],
      }),
    ),
    /**
     * Messages received before this moment never complete the wait. Default: any message of the
     * inbox not yet taken does, however early. A moment ahead makes only later messages count.
     */
    since: Type.Optional(
      DateTimeInput("Messages received before this moment never complete the wait (default: any message of the inbox not yet taken by a wait)"),
    ),
    /** Seconds before the timeout at which `wait.expiring` is sent, once each, while the wait is pending. */
    remindBefore: Type.Optional(RemindBefore),
  },
  closed,
);
export type CreateWaitInput = Static<typeof CreateWaitInput>;

/** `engine.workflows.recordStep`: a step the workflow's caller records; a critical error moves the session to `failed`. */
export const RecordStepInput = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: LIMITS.actionChars }),
    input: Type.Optional(Type.Unknown()),
    output: Type.Optional(Type.Unknown()),
    durationMs: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    error: Type.Optional(
      Type.Object({ message: Type.String({ minLength: 1, maxLength: LIMITS.errorChars }), critical: Type.Optional(Type.Boolean()) }, closed),
    ),
  },
  closed,
);
export type RecordStepInput = Static<typeof RecordStepInput>;

/** Workflow sessions (seed 001): inboxes, messages, waits and steps, until completed or failed. */
export const workflowKind = defineKind({
  name: "workflow",
  prefix: "sess",
  noun: "Session",
  statuses: WORKFLOW_STATUSES,
  terminal: ["completed", "failed"],
  state: Workflow,
  limits: LIMITS,
  parts: (state: Workflow) => state.inboxes.length + state.waits.length + state.messages.length + state.steps.length,
});

// ---- the wire (seed 001, camelCase like the engine: no field is renamed) ----

/** A workflow session as seed 001 shows it: the ids of its inboxes and waits. */
const WorkflowBody = Type.Object(
  {
    id: Type.String({ examples: ["sess_0190e1b0000070008000000000000001"] }),
    name: Type.String(),
    status: WorkflowStatus,
    createdAt: DateTime,
    updatedAt: DateTime,
    completedAt: Nullable(DateTime),
    metadata: AnyObject,
    inboxes: Type.Array(Type.String()),
    waits: Type.Array(Type.String()),
  },
  { $id: "Session" },
);

/** The answer to completing a session. */
const CompletedBody = Type.Object({
  id: Type.String(),
  status: Type.Literal("completed"),
  completedAt: DateTime,
});

/** A recorded step, as replayed. */
const StepBody = Type.Object({
  index: Type.Integer(),
  timestamp: DateTime,
  action: Type.String(),
  input: Type.Unknown(),
  output: Type.Unknown(),
  durationMs: Type.Integer(),
  error: Type.Optional(Type.Object({ message: Type.String(), critical: Type.Boolean() })),
});

const InboxBody = Type.Object(
  {
    id: Type.String({ examples: ["inb_0190e1b0000070008000000000000001"] }),
    sessionId: Type.String(),
    ttlSeconds: Type.Integer(),
    createdAt: DateTime,
    expiresAt: DateTime,
  },
  { $id: "Inbox" },
);

const MessageBody = Type.Object(
  {
    id: Type.String({ examples: ["msg_0190e1b0000070008000000000000001"] }),
    inboxId: Type.String(),
    from: Type.String(),
    subject: Type.String(),
    body: Type.String(),
    receivedAt: DateTime,
  },
  { $id: "Message" },
);

const WaitBody = Type.Object(
  {
    id: Type.String({ examples: ["wait_0190e1b0000070008000000000000001"] }),
    sessionId: Type.String(),
    type: WaitType,
    inboxId: Type.String(),
    status: WaitStatus,
    timeoutSeconds: Type.Integer(),
    createdAt: DateTime,
    expiresAt: DateTime,
    completedAt: Nullable(DateTime),
    result: Type.Union([WaitResult, Type.Null(), Type.Unknown({ description: "When timed_out: the on_timeout.resolve_with value, any JSON" })], {
      description:
        "What completed the wait: the message (and, for otp waits or with a pattern, the code); when timed_out, the on_timeout.resolve_with value",
    }),
    timed_out: Type.Boolean({ description: "True only when the wait completed with on_timeout.resolve_with at its timeout" }),
    on_timeout: Type.Optional(OnTimeout),
    pattern: Type.Optional(Type.String({ description: "The regular expression a message must match; its capture group is the code" })),
    since: Type.Optional(Type.String({ format: "date-time", description: "Messages received before this moment never complete the wait" })),
    remind_before: Type.Optional(Type.Array(Type.Integer(), { description: "Seconds before the timeout at which wait.expiring is sent" })),
  },
  { $id: "Wait" },
);

/** Workflow sessions and their parts on the wire (seed 001): what each route takes and answers. */
export const workflowWire = {
  create: wireInput(CreateWorkflowInput),
  body: WorkflowBody,
  toBody: (workflow: Workflow): Static<typeof WorkflowBody> => ({
    id: workflow.id,
    name: workflow.name,
    status: workflow.status,
    createdAt: iso(workflow.createdAt),
    updatedAt: iso(workflow.updatedAt),
    completedAt: isoOrNull(workflow.completedAt),
    metadata: workflow.metadata,
    inboxes: workflow.inboxes.map((inbox) => inbox.id),
    waits: workflow.waits.map((wait) => wait.id),
  }),
  completed: {
    body: CompletedBody,
    /** A session `complete` answered with: completed, so `completedAt` is set. */
    toBody: (workflow: Workflow): Static<typeof CompletedBody> => ({
      id: workflow.id,
      status: "completed",
      completedAt: iso(workflow.completedAt!),
    }),
  },
  step: {
    record: wireInput(RecordStepInput),
    body: StepBody,
    toBody: (step: Step): Static<typeof StepBody> => ({
      index: step.index,
      timestamp: iso(step.at),
      action: step.action,
      input: step.input,
      output: step.output,
      durationMs: step.durationMs,
      ...(step.error ? { error: step.error } : {}),
    }),
  },
  inbox: {
    create: wireInput(CreateInboxInput),
    body: InboxBody,
    toBody: (inbox: Inbox, sessionId: string): Static<typeof InboxBody> => ({
      id: inbox.id,
      sessionId,
      ttlSeconds: inbox.ttlSeconds,
      createdAt: iso(inbox.createdAt),
      expiresAt: iso(inbox.expiresAt),
    }),
  },
  message: {
    create: wireInput(PostMessageInput),
    body: MessageBody,
    toBody: (message: Message): Static<typeof MessageBody> => ({
      id: message.id,
      inboxId: message.inboxId,
      from: message.from,
      subject: message.subject,
      body: message.body,
      receivedAt: iso(message.receivedAt),
    }),
  },
  wait: {
    create: wireInput(CreateWaitInput, { onTimeout: "on_timeout", remindBefore: "remind_before" }),
    body: WaitBody,
    toBody: (wait: Wait, sessionId: string): Static<typeof WaitBody> => ({
      id: wait.id,
      sessionId,
      type: wait.type,
      inboxId: wait.inboxId,
      status: wait.status,
      timeoutSeconds: wait.timeoutSeconds,
      createdAt: iso(wait.createdAt),
      expiresAt: iso(wait.expiresAt),
      completedAt: isoOrNull(wait.completedAt),
      result: wait.result,
      timed_out: wait.timedOut === true,
      ...(wait.onTimeout === undefined ? {} : { on_timeout: wait.onTimeout === "fail" ? "fail" : { resolve_with: wait.onTimeout.resolveWith } }),
      ...(wait.pattern === undefined ? {} : { pattern: wait.pattern }),
      ...(wait.since === undefined ? {} : { since: iso(wait.since) }),
      ...(wait.remindBefore === undefined ? {} : { remind_before: wait.remindBefore }),
    }),
  },
};
