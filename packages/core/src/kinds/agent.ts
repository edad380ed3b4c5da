import { type Static, Type } from "@sinclair/typebox";
import { iso } from "../machine.js";
import { AnyObject, closed, DateTime, Metadata, Nullable, Timestamp } from "../schemas/common.js";
import { defineKind, wireInput } from "./kind.js";

/** What one agent holds at most; agent sessions add capabilities and a model under the same limits. */
const LIMITS = {
  /** Characters of an agent's name. */
  nameChars: 200,
  /** Capabilities of one agent, or added by one session. */
  capabilities: 100,
  /** Characters of a capability's `ref`. */
  refChars: 200,
  /** Characters of a model id. */
  modelIdChars: 200,
} as const;

/** A capability given to an agent or a session, with its capability-specific configuration. */
export const Capability = Type.Object(
  {
    ref: Type.String({ minLength: 1, maxLength: LIMITS.refChars }),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { errorMessage: "must be an object" })),
  },
  closed,
);
export type Capability = Static<typeof Capability>;

/** The capabilities an agent or a session is given. */
export const Capabilities = Type.Array(Capability, { maxItems: LIMITS.capabilities });
/** A model id given to an agent or a session. */
export const ModelId = Type.String({ minLength: 1, maxLength: LIMITS.modelIdChars });

/** An agent: its name, its capabilities and its default model. */
export const Agent = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  name: Type.String(),
  capabilities: Type.Array(Capability),
  modelId: Nullable(Type.String()),
  metadata: Metadata,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Agent = Static<typeof Agent>;

/** `engine.agents.create`: the agent's name, capabilities, default model and metadata. */
export const CreateAgentInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: LIMITS.nameChars }),
    capabilities: Type.Optional(Capabilities),
    modelId: Type.Optional(Nullable(ModelId)),
    metadata: Type.Optional(Metadata),
  },
  closed,
);
export type CreateAgentInput = Static<typeof CreateAgentInput>;

/** Agents (seed 003): definitions that never change after creation, so their one status is `active`. */
export const agentKind = defineKind({
  name: "agent",
  prefix: "agent",
  noun: "Agent",
  statuses: ["active"],
  terminal: [],
  state: Agent,
  limits: LIMITS,
});

/** An agent as every answer shows it (seed 003's snake_case). */
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

/** Agents on the wire: what `POST /v1/agents` takes (`model_id`) and what every answer shows. */
export const agentWire = {
  create: wireInput(CreateAgentInput, { modelId: "model_id" }),
  body: AgentBody,
  toBody: (agent: Agent): Static<typeof AgentBody> => ({
    id: agent.id,
    name: agent.name,
    capabilities: agent.capabilities,
    model_id: agent.modelId,
    metadata: agent.metadata,
    created_at: iso(agent.createdAt),
    updated_at: iso(agent.updatedAt),
  }),
};
