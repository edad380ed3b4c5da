import type { Capability } from "../../kinds/agent.js";
import type { RuntimeAgent } from "../../kinds/agent-session.js";
import { type EngineModel, type Entry, no, ok, type States, type Verdict } from "./model.js";

// The model's rules for agents and agent sessions (seed 003): started → active ⇄ idle, a user
// message starting a turn and the assistant's answer ending it, until the session is finished.

type Session = Entry<"agent_session"> | undefined;

export function createAgent(m: EngineModel, input: { name: string; capabilities?: Capability[]; modelId?: string | null }, valid: boolean): Verdict {
  if (!valid) return no("invalid_input");
  const { name, capabilities = [], modelId = null } = input;
  return m.add("agent", { id: "", name, capabilities, modelId, metadata: {}, createdAt: m.now, updatedAt: m.now }, "agent.created");
}

/** A session of an agent of the organization: any other agent id is "Invalid agent ID". */
export function createAgentSession(
  m: EngineModel,
  agent: Entry<"agent"> | undefined,
  input: { capabilities?: Capability[]; modelId?: string | null; tags?: string[]; title?: string | null },
  valid: boolean,
): Verdict {
  if (!valid || !agent) return no("invalid_input");
  const { capabilities = [], modelId = null, tags = [], title = null } = input;
  const state = {
    ...{ id: "", agentId: agent.state.id, capabilities, modelId, tags, title, status: "started", turns: 0 },
    ...{ startedAt: null, finishedAt: null, preview: null, outputPreview: null, usage: null, createdAt: m.now, updatedAt: m.now },
  };
  return m.add("agent_session", state as States["agent_session"], "session.created");
}

/** At most 200 characters of the trimmed text, the last an ellipsis when cut (the test's texts are ASCII). */
const preview = (text: string) => (text.trim().length <= 200 ? text.trim() : `${text.trim().slice(0, 199)}…`);

/**
 * A user message starts a turn, the assistant's ends it; usage counters add up, key by key, as
 * safe integers. A message with two faults is refused for the first of: the session finished, the
 * usage total would pass 2^53 - 1, the turn rule (SPEC leaves the order open; the engine's is kept).
 */
export function message(
  m: EngineModel,
  entry: Session,
  input: { role: "user" | "assistant"; content: string; usage?: Record<string, number> },
  valid: boolean,
): Verdict {
  if (!valid) return no("invalid_input");
  if (!entry) return no("not_found");
  const { state } = entry;
  if (state.finishedAt !== null) return no("illegal_transition");
  let usage = state.usage;
  if (input.usage) {
    usage = { ...state.usage };
    for (const [key, count] of Object.entries(input.usage)) usage[key] = (usage[key] ?? 0) + count;
    if (Object.values(usage).some((count) => !Number.isSafeInteger(count))) return no("invalid_input");
  }
  if ((input.role === "user") === (state.status === "active")) return no("illegal_transition");
  if (input.role === "user") {
    const startedAt = state.startedAt ?? m.now;
    Object.assign(state, { status: "active", startedAt, preview: state.preview ?? preview(input.content), usage, turns: state.turns + 1 });
    m.write(entry, "turn.started");
  } else {
    Object.assign(state, { status: "idle", outputPreview: preview(input.content), usage });
    m.write(entry, "turn.completed");
  }
  return ok();
}

export function finish(m: EngineModel, entry: Session): Verdict {
  if (!entry) return no("not_found");
  if (entry.state.finishedAt !== null) return ok();
  Object.assign(entry.state, { status: entry.state.status === "active" ? "idle" : entry.state.status, finishedAt: m.now });
  m.write(entry, "session.finished");
  return ok();
}

/** The agent a session runs: the agent's capabilities, the session's applied after them by `ref`, and the session's model first. */
export function runtimeAgent(agent: States["agent"], session: States["agent_session"]): RuntimeAgent {
  const capabilities = agent.capabilities.map((capability) => ({ ...capability }));
  for (const added of session.capabilities) {
    const existing = capabilities.find((capability) => capability.ref === added.ref);
    if (!existing) capabilities.push({ ...added });
    else if (added.config) existing.config = { ...existing.config, ...added.config };
  }
  return { agentId: agent.id, sessionId: session.id, name: agent.name, modelId: session.modelId ?? agent.modelId, capabilities };
}
