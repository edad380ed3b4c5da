import { type RequestOptions, segment, type Transport } from "../transport.js";
import type { Agent, AgentSession, CreateAgentInput, CreateAgentSessionInput, PostAgentMessageInput } from "../types.js";
import { type Collection, collection } from "./collection.js";

/** Agents (seed 003). */
export function agentsResource(transport: Transport): Collection<Agent, CreateAgentInput> {
  return collection(transport, "/v1/agents");
}

/** Agent sessions (seed 003): one run of an agent, its turns, previews and usage. */
export function agentSessionsResource(transport: Transport) {
  const path = (id: string, rest = "") => `/v1/sessions/${segment(id)}${rest}`;
  return {
    /** `POST /v1/sessions`: creates a session of an existing agent (sent with an Idempotency-Key). */
    create(input: CreateAgentSessionInput, options?: RequestOptions): Promise<AgentSession> {
      return transport.request({ method: "POST", path: "/v1/sessions", body: input, creates: true }, options);
    },
    /** `GET /v1/sessions/:id` of a `session_…` id. */
    get(id: string, options?: RequestOptions): Promise<AgentSession> {
      return transport.request({ method: "GET", path: path(id) }, options);
    },
    /** `POST /v1/sessions/:id/messages`: a user message starts a turn, the assistant's response ends it. */
    postMessage(id: string, input: PostAgentMessageInput, options?: RequestOptions): Promise<AgentSession> {
      return transport.request({ method: "POST", path: path(id, "/messages"), body: input }, options);
    },
    /** `POST /v1/sessions/:id/finish` */
    finish(id: string, options?: RequestOptions): Promise<AgentSession> {
      return transport.request({ method: "POST", path: path(id, "/finish") }, options);
    },
  };
}
