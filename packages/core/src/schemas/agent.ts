import { statusSchema } from "../kinds/kind.js";
import { type Static, Type } from "@sinclair/typebox";
import { closed, Metadata, Nullable, Timestamp } from "./common.js";


/** A capability given to an agent or a session, with its capability-specific configuration. */
export const Capability = Type.Object(
  {
    ref: Type.String({ minLength: 1, maxLength: 200 }),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { errorMessage: "must be an object" })),
  },
  closed,
);
export type Capability = Static<typeof Capability>;

const Capabilities = Type.Array(Capability, { maxItems: 100 });
const ModelId = Type.String({ minLength: 1, maxLength: 200 });

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

/** `POST /v1/agents` */
export const CreateAgentInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    capabilities: Type.Optional(Capabilities),
    model_id: Type.Optional(Nullable(ModelId)),
    metadata: Type.Optional(Metadata),
  },
  closed,
);
export type CreateAgentInput = Static<typeof CreateAgentInput>;

/** Every status of an agent session. */
export const AGENT_SESSION_STATUSES = ["started", "active", "idle"] as const;
export const AgentSessionStatus = statusSchema(AGENT_SESSION_STATUSES);
export type AgentSessionStatus = (typeof AGENT_SESSION_STATUSES)[number];

/** Token counts and similar counters, summed key by key over the session's turns. */
export const Usage = Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]*$", maxLength: 64 }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), {
  errorMessage: `must be an object of whole numbers from 0 to ${Number.MAX_SAFE_INTEGER} with snake_case keys`,
  // A key that is not snake_case is refused, not let through unchecked beside the pattern.
  additionalProperties: false,
});
export type Usage = Static<typeof Usage>;

/** One run of an agent: its status, previews of its first input and last output, its usage. */
export const AgentSession = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  agentId: Type.String(),
  capabilities: Type.Array(Capability),
  modelId: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  title: Nullable(Type.String()),
  status: AgentSessionStatus,
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  preview: Nullable(Type.String()),
  outputPreview: Nullable(Type.String()),
  usage: Nullable(Usage),
  turns: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type AgentSession = Static<typeof AgentSession>;

/** `POST /v1/sessions` */
export const CreateAgentSessionInput = Type.Object(
  {
    agent_id: Type.String({ errorMessage: "must be a string" }),
    capabilities: Type.Optional(Capabilities),
    model_id: Type.Optional(Nullable(ModelId)),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20, uniqueItems: true })),
    title: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  },
  closed,
);
export type CreateAgentSessionInput = Static<typeof CreateAgentSessionInput>;

/** `POST /v1/sessions/:id/messages`: one turn's user input or assistant output. */
export const PostAgentMessageInput = Type.Object(
  {
    role: Type.Union([Type.Literal("user"), Type.Literal("assistant")], { errorMessage: "must be one of user, assistant" }),
    content: Type.String({ maxLength: 1024 * 1024 }),
    usage: Type.Optional(Usage),
  },
  closed,
);
export type PostAgentMessageInput = Static<typeof PostAgentMessageInput>;

/** What runs: the agent with the session's capabilities applied after its own, and the effective model. */
export const RuntimeAgent = Type.Object({
  agentId: Type.String(),
  sessionId: Type.String(),
  name: Type.String(),
  modelId: Nullable(Type.String()),
  capabilities: Type.Array(Capability),
});
export type RuntimeAgent = Static<typeof RuntimeAgent>;
