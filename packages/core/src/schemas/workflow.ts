import { type Static, Type } from "@sinclair/typebox";
import { statusSchema } from "../kinds/kind.js";
import { closed, Metadata, Nullable, Timestamp } from "./common.js";


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
export const WaitStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("completed"),
  Type.Literal("timed_out"),
  Type.Literal("cancelled"),
]);
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

/** A workflow waiting for a message (or a one-time code) in one of its inboxes, until a timeout. */
export const Wait = Type.Object({
  id: Type.String(),
  type: WaitType,
  inboxId: Type.String(),
  timeoutSeconds: Type.Integer(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  status: WaitStatus,
  result: Nullable(WaitResult),
  completedAt: Nullable(Timestamp),
});
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

/** `POST /api/v1/sessions` */
export const CreateWorkflowInput = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), metadata: Type.Optional(Metadata) },
  closed,
);
export type CreateWorkflowInput = Static<typeof CreateWorkflowInput>;

/** `POST /api/v1/sessions/:id/inboxes` */
export const CreateInboxInput = Type.Object(
  { ttlSeconds: Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 }) },
  closed,
);
export type CreateInboxInput = Static<typeof CreateInboxInput>;

/** `POST /api/v1/inboxes/:id/messages`, e.g. from a mail provider's webhook. */
export const PostMessageInput = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 320 }),
    subject: Type.String({ maxLength: 998 }),
    body: Type.String({ maxLength: 64 * 1024 }),
  },
  closed,
);
export type PostMessageInput = Static<typeof PostMessageInput>;

/** `POST /api/v1/sessions/:id/waits` */
export const CreateWaitInput = Type.Object(
  {
    type: WaitType,
    inboxId: Type.String({ minLength: 1 }),
    timeoutSeconds: Type.Integer({ minimum: 1, maximum: 24 * 3600 }),
  },
  closed,
);
export type CreateWaitInput = Static<typeof CreateWaitInput>;

/** A step the workflow's caller records; a critical error moves the session to `failed`. */
export const RecordStepInput = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: 100 }),
    input: Type.Optional(Type.Unknown()),
    output: Type.Optional(Type.Unknown()),
    durationMs: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    error: Type.Optional(
      Type.Object(
        { message: Type.String({ minLength: 1, maxLength: 2000 }), critical: Type.Optional(Type.Boolean()) },
        closed,
      ),
    ),
  },
  closed,
);
export type RecordStepInput = Static<typeof RecordStepInput>;

