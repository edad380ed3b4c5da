import { threadKind, threadWire } from "@agent-sessions/core";
import { json } from "../http.js";
import type { RouteDefinition } from "../route.js";
import { ActionBody, actionBody, ClosedBody, closedBody, DecisionBody, decisionBody, ProposedActionBody, ThreadBody, threadBody } from "../wire.js";
import { errors, idOf } from "./common.js";

function threadId(id: string): string {
  return idOf(id, threadKind.prefix, threadKind.noun);
}

/** Conversation threads and their pending actions (seed 002). */
export const threadRoutes: RouteDefinition[] = [
  {
    method: "POST",
    path: "/api/v1/threads",
    summary: "Start a conversation thread",
    tag: "Threads",
    idempotent: true,
    input: threadWire.create,
    responses: { 201: { description: "The thread", schema: ThreadBody }, ...errors(400, 413, 422) },
    failure: "Failed to create thread",
    async handle({ engine, orgId, body }) {
      return json(threadBody(await engine.threads.create(orgId, threadWire.create.read(body))), 201);
    },
  },
  {
    method: "PATCH",
    path: "/api/v1/sessions/:thread_id",
    summary: "Update the context variables of an active thread",
    tag: "Threads",
    input: threadWire.updateContext,
    responses: { 200: { description: "The thread", schema: ThreadBody }, ...errors(400, 404, 409) },
    failure: "Failed to update session",
    async handle({ engine, orgId, params, body }) {
      const id = threadId(params.thread_id!);
      return json(threadBody(await engine.threads.updateContext(orgId, id, threadWire.updateContext.read(body))));
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:thread_id/close",
    summary: "Close a thread and stop billing; cancels its pending actions",
    tag: "Threads",
    responses: { 200: { description: "The closed thread", schema: ClosedBody }, ...errors(404) },
    failure: "Failed to close session",
    async handle({ engine, orgId, params }) {
      return json(closedBody(await engine.threads.close(orgId, threadId(params.thread_id!))));
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:thread_id/actions",
    summary: "Propose an action that waits for a person's confirmation",
    tag: "Threads",
    idempotent: true,
    input: threadWire.proposeAction,
    responses: { 201: { description: "The pending action, with its review links", schema: ProposedActionBody }, ...errors(400, 404, 409, 422) },
    failure: "Failed to propose action",
    async handle(context) {
      const { engine, orgId, params, body } = context;
      const id = threadId(params.thread_id!);
      // Read first: a Host the review links may not name is refused before anything is written.
      const origin = context.hostedOrigin;
      const proposed = await engine.threads.proposeAction(orgId, id, threadWire.proposeAction.read(body));
      return json(threadWire.toProposed(id, proposed, origin), 201);
    },
  },
  {
    method: "GET",
    path: "/api/v1/sessions/:thread_id/actions/:action_id",
    summary: "Retrieve an action with its status and result",
    tag: "Threads",
    responses: { 200: { description: "The action", schema: ActionBody }, ...errors(404) },
    failure: "Failed to retrieve action",
    async handle({ engine, orgId, params }) {
      const id = threadId(params.thread_id!);
      return json(actionBody(id, await engine.threads.getAction(orgId, id, params.action_id!)));
    },
  },
  {
    method: "POST",
    path: "/api/v1/sessions/:thread_id/actions/:action_id",
    summary: "Confirm (202, executes asynchronously) or cancel (200) a pending action",
    tag: "Threads",
    input: threadWire.decideAction,
    responses: {
      200: { description: "Cancelled", schema: DecisionBody },
      202: { description: "Confirmed; executing", schema: DecisionBody },
      ...errors(400, 404, 409, 410),
    },
    failure: "Failed to update action",
    async handle({ engine, orgId, caller, params, body }) {
      const id = threadId(params.thread_id!);
      const input = threadWire.decideAction.read(body);
      const { action } = await engine.threads.decideAction(orgId, id, params.action_id!, input, { decidedBy: caller });
      return json(decisionBody(id, action), action.status === "cancelled" ? 200 : 202);
    },
  },
];
