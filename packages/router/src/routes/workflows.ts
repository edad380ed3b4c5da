import { WORKFLOW_STATUSES, WorkflowStatus, workflowWire } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { json } from "../http.js";
import type { RouteDefinition } from "../route.js";
import {
  CompletedBody,
  completedBody,
  InboxBody,
  inboxBody,
  MessageBody,
  messageBody,
  PageOf,
  StepBody,
  stepBody,
  ThreadBody,
  TimelineEvent,
  threadBody,
  timelineEvent,
  WaitBody,
  WorkflowBody,
  waitBody,
  workflowBody,
} from "../wire.js";
import { errors, listQuery, notFound, orSessionNotFound, pagination, readListQuery } from "./common.js";

/** Workflow sessions, inboxes, messages and waits (seed 001). */
export const workflowRoutes: RouteDefinition[] = [
  {
    method: "POST",
    path: "/api/v1/sessions",
    summary: "Create a session to track a workflow or automation",
    tag: "Sessions",
    idempotent: true,
    input: workflowWire.create,
    responses: { 201: { description: "The session", schema: WorkflowBody }, ...errors(400, 413, 422) },
    failure: "Failed to create session",
    async handle({ engine, orgId, body }) {
      return json(workflowBody(await engine.workflows.create(orgId, workflowWire.create.read(body))), 201);
    },
  },
  {
    method: "GET",
    path: "/api/v1/sessions",
    summary: "List sessions with pagination, optionally by status",
    tag: "Sessions",
    query: {
      ...listQuery,
      status: { description: `One of ${WORKFLOW_STATUSES.join(", ")}`, schema: WorkflowStatus },
    },
    responses: { 200: { description: "A page of sessions", schema: PageOf(WorkflowBody) }, ...errors(400) },
    failure: "Failed to list sessions",
    async handle({ engine, orgId, url }) {
      const page = await engine.workflows.list(orgId, readListQuery(url, ["status"]));
      return json({ data: page.data.map(workflowBody), pagination: pagination(page) });
    },
  },
  {
    method: "GET",
    path: "/api/v1/sessions/:id",
    summary: "Retrieve a session with its inboxes and waits (sess_…), or a thread (thread_…)",
    tag: "Sessions",
    responses: { 200: { description: "The session", schema: Type.Union([WorkflowBody, ThreadBody]) }, ...errors(404) },
    failure: "Failed to retrieve session",
    async handle({ engine, orgId, params }) {
      const id = params.id!;
      const found = await orSessionNotFound(id, engine.records.get(orgId, id));
      if (found.kind === "thread") return json(threadBody(found.record));
      if (found.kind === "workflow") return json(workflowBody(found.record));
      throw notFound("Session", id);
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:id/complete",
    summary: "Mark a session as completed",
    tag: "Sessions",
    responses: { 200: { description: "The completed session", schema: CompletedBody }, ...errors(404, 409) },
    failure: "Failed to complete session",
    async handle({ engine, orgId, params }) {
      return json(completedBody(await engine.workflows.complete(orgId, params.id!)));
    },
  },
  {
    method: "GET",
    path: "/api/v1/sessions/:id/timeline",
    summary: "Get the event timeline of a session",
    tag: "Sessions",
    responses: { 200: { description: "The events in order", schema: Type.Object({ events: Type.Array(TimelineEvent) }) }, ...errors(404) },
    failure: "Failed to retrieve timeline",
    async handle({ engine, orgId, params }) {
      const events = await orSessionNotFound(params.id!, engine.timeline(orgId, params.id!));
      return json({ events: events.map(timelineEvent) });
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:id/replay",
    summary: "Replay a session's recorded steps",
    tag: "Sessions",
    responses: { 200: { description: "The recorded steps", schema: Type.Object({ steps: Type.Array(StepBody) }) }, ...errors(404) },
    failure: "Failed to replay session",
    async handle({ engine, orgId, params }) {
      const steps = await engine.workflows.replay(orgId, params.id!);
      return json({ steps: steps.map(stepBody) });
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:id/steps",
    summary: "Record a step for replay; a critical error fails the session",
    tag: "Sessions",
    input: workflowWire.step.record,
    responses: { 201: { description: "The recorded step", schema: StepBody }, ...errors(400, 404, 409) },
    failure: "Failed to record step",
    async handle({ engine, orgId, params, body }) {
      return json(stepBody(await engine.workflows.recordStep(orgId, params.id!, workflowWire.step.record.read(body))), 201);
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:id/inboxes",
    summary: "Create an inbox in a session",
    tag: "Inboxes",
    idempotent: true,
    input: workflowWire.inbox.create,
    responses: { 201: { description: "The inbox", schema: InboxBody }, ...errors(400, 404, 409, 422) },
    failure: "Failed to create inbox",
    async handle({ engine, orgId, params, body }) {
      const inbox = await engine.workflows.createInbox(orgId, params.id!, workflowWire.inbox.create.read(body));
      return json(inboxBody(inbox, params.id!), 201);
    },
  },
  {
    method: "GET",
    path: "/api/v1/inboxes/:id",
    summary: "Retrieve an inbox with its messages",
    tag: "Inboxes",
    responses: {
      200: { description: "The inbox", schema: Type.Composite([InboxBody, Type.Object({ messages: Type.Array(MessageBody) })]) },
      ...errors(404),
    },
    failure: "Failed to retrieve inbox",
    async handle({ engine, orgId, params }) {
      const { inbox, sessionId, messages } = await engine.workflows.getInbox(orgId, params.id!);
      return json({ ...inboxBody(inbox, sessionId), messages: messages.map(messageBody) });
    },
  },
  {
    method: "POST",
    path: "/api/v1/inboxes/:id/messages",
    summary: "Deliver a message to an inbox (e.g. from a mail provider's webhook)",
    tag: "Inboxes",
    idempotent: true,
    input: workflowWire.message.create,
    responses: { 201: { description: "The message", schema: MessageBody }, ...errors(400, 404, 409, 410, 422) },
    failure: "Failed to receive message",
    async handle({ engine, orgId, params, body }) {
      return json(messageBody(await engine.workflows.postMessage(orgId, params.id!, workflowWire.message.create.read(body))), 201);
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:id/waits",
    summary: "Wait for a message or a one-time code in an inbox",
    tag: "Waits",
    idempotent: true,
    input: workflowWire.wait.create,
    responses: { 201: { description: "The wait", schema: WaitBody }, ...errors(400, 404, 409, 422) },
    failure: "Failed to create wait",
    async handle({ engine, orgId, params, body }) {
      const wait = await engine.workflows.createWait(orgId, params.id!, workflowWire.wait.create.read(body));
      return json(waitBody(wait, params.id!), 201);
    },
  },
];
