import { AGENT_SESSION_STATUSES, AgentSession } from "../schemas/agent.js";
import { LIMITS } from "../schemas/common.js";
import { defineKind } from "./kind.js";

/** Agent sessions (seed 003): one run of an agent, its messages' previews and usage; never final. */
export const agentSessionKind = defineKind({
  name: "agent_session",
  prefix: "session",
  noun: "Session",
  statuses: AGENT_SESSION_STATUSES,
  terminal: [],
  state: AgentSession,
  limits: { previewChars: LIMITS.previewChars },
});
