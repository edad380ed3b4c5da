import { type Static, Type } from "@sinclair/typebox";
import { InvalidInputError } from "../errors.js";
import { isPrefixedId } from "../ids.js";
import { iso, isoOrNull } from "../machine.js";
import { closed, DateTime, Nullable, Timestamp } from "../schemas/common.js";
import { agentKind, Capabilities, Capability, ModelId } from "./agent.js";
import { defineKind, statusSchema, type WireInput, wireInput } from "./kind.js";

/** What one agent session holds at most. */
const LIMITS = {
  /** Characters kept of a session's first user message and last assistant response. */
  previewChars: 200,
  /** Characters of one message a turn posts. */
  contentChars: 1024 * 1024,
  /** Distinct usage counters one session keeps. */
  usageCounters: 64,
  /** Characters of a usage counter's name. */
  usageKeyChars: 64,
  /** Tags of one session. */
  tags: 20,
  /** Characters of one tag. */
  tagChars: 64,
  /** Characters of a session's title. */
  titleChars: 500,
} as const;

/** Every status of an agent session. */
export const AGENT_SESSION_STATUSES = ["started", "active", "idle"] as const;
export const AgentSessionStatus = statusSchema(AGENT_SESSION_STATUSES);
export type AgentSessionStatus = (typeof AGENT_SESSION_STATUSES)[number];

/** Token counts and similar counters, summed key by key over the session's turns; the keys are the caller's, snake_case. */
export const Usage = Type.Record(
  Type.String({ pattern: "^[a-z][a-z0-9_]*$", maxLength: LIMITS.usageKeyChars }),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  {
    errorMessage: `must be an object of whole numbers from 0 to ${Number.MAX_SAFE_INTEGER} with snake_case keys`,
    // A key that is not snake_case is refused, not let through unchecked beside the pattern.
    additionalProperties: false,
  },
);
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

/** `engine.agentSessions.create`: the agent to run, and what the session adds to it or overrides. */
export const CreateAgentSessionInput = Type.Object(
  {
    agentId: Type.String({ errorMessage: "must be a string" }),
    capabilities: Type.Optional(Capabilities),
    modelId: Type.Optional(Nullable(ModelId)),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.tagChars }), { maxItems: LIMITS.tags, uniqueItems: true })),
    title: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.titleChars }))),
  },
  closed,
);
export type CreateAgentSessionInput = Static<typeof CreateAgentSessionInput>;

/** `engine.agentSessions.postMessage`: one turn's user input or assistant output. */
export const PostAgentMessageInput = Type.Object(
  {
    role: Type.Union([Type.Literal("user"), Type.Literal("assistant")], { errorMessage: "must be one of user, assistant" }),
    content: Type.String({ maxLength: LIMITS.contentChars }),
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

/** Throws "Invalid agent ID", naming `field`, unless `agentId` is `agent_` and 32 lowercase hex digits. */
export function assertAgentId(agentId: unknown, field = "agentId"): asserts agentId is string {
  if (!isPrefixedId(agentId, agentKind.prefix)) throw new InvalidInputError(field, "Invalid agent ID");
}

/** Agent sessions (seed 003): one run of an agent, its messages' previews and usage; never final. */
export const agentSessionKind = defineKind({
  name: "agent_session",
  prefix: "session",
  noun: "Session",
  statuses: AGENT_SESSION_STATUSES,
  terminal: [],
  state: AgentSession,
  limits: LIMITS,
});

/** An agent session as seed 003 shows it, snake_case. */
export const AgentSessionBody = Type.Object(
  {
    id: Type.String({ examples: ["session_01933b5a00007000800000000000001"] }),
    agent_id: Type.String(),
    organization_id: Type.String(),
    capabilities: Type.Array(Capability),
    model_id: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    title: Nullable(Type.String()),
    status: AgentSessionStatus,
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

const createWire = wireInput(CreateAgentSessionInput, { agentId: "agent_id", modelId: "model_id" });

/**
 * `POST /v1/sessions` as seed 003 answers it: an agent id that cannot be one is "Invalid agent ID"
 * before any other fault of the body is named.
 */
const create: WireInput<CreateAgentSessionInput, Static<typeof createWire.schema>> = {
  ...createWire,
  read(body) {
    if (body !== null && typeof body === "object" && "agent_id" in body) assertAgentId(body.agent_id, createWire.field("agentId"));
    return createWire.read(body);
  },
};

/** Agent sessions on the wire (seed 003, snake_case). */
export const agentSessionWire = {
  create,
  postMessage: wireInput(PostAgentMessageInput),
  body: AgentSessionBody,
  toBody: (session: AgentSession): Static<typeof AgentSessionBody> => ({
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
  }),
};
