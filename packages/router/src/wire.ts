import {
  type Agent,
  type AgentSession,
  Capability,
  AnyObject,
  DateTime,
  formSessionWire,
  formWire,
  threadWire,
  iso,
  isoOrNull,
  Nullable,
  type Inbox,
  type Message,
  type SessionEvent,
  type Step,
  Usage,
  type Wait,
  type Workflow,
} from "@agent-sessions/core";
import { type Static, type TSchema, Type } from "@sinclair/typebox";

/**
 * What each endpoint answers, as TypeBox schemas (the OpenAPI document is built from them) and the
 * functions that map engine state to them. Each family keeps the casing of its seed document:
 * snake_case for forms (000), threads (002) and agent sessions (003), camelCase for workflows (001).
 */

export const ErrorBody = Type.Object(
  { error: Type.String({ examples: ["Invalid request"] }), message: Type.String({ examples: ["name is required"] }) },
  { $id: "Error" },
);

// ---- forms and form sessions (seed 000, snake_case): in their kinds' descriptors ----

export const FormBody = formWire.body;
export const formBody = formWire.toBody;
export const FormSessionBody = formSessionWire.body;
export const formSessionBody = formSessionWire.toBody;

// ---- workflow sessions, inboxes, messages, waits (seed 001, camelCase) ----

export const WorkflowBody = Type.Object(
  {
    id: Type.String({ examples: ["sess_0190e1b0000070008000000000000001"] }),
    name: Type.String(),
    status: Type.Union([Type.Literal("active"), Type.Literal("completed"), Type.Literal("failed")]),
    createdAt: DateTime,
    updatedAt: DateTime,
    completedAt: Nullable(DateTime),
    metadata: AnyObject,
    inboxes: Type.Array(Type.String()),
    waits: Type.Array(Type.String()),
  },
  { $id: "Session" },
);
export const workflowBody = (workflow: Workflow): Static<typeof WorkflowBody> => ({
  id: workflow.id,
  name: workflow.name,
  status: workflow.status,
  createdAt: iso(workflow.createdAt),
  updatedAt: iso(workflow.updatedAt),
  completedAt: isoOrNull(workflow.completedAt),
  metadata: workflow.metadata,
  inboxes: workflow.inboxes.map((inbox) => inbox.id),
  waits: workflow.waits.map((wait) => wait.id),
});

export const CompletedBody = Type.Object({
  id: Type.String(),
  status: Type.Literal("completed"),
  completedAt: DateTime,
});

export const Pagination = Type.Object({
  limit: Type.Integer(),
  offset: Type.Integer(),
  total: Type.Integer(),
  nextCursor: Nullable(Type.String()),
});

export const TimelineEvent = Type.Object(
  {
    id: Type.String(),
    timestamp: DateTime,
    type: Type.String({ examples: ["session.created"] }),
    payload: AnyObject,
  },
  { $id: "TimelineEvent" },
);
export const timelineEvent = (event: SessionEvent): Static<typeof TimelineEvent> => ({
  id: event.id,
  timestamp: iso(event.at),
  type: event.type,
  payload: event.payload,
});

export const StepBody = Type.Object({
  index: Type.Integer(),
  timestamp: DateTime,
  action: Type.String(),
  input: Type.Unknown(),
  output: Type.Unknown(),
  durationMs: Type.Integer(),
  error: Type.Optional(Type.Object({ message: Type.String(), critical: Type.Boolean() })),
});
export const stepBody = (step: Step): Static<typeof StepBody> => ({
  index: step.index,
  timestamp: iso(step.at),
  action: step.action,
  input: step.input,
  output: step.output,
  durationMs: step.durationMs,
  ...(step.error ? { error: step.error } : {}),
});

