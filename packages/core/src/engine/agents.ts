import { InvalidInputError } from "../errors.js";
import { type Agent, CreateAgentInput } from "../kinds/agent.js";
import {
  type AgentSession,
  type AgentSessionStatus,
  assertAgentId,
  CreateAgentSessionInput,
  PostAgentMessageInput,
  type RuntimeAgent,
} from "../kinds/agent-session.js";
import { ID_PREFIXES } from "../kinds/index.js";
import { type AgentSessionCommand, agentSessionMachine, buildRuntimeAgent, createAgentSession } from "../machines/agent-session.js";
import { LIMITS } from "../schemas/common.js";
import { assertJsonSize, parseInput } from "../validate.js";
import type { ListOptions, Page, Records } from "./records.js";

/** Agents of an organization (seed 003): the definitions agent sessions run. */
export interface AgentOperations {
  /** Creates an agent with its capabilities and default model. */
  create(orgId: string, input: CreateAgentInput): Promise<Agent>;
  /** Reads an agent. */
  get(orgId: string, id: string): Promise<Agent>;
  /** Lists an organization's agents, newest first. */
  list(orgId: string, query?: ListOptions<never>): Promise<Page<Agent>>;
}

/** Agent sessions (seed 003): runs of an agent with turns, previews and usage. */
export interface AgentSessionOperations {
  /** Creates a session of an existing agent of the organization, in `started`; any other `agentId` is "Invalid agent ID". */
  create(orgId: string, input: CreateAgentSessionInput): Promise<AgentSession>;
  /** Reads an agent session. */
  get(orgId: string, id: string): Promise<AgentSession>;
  /** Lists an organization's agent sessions, newest first, optionally by status. */
  list(orgId: string, query?: ListOptions<AgentSessionStatus>): Promise<Page<AgentSession>>;
  /** A user message starts a turn (refused while one is active); an assistant message ends it. Usage counters add up. */
  postMessage(orgId: string, id: string, input: PostAgentMessageInput): Promise<AgentSession>;
  /** Ends the session, recording `finishedAt`; finishing it again changes nothing. */
  finish(orgId: string, id: string): Promise<AgentSession>;
  /** The agent as it runs in this session: capabilities merged, model resolved. */
  runtimeAgent(orgId: string, id: string): Promise<RuntimeAgent>;
}

export function agentOperations(records: Records, newId: (prefix: string) => string): AgentOperations {
  return {
    async create(orgId, input) {
      const body = parseInput(CreateAgentInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const now = records.now;
      const agent: Agent = {
        id: newId(ID_PREFIXES.agent),
        orgId,
        name: body.name,
        capabilities: body.capabilities ?? [],
        modelId: body.modelId ?? null,
        metadata: body.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      };
      const created = { type: "agent.created", at: now, payload: { agent_id: agent.id } };
      return records.insert("agent", agent, [created], { status: "active" });
    },
    async get(orgId, id) {
      return records.view<Agent>(orgId, "agent", id);
    },
    async list(orgId, query = {}) {
      return records.list<Agent>(orgId, "agent", query);
    },
  };
}

export function agentSessionOperations(records: Records, newId: (prefix: string) => string): AgentSessionOperations {
  const command = (orgId: string, id: string, cmd: AgentSessionCommand) => records.mutate(orgId, "agent_session", id, agentSessionMachine, cmd);

  async function agentFor(orgId: string, agentId: string): Promise<Agent> {
    try {
      return await records.view<Agent>(orgId, "agent", agentId);
    } catch {
      throw new InvalidInputError("agentId", `Invalid agent ID: no agent ${agentId} in this organization`);
    }
  }

  return {
    async create(orgId, input) {
      // A malformed agent id is named before any other fault of the input, as seed 003 answers it.
      if (input !== null && typeof input === "object" && "agentId" in input) assertAgentId(input.agentId);
      const body = parseInput(CreateAgentSessionInput, input);
      const agent = await agentFor(orgId, body.agentId);
      const { state, events } = createAgentSession(
        agent,
        {
          id: newId(ID_PREFIXES.agentSession),
          ...(body.capabilities ? { capabilities: body.capabilities } : {}),
          ...(body.modelId !== undefined ? { modelId: body.modelId } : {}),
          ...(body.tags ? { tags: body.tags } : {}),
          ...(body.title !== undefined ? { title: body.title } : {}),
        },
        records.now,
      );
      return records.insert("agent_session", state, events, { status: state.status });
    },
    async get(orgId, id) {
      return records.view<AgentSession>(orgId, "agent_session", id);
    },
    async list(orgId, query = {}) {
      return records.list<AgentSession>(orgId, "agent_session", query);
    },
    async postMessage(orgId, id, input) {
      const body = parseInput(PostAgentMessageInput, input);
      return command(orgId, id, { type: "message", role: body.role, content: body.content, ...(body.usage ? { usage: body.usage } : {}) });
    },
    async finish(orgId, id) {
      return command(orgId, id, { type: "finish" });
    },
    async runtimeAgent(orgId, id) {
      const session = await records.view<AgentSession>(orgId, "agent_session", id);
      return buildRuntimeAgent(await records.view<Agent>(orgId, "agent", session.agentId), session);
    },
  };
}
