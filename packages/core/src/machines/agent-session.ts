import { IllegalTransitionError, InvalidInputError } from "../errors.js";
import type { Agent, Capability } from "../kinds/agent.js";
import { type AgentSession, agentSessionKind, type RuntimeAgent, type Usage } from "../kinds/agent-session.js";
import { accept, defineMachine, type Machine, refuse, type Transition } from "../machine.js";
import type { EventDraft } from "../schemas/event.js";

const { previewChars, usageCounters } = agentSessionKind.limits;

/** Commands an agent session answers to. */
export type AgentSessionCommand =
  | { readonly type: "message"; readonly role: "user" | "assistant"; readonly content: string; readonly usage?: Usage }
  | { readonly type: "finish" };

/** The first `agentSessionKind.limits.previewChars` characters of `text`, with an ellipsis when cut. */
export function truncatePreview(text: string, max: number = previewChars): string {
  const trimmed = text.trim();
  if (trimmed.length <= max) return trimmed; // no more UTF-16 units than allowed, so no more characters
  const chars = Array.from(trimmed);
  return chars.length <= max ? trimmed : `${chars.slice(0, max - 1).join("")}…`;
}

/** Adds usage counters key by key. */
export function addUsage(total: Usage | null, more: Usage | undefined): Usage | null {
  if (!more) return total;
  const sum: Usage = { ...(total ?? {}) };
  for (const [key, value] of Object.entries(more)) sum[key] = (Object.hasOwn(sum, key) ? sum[key]! : 0) + value;
  return sum;
}

/** A refusal when `sum` holds too many counters, or one passed what a JSON number keeps exactly. */
function overflow(sum: Usage | null): InvalidInputError | null {
  const entries = Object.entries(sum ?? {});
  if (entries.length > usageCounters) {
    return new InvalidInputError("usage", `a session keeps at most ${usageCounters} counters (this would make ${entries.length})`);
  }
  for (const [key, value] of entries) {
    if (!Number.isSafeInteger(value)) {
      return new InvalidInputError(`usage.${key}`, `the session's total would pass ${Number.MAX_SAFE_INTEGER}`);
    }
  }
  return null;
}

/** Builds a new agent session in `started` for an existing agent. */
export function createAgentSession(
  agent: Agent,
  input: { id: string; capabilities?: Capability[]; modelId?: string | null; tags?: string[]; title?: string | null },
  now: number,
): { state: AgentSession; events: EventDraft[] } {
  const state: AgentSession = {
    id: input.id,
    orgId: agent.orgId,
    agentId: agent.id,
    capabilities: input.capabilities ?? [],
    modelId: input.modelId ?? null,
    tags: input.tags ?? [],
    title: input.title ?? null,
    status: "started",
    startedAt: null,
    finishedAt: null,
    preview: null,
    outputPreview: null,
    usage: null,
    turns: 0,
    createdAt: now,
    updatedAt: now,
  };
  return {
    state,
    events: [{ type: "session.created", at: now, payload: { session_id: state.id, agent_id: agent.id } }],
  };
}

function apply(state: AgentSession, command: AgentSessionCommand, now: number): Transition<AgentSession> {
  if (command.type === "finish") {
    if (state.finishedAt !== null) return accept(state);
    const next: AgentSession = { ...state, status: state.status === "active" ? "idle" : state.status, finishedAt: now, updatedAt: now };
    return accept(next, [{ type: "session.finished", at: now, payload: { session_id: state.id, usage: state.usage } }]);
  }
  if (state.finishedAt !== null) {
    return refuse(new IllegalTransitionError("finished", "post a message to", `cannot post a message to session ${state.id}: it is finished`));
  }
  const usage = addUsage(state.usage, command.usage);
  const tooLarge = command.usage ? overflow(usage) : null;
  if (tooLarge) return refuse(tooLarge);
  if (command.role === "user") {
    if (state.status === "active") {
      return refuse(
        new IllegalTransitionError("active", "post a user message to", `cannot post a user message to session ${state.id}: a turn is still active`),
      );
    }
    const next: AgentSession = {
      ...state,
      status: "active",
      startedAt: state.startedAt ?? now,
      preview: state.preview ?? truncatePreview(command.content),
      usage,
      turns: state.turns + 1,
      updatedAt: now,
    };
    return accept(next, [{ type: "turn.started", at: now, payload: { session_id: state.id, turn: next.turns } }]);
  }
  if (state.status !== "active") {
    return refuse(
      new IllegalTransitionError(
        state.status,
        "post an assistant message to",
        `cannot post an assistant message to session ${state.id}: no turn is active`,
      ),
    );
  }
  const next: AgentSession = {
    ...state,
    status: "idle",
    outputPreview: truncatePreview(command.content),
    usage,
    updatedAt: now,
  };
  return accept(next, [{ type: "turn.completed", at: now, payload: { session_id: state.id, turn: state.turns, usage: command.usage ?? null } }]);
}

/**
 * The agent session machine: `started → active ⇄ idle`, where a user message starts a turn and
 * the assistant's response ends it; `finish` records `finishedAt` and ends the session.
 */
export const agentSessionMachine: Machine<AgentSession, AgentSessionCommand> = defineMachine({
  settle: (state) => ({ state, events: [] }),
  apply,
  dueAt: () => null,
  status: (state) => state.status,
  timeChangesStatus: false,
});

/**
 * Builds the agent that runs a session: the agent's capabilities, then the session's applied
 * after them (a session capability with the same `ref` replaces the agent's config keys it names
 * and keeps its place), and the session's model when it overrides the agent's.
 */
export function buildRuntimeAgent(agent: Agent, session: AgentSession): RuntimeAgent {
  const capabilities: Capability[] = agent.capabilities.map((capability) => ({ ...capability }));
  for (const added of session.capabilities) {
    const index = capabilities.findIndex((capability) => capability.ref === added.ref);
    if (index < 0) {
      capabilities.push({ ...added });
      continue;
    }
    const existing = capabilities[index]!;
    const config = existing.config || added.config ? { ...existing.config, ...added.config } : undefined;
    capabilities[index] = config ? { ref: added.ref, config } : { ref: added.ref };
  }
  return {
    agentId: agent.id,
    sessionId: session.id,
    name: agent.name,
    modelId: session.modelId ?? agent.modelId,
    capabilities,
  };
}
