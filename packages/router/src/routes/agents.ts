import { agentSessionKind, agentSessionWire, agentWire } from "@agent-sessions/core";
import { json } from "../http.js";
import type { RouteDefinition } from "../route.js";
import { AgentBody, AgentSessionBody, agentBody, agentSessionBody, PageOf } from "../wire.js";
import { errors, idOf, listQuery, pagination, readListQuery } from "./common.js";

/** An agent session's id from the path: anything else is a 404 before the body is read. */
function agentSessionId(id: string): string {
  return idOf(id, agentSessionKind.prefix, agentSessionKind.noun);
}

/** Agents and agent sessions (seed 003). */
export const agentRoutes: RouteDefinition[] = [
  {
    method: "POST",
    path: "/v1/agents",
    summary: "Create an agent",
    tag: "Agents",
    idempotent: true,
    input: agentWire.create,
    responses: { 201: { description: "The agent", schema: AgentBody }, ...errors(400, 413, 422) },
    failure: "Failed to create agent",
    async handle({ engine, orgId, body }) {
      return json(agentBody(await engine.agents.create(orgId, agentWire.create.read(body))), 201);
    },
  },
  {
    method: "GET",
    path: "/v1/agents",
    summary: "List agents",
    tag: "Agents",
    query: listQuery,
    responses: { 200: { description: "A page of agents", schema: PageOf(AgentBody) }, ...errors(400) },
    failure: "Failed to list agents",
    async handle({ engine, orgId, url }) {
      const page = await engine.agents.list(orgId, readListQuery(url));
      return json({ data: page.data.map(agentBody), pagination: pagination(page) });
    },
  },
  {
    method: "GET",
    path: "/v1/agents/:id",
    summary: "Retrieve an agent",
    tag: "Agents",
    responses: { 200: { description: "The agent", schema: AgentBody }, ...errors(404) },
    failure: "Failed to retrieve agent",
    async handle({ engine, orgId, params }) {
      return json(agentBody(await engine.agents.get(orgId, params.id!)));
    },
  },
  {
    method: "POST",
    path: "/v1/sessions",
    summary: "Create a new session of an agent",
    tag: "Agent sessions",
    idempotent: true,
    input: agentSessionWire.create,
    responses: { 201: { description: "Session created successfully", schema: AgentSessionBody }, ...errors(400, 422) },
    failure: "Internal server error",
    async handle({ engine, orgId, body }) {
      return json(agentSessionBody(await engine.agentSessions.create(orgId, agentSessionWire.create.read(body))), 201);
    },
  },
  {
    method: "POST",
    path: "/v1/sessions/:id/messages",
    summary: "Post a turn's user message (starts it) or assistant response (ends it)",
    tag: "Agent sessions",
    input: agentSessionWire.postMessage,
    responses: { 200: { description: "The session", schema: AgentSessionBody }, ...errors(400, 404, 409) },
    failure: "Failed to post message",
    async handle({ engine, orgId, params, body }) {
      const id = agentSessionId(params.id!);
      return json(agentSessionBody(await engine.agentSessions.postMessage(orgId, id, agentSessionWire.postMessage.read(body))));
    },
  },
  {
    method: "POST",
    path: "/v1/sessions/:id/finish",
    summary: "Finish an agent session",
    tag: "Agent sessions",
    responses: { 200: { description: "The session", schema: AgentSessionBody }, ...errors(404) },
    failure: "Failed to finish session",
    async handle({ engine, orgId, params }) {
      return json(agentSessionBody(await engine.agentSessions.finish(orgId, agentSessionId(params.id!))));
    },
  },
];