export const InboxBody = Type.Object(
  {
    id: Type.String({ examples: ["inb_0190e1b0000070008000000000000001"] }),
    sessionId: Type.String(),
    ttlSeconds: Type.Integer(),
    createdAt: DateTime,
    expiresAt: DateTime,
  },
  { $id: "Inbox" },
);
export const inboxBody = (inbox: Inbox, sessionId: string): Static<typeof InboxBody> => ({
  id: inbox.id,
  sessionId,
  ttlSeconds: inbox.ttlSeconds,
  createdAt: iso(inbox.createdAt),
  expiresAt: iso(inbox.expiresAt),
});

export const MessageBody = Type.Object(
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
export const messageBody = (message: Message): Static<typeof MessageBody> => ({
  id: message.id,
  inboxId: message.inboxId,
  from: message.from,
  subject: message.subject,
  body: message.body,
  receivedAt: iso(message.receivedAt),
});

export const WaitBody = Type.Object(
  {
    id: Type.String({ examples: ["wait_0190e1b0000070008000000000000001"] }),
    sessionId: Type.String(),
    type: Type.Union([Type.Literal("otp"), Type.Literal("message")]),
    inboxId: Type.String(),
    status: Type.Union([Type.Literal("pending"), Type.Literal("completed"), Type.Literal("timed_out"), Type.Literal("cancelled")]),
    timeoutSeconds: Type.Integer(),
    createdAt: DateTime,
    expiresAt: DateTime,
    completedAt: Nullable(DateTime),
    result: Nullable(
      Type.Object({
        messageId: Type.String(),
        from: Type.String(),
        subject: Type.String(),
        body: Type.String(),
        code: Nullable(Type.String()),
      }),
    ),
  },
  { $id: "Wait" },
);
export const waitBody = (wait: Wait, sessionId: string): Static<typeof WaitBody> => ({
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
});

// ---- threads and pending actions (seed 002, snake_case): in the thread kind's descriptor ----

export const ThreadBody = threadWire.body;
export const threadBody = threadWire.toBody;
export const ClosedBody = threadWire.closed;
export const closedBody = threadWire.toClosed;
export const ActionBody = threadWire.action;
export const actionBody = threadWire.toAction;
export const DecisionBody = threadWire.decision;
export const decisionBody = threadWire.toDecision;

// ---- agents and agent sessions (seed 003, snake_case) ----

export const AgentBody = Type.Object(
  {
    id: Type.String({ examples: ["agent_01933b5a00007000800000000000001"] }),
    name: Type.String(),
    capabilities: Type.Array(Capability),
    model_id: Nullable(Type.String()),
    metadata: AnyObject,
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: "Agent" },
);
export const agentBody = (agent: Agent): Static<typeof AgentBody> => ({
  id: agent.id,
  name: agent.name,
  capabilities: agent.capabilities,
  model_id: agent.modelId,
  metadata: agent.metadata,
  created_at: iso(agent.createdAt),
  updated_at: iso(agent.updatedAt),
});

export const AgentSessionBody = Type.Object(
  {
    id: Type.String({ examples: ["session_01933b5a00007000800000000000001"] }),
    agent_id: Type.String(),
    organization_id: Type.String(),
    capabilities: Type.Array(Capability),
    model_id: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    title: Nullable(Type.String()),
    status: Type.Union([Type.Literal("started"), Type.Literal("active"), Type.Literal("idle")]),
    started_at: Nullable(DateTime),
    finished_at: Nullable(DateTime),
    preview: Nullable(Type.String()),
    output_preview: Nullable(Type.String()),
    usage: Nullable(Usage),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: "AgentSession" },
);
export const agentSessionBody = (session: AgentSession): Static<typeof AgentSessionBody> => ({
  id: session.id,
  agent_id: session.agentId,
  organization_id: session.orgId,
  capabilities: session.capabilities,
  model_id: session.modelId,
  tags: session.tags,
  title: session.title,
  status: session.status,
  started_at: isoOrNull(session.startedAt),
  finished_at: isoOrNull(session.finishedAt),
  preview: session.preview,
  output_preview: session.outputPreview,
  usage: session.usage,
  created_at: iso(session.createdAt),
  updated_at: iso(session.updatedAt),
});

/** A page of any body. */
export const PageOf = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item), pagination: Pagination });
