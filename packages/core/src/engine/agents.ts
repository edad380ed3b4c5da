import { InvalidInputError } from "../errors.js";
import { ID_PREFIXES } from "../kinds/index.js";
import {
  type AgentSessionCommand,
  agentSessionMachine,
  assertAgentId,
  buildRuntimeAgent,
  createAgentSession,
} from "../machines/agent-session.js";
import {
  type Agent,
  type AgentSession,
  CreateAgentInput,
  CreateAgentSessionInput,
  PostAgentMessageInput,
  type RuntimeAgent,
} from "../schemas/agent.js";
import { LIMITS } from "../schemas/common.js";
import { ListQuery } from "../schemas/common.js";
import { assertJsonSize, parseInput } from "../validate.js";
import type { Page, Records } from "./records.js";

/** Agents: the definitions agent sessions run. */
export function agentOperations(records: Records, newId: (prefix: string) => string) {
  return {
    /** Creates an agent with its capabilities and default model. */
    async create(orgId: string, input: unknown): Promise<Agent> {
      const body = parseInput(CreateAgentInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const now = records.now;
      const agent: Agent = {
        id: newId(ID_PREFIXES.agent),
        orgId,
        name: body.name,
        capabilities: body.capabilities ?? [],
        modelId: body.model_id ?? null,
        metadata: body.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      };
      const created = { type: "agent.created", at: now, payload: { agent_id: agent.id } };
      return records.insert("agent", agent, [created], { status: "active" });
    },
    async get(orgId: string, id: string): Promise<Agent> {
      return records.view<Agent>(orgId, "agent", id);
    },
    async list(orgId: string, query: unknown = {}): Promise<Page<Agent>> {
      return records.list<Agent>(orgId, "agent", parseInput(ListQuery, query));
    },
  };
}

/** Agent sessions: runs of an agent with turns, previews and usage. */
export function agentSessionOperations(records: Records, newId: (prefix: string) => string) {
  const command = (orgId: string, id: string, cmd: AgentSessionCommand) =>
    records.mutate(orgId, "agent_session", id, agentSessionMachine, cmd);

  async function agentFor(orgId: string, agentId: string): Promise<Agent> {
    try {
      return await records.view<Agent>(orgId, "agent", agentId);
    } catch {
      throw new InvalidInputError("agent_id", `Invalid agent ID: no agent ${agentId} in this organization`);
    }
  }

  return {
    /** Creates a session for an existing agent in `started`. */
    async create(orgId: string, input: unknown): Promise<AgentSession> {
      if (input !== null && typeof input === "object" && "agent_id" in input) assertAgentId(input.agent_id);
      const body = parseInput(CreateAgentSessionInput, input);
      const agent = await agentFor(orgId, body.agent_id);
      const { state, events } = createAgentSession(
        agent,
        {
          id: newId(ID_PREFIXES.agentSession),
          ...(body.capabilities ? { capabilities: body.capabilities } : {}),
          ...(body.model_id !== undefined ? { modelId: body.model_id } : {}),
          ...(body.tags ? { tags: body.tags } : {}),
          ...(body.title !== undefined ? { title: body.title } : {}),
        },
        records.now,
      );
      return records.insert("agent_session", state, events, { status: state.status });
    },
    async get(orgId: string, id: string): Promise<AgentSession> {
      return records.view<AgentSession>(orgId, "agent_session", id);
    },
    async list(orgId: string, query: unknown = {}): Promise<Page<AgentSession>> {
      return records.list<AgentSession>(orgId, "agent_session", parseInput(ListQuery, query));
    },
    /** A user message starts a turn (refused while one is active); an assistant message ends it. */
    async postMessage(orgId: string, id: string, input: unknown): Promise<AgentSession> {
      const body = parseInput(PostAgentMessageInput, input);
      return command(orgId, id, { type: "message", role: body.role, content: body.content, ...(body.usage ? { usage: body.usage } : {}) });
    },
    /** Ends the session, recording `finished_at`. */
    async finish(orgId: string, id: string): Promise<AgentSession> {
      return command(orgId, id, { type: "finish" });
    },
    /** The agent as it runs in this session: capabilities merged, model resolved. */
    async runtimeAgent(orgId: string, id: string): Promise<RuntimeAgent> {
      const session = await records.view<AgentSession>(orgId, "agent_session", id);
      return buildRuntimeAgent(await records.view<Agent>(orgId, "agent", session.agentId), session);
    },
  };
}
