import {
  AnyObject,
  agentSessionWire,
  agentWire,
  DateTime,
  formSessionWire,
  formWire,
  iso,
  Nullable,
  type SessionEvent,
  threadWire,
  workflowWire,
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

// ---- workflow sessions, inboxes, messages, waits (seed 001, camelCase): in their kind's descriptor ----

export const WorkflowBody = workflowWire.body;
export const workflowBody = workflowWire.toBody;
export const CompletedBody = workflowWire.completed.body;
export const completedBody = workflowWire.completed.toBody;
export const StepBody = workflowWire.step.body;
export const stepBody = workflowWire.step.toBody;
export const InboxBody = workflowWire.inbox.body;
export const inboxBody = workflowWire.inbox.toBody;
export const MessageBody = workflowWire.message.body;
export const messageBody = workflowWire.message.toBody;
export const WaitBody = workflowWire.wait.body;
export const waitBody = workflowWire.wait.toBody;

// ---- every kind's lists and timelines (seed 001's shapes) ----

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

// ---- threads and pending actions (seed 002, snake_case): in their kind's descriptor ----

export const ThreadBody = threadWire.body;
export const threadBody = threadWire.toBody;
export const ClosedBody = threadWire.closed;
export const closedBody = threadWire.toClosed;
export const ActionBody = threadWire.action;
export const actionBody = threadWire.toAction;
export const ProposedActionBody = threadWire.proposed;
export const DecisionBody = threadWire.decision;
export const decisionBody = threadWire.toDecision;

// ---- agents and agent sessions (seed 003, snake_case): in their kinds' descriptors ----

export const AgentBody = agentWire.body;
export const agentBody = agentWire.toBody;
export const AgentSessionBody = agentSessionWire.body;
export const agentSessionBody = agentSessionWire.toBody;

/** A page of any body. */
export const PageOf = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item), pagination: Pagination });
