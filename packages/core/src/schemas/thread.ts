import { type Static, Type } from "@sinclair/typebox";
import { statusSchema } from "../kinds/kind.js";
import { closed, JsonObject, Metadata, Nullable, Timestamp } from "./common.js";


/** Every status of a thread. */
export const THREAD_STATUSES = ["active", "closed"] as const;
export const ThreadStatus = statusSchema(THREAD_STATUSES);
export type ThreadStatus = (typeof THREAD_STATUSES)[number];

export const ActionStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("processing"),
  Type.Literal("succeeded"),
  Type.Literal("failed"),
  Type.Literal("cancelled"),
]);
export type ActionStatus = Static<typeof ActionStatus>;

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

/** A conversation thread: context variables and the pending actions of its agent. */
export const Thread = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  status: ThreadStatus,
  contextVariables: JsonObject,
  metadata: Metadata,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  closedAt: Nullable(Timestamp),
  durationSeconds: Nullable(Type.Integer()),
  billable: Nullable(Type.Boolean()),
  actions: Type.Array(PendingAction),
});
export type Thread = Static<typeof Thread>;

/** Context variables as sent: a `null` value removes the key. */
export const ContextVariablesPatch = Type.Record(Type.String(), Type.Unknown(), { errorMessage: "must be an object" });
export type ContextVariablesPatch = Static<typeof ContextVariablesPatch>;

/** `POST /api/v1/threads` */
export const CreateThreadInput = Type.Object(
  { context_variables: Type.Optional(ContextVariablesPatch), metadata: Type.Optional(Metadata) },
  closed,
);
export type CreateThreadInput = Static<typeof CreateThreadInput>;

/** `PATCH /api/v1/sessions/:thread_id` */
export const UpdateContextInput = Type.Object({ context_variables: ContextVariablesPatch }, closed);
export type UpdateContextInput = Static<typeof UpdateContextInput>;

/** `POST /api/v1/sessions/:thread_id/actions` */
export const ProposeActionInput = Type.Object(
  {
    tool: Type.String({
      pattern: "^[A-Za-z][A-Za-z0-9_.-]*$",
      maxLength: 100,
      errorMessage: "must start with a letter and hold only letters, digits, _, . and - (at most 100)",
    }),
    preview: JsonObject,
    expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 })),
  },
  closed,
);
export type ProposeActionInput = Static<typeof ProposeActionInput>;

/** `POST /api/v1/sessions/:thread_id/actions/:action_id` */
export const DecideActionInput = Type.Object({ confirmed: Type.Boolean() }, closed);
export type DecideActionInput = Static<typeof DecideActionInput>;
