import { describe, expect, it } from "vitest";
import {
  type Agent,
  type AgentSession,
  type AgentSessionCommand,
  addUsage,
  agentSessionKind,
  agentSessionMachine,
  assertAgentId,
  buildRuntimeAgent,
  createAgentSession,
  truncatePreview,
  type Usage,
} from "../../src/index.js";
import { accepted, deepFreeze, expectOutcome, newId, noop, ok, refusal, refused, SECOND, T0, tableRows, thrown } from "./helpers.js";

const machine = agentSessionMachine;

const agent: Agent = deepFreeze({
  id: newId("agent"),
  orgId: newId("org"),
  name: "Support bot",
  capabilities: [{ ref: "web_search" }, { ref: "email", config: { from: "bot@example.com", signature: "Bye" } }, { ref: "calendar" }],
  modelId: "model-default",
  metadata: {},
  createdAt: T0,
  updatedAt: T0,
});

/** The status as the table names it: a session with `finishedAt` set is finished. */
function statusOf(state: AgentSession): string {
  return state.finishedAt !== null ? "finished" : state.status;
}

function user(content: string, usage?: Usage): AgentSessionCommand {
  return usage ? { type: "message", role: "user", content, usage } : { type: "message", role: "user", content };
}

function assistant(content: string, usage?: Usage): AgentSessionCommand {
  return usage ? { type: "message", role: "assistant", content, usage } : { type: "message", role: "assistant", content };
}

function newSession(): AgentSession {
  return createAgentSession(agent, { id: newId("session") }, T0).state;
}

function run(state: AgentSession, ...commands: AgentSessionCommand[]): AgentSession {
  return commands.reduce((current, command, index) => ok(machine.transition(current, command, T0 + (index + 1) * SECOND)), state);
}

describe("agent session transition table", () => {
  const started = newSession();
  const active = run(started, user("Hi"));
  const idle = run(active, assistant("Hello"));
  const finished = run(idle, { type: "finish" });
  const states = deepFreeze({ started, active, idle, finished });

  const commands = {
    "user message": user("What is my balance?"),
    "assistant message": assistant("It is 12 EUR."),
    finish: { type: "finish" },
  } satisfies Record<string, AgentSessionCommand>;

  const rows = tableRows(
    {
      started: {
        "user message": accepted("active", "turn.started"),
        "assistant message": refused("illegal_transition"),
        finish: accepted("finished", "session.finished"),
      },
      active: {
        "user message": refused("illegal_transition"),
        "assistant message": accepted("idle", "turn.completed"),
        finish: accepted("finished", "session.finished"),
      },
      idle: {
        "user message": accepted("active", "turn.started"),
        "assistant message": refused("illegal_transition"),
        finish: accepted("finished", "session.finished"),
      },
      finished: {
        "user message": refused("illegal_transition"),
        "assistant message": refused("illegal_transition"),
        finish: noop,
      },
    },
    commands,
  );

  it("covers every (status, command) pair", () => {
    expect(rows).toHaveLength(4 * 3);
  });

  it.each(rows)("%s", (_title, status, _name, command, expected) => {
    const state = states[status as keyof typeof states];
    expect(statusOf(state)).toBe(status);
    expectOutcome(machine.transition(state, command, T0 + 10 * SECOND), state, statusOf, expected);
  });

  it("never changes with time alone", () => {
    for (const state of Object.values(states)) {
      expect(machine.settle(state, T0 + 365 * 24 * 3600 * SECOND)).toEqual({ state, events: [] });
      expect(machine.dueAt(state)).toBeNull();
    }
  });
});

describe("agent session turns", () => {
  it("is created in started for the agent, with the session's own settings", () => {
    const id = newId("session");
    const { state, events } = createAgentSession(
      agent,
      { id, capabilities: [{ ref: "crm" }], modelId: "model-large", tags: ["vip"], title: "Billing" },
      T0,
    );
    expect(state).toMatchObject({
      id,
      orgId: agent.orgId,
      agentId: agent.id,
      status: "started",
      capabilities: [{ ref: "crm" }],
      modelId: "model-large",
      tags: ["vip"],
      title: "Billing",
      startedAt: null,
      finishedAt: null,
      preview: null,
      outputPreview: null,
      usage: null,
      turns: 0,
    });
    expect(events).toEqual([{ type: "session.created", at: T0, payload: { session_id: id, agent_id: agent.id } }]);
  });

  it("starts a turn on a user message and ends it on the assistant's answer", () => {
    const state = newSession();
    const started = machine.transition(state, user("Hi"), T0 + SECOND);
    expect(ok(started)).toMatchObject({ status: "active", startedAt: T0 + SECOND, turns: 1, preview: "Hi" });
    expect(started.ok && started.events).toEqual([{ type: "turn.started", at: T0 + SECOND, payload: { session_id: state.id, turn: 1 } }]);
    const answered = machine.transition(ok(started), assistant("Hello!", { output_tokens: 3 }), T0 + 2 * SECOND);
    expect(ok(answered)).toMatchObject({ status: "idle", outputPreview: "Hello!", startedAt: T0 + SECOND });
    expect(answered.ok && answered.events).toEqual([
      { type: "turn.completed", at: T0 + 2 * SECOND, payload: { session_id: state.id, turn: 1, usage: { output_tokens: 3 } } },
    ]);
    const second = ok(machine.transition(ok(answered), user("And now?"), T0 + 3 * SECOND));
    expect(second).toMatchObject({ turns: 2, startedAt: T0 + SECOND, preview: "Hi" });
  });

  it("refuses a user message while a turn is active", () => {
    const active = run(newSession(), user("Hi"));
    const error = refusal(machine.transition(active, user("Hello?"), T0 + 5 * SECOND));
    expect(error.code).toBe("illegal_transition");
    expect(error.message).toBe(`cannot post a user message to session ${active.id}: a turn is still active`);
  });

  it("keeps the first user message as preview and the last assistant answer as output preview", () => {
    const state = run(newSession(), user("first question"), assistant("first answer"), user("second question"), assistant("second answer"));
    expect(state.preview).toBe("first question");
    expect(state.outputPreview).toBe("second answer");
  });

  it(`truncates previews to the kind's previewChars (${agentSessionKind.limits.previewChars}) characters with an ellipsis`, () => {
    const long = `${"a".repeat(150)}${"b".repeat(150)}`;
    const state = run(newSession(), user(long), assistant(`  ${"c".repeat(500)}  `));
    expect(Array.from(state.preview!)).toHaveLength(agentSessionKind.limits.previewChars);
    expect(state.preview).toBe(`${"a".repeat(150)}${"b".repeat(49)}…`);
    expect(state.outputPreview).toBe(`${"c".repeat(199)}…`);
  });

  it("leaves a preview of exactly the limit untouched and counts characters, not UTF-16 units", () => {
    expect(truncatePreview("x".repeat(200))).toBe("x".repeat(200));
    expect(truncatePreview("x".repeat(201))).toBe(`${"x".repeat(199)}…`);
    expect(truncatePreview("  padded  ")).toBe("padded");
    const emoji = "😀".repeat(201);
    expect(Array.from(truncatePreview(emoji))).toHaveLength(200);
    expect(truncatePreview(emoji)).toBe(`${"😀".repeat(199)}…`);
    expect(truncatePreview("abcdef", 4)).toBe("abc…");
  });

  it("sums usage key by key over user and assistant messages", () => {
    const state = run(
      newSession(),
      user("q1", { input_tokens: 10 }),
      assistant("a1", { input_tokens: 2, output_tokens: 5 }),
      user("q2"),
      assistant("a2", { output_tokens: 7, cached_tokens: 4 }),
    );
    expect(state.usage).toEqual({ input_tokens: 12, output_tokens: 12, cached_tokens: 4 });
    expect(addUsage(null, undefined)).toBeNull();
    expect(addUsage(null, { a: 1 })).toEqual({ a: 1 });
    const total = deepFreeze({ a: 1, b: 2 });
    expect(addUsage(total, { b: 3, c: 4 })).toEqual({ a: 1, b: 5, c: 4 });
    expect(total).toEqual({ a: 1, b: 2 });
  });

  it("finishes once: finishedAt is set, an active turn is left idle, and a second finish is a no-op", () => {
    const active = run(newSession(), user("q", { input_tokens: 4 }));
    const result = machine.transition(active, { type: "finish" }, T0 + 9 * SECOND);
    const finished = ok(result);
    expect(finished).toMatchObject({ status: "idle", finishedAt: T0 + 9 * SECOND });
    expect(result.ok && result.events).toEqual([
      { type: "session.finished", at: T0 + 9 * SECOND, payload: { session_id: active.id, usage: { input_tokens: 4 } } },
    ]);
    const again = machine.transition(finished, { type: "finish" }, T0 + 20 * SECOND);
    expect(again.ok && again.state).toBe(finished);
    expect(again.ok && again.events).toEqual([]);
    expect(refusal(machine.transition(finished, assistant("late"), T0 + 21 * SECOND)).message).toBe(
      `cannot post a message to session ${active.id}: it is finished`,
    );
  });
});

describe("buildRuntimeAgent", () => {
  it("uses the agent's capabilities and model when the session adds nothing", () => {
    const session = newSession();
    expect(buildRuntimeAgent(agent, session)).toEqual({
      agentId: agent.id,
      sessionId: session.id,
      name: "Support bot",
      modelId: "model-default",
      capabilities: agent.capabilities,
    });
  });

  it("applies the session's capabilities after the agent's: same ref merges config in place, a new ref goes last", () => {
    const session = createAgentSession(
      agent,
      {
        id: newId("session"),
        capabilities: [
          { ref: "crm", config: { region: "eu" } },
          { ref: "email", config: { signature: "Cheers", cc: "team@example.com" } },
        ],
      },
      T0,
    ).state;
    expect(buildRuntimeAgent(agent, session).capabilities).toEqual([
      { ref: "web_search" },
      { ref: "email", config: { from: "bot@example.com", signature: "Cheers", cc: "team@example.com" } },
      { ref: "calendar" },
      { ref: "crm", config: { region: "eu" } },
    ]);
    expect(agent.capabilities[1]).toEqual({ ref: "email", config: { from: "bot@example.com", signature: "Bye" } });
  });

  it("gives a capability without config on either side no config key", () => {
    const session = createAgentSession(agent, { id: newId("session"), capabilities: [{ ref: "calendar" }] }, T0).state;
    expect(buildRuntimeAgent(agent, session).capabilities[2]).toStrictEqual({ ref: "calendar" });
  });

  it("lets the session's model override the agent's, and falls back to it otherwise", () => {
    const overridden = createAgentSession(agent, { id: newId("session"), modelId: "model-large" }, T0).state;
    expect(buildRuntimeAgent(agent, overridden).modelId).toBe("model-large");
    const inherited = createAgentSession(agent, { id: newId("session"), modelId: null }, T0).state;
    expect(buildRuntimeAgent(agent, inherited).modelId).toBe("model-default");
    expect(buildRuntimeAgent({ ...agent, modelId: null }, inherited).modelId).toBeNull();
  });
});

describe("assertAgentId", () => {
  it("accepts agent_ followed by 32 lowercase hex digits", () => {
    expect(() => assertAgentId(agent.id)).not.toThrow();
    expect(() => assertAgentId(`agent_${"0123456789abcdef".repeat(2)}`)).not.toThrow();
  });

  it.each([
    "agent_123",
    `agent_${"0123456789ABCDEF".repeat(2)}`,
    `agent_${"a".repeat(33)}`,
    `session_${"a".repeat(32)}`,
    `agent-${"a".repeat(32)}`,
    "",
    42,
    null,
  ])("refuses %j with Invalid agent ID", (value) => {
    const error = thrown(() => assertAgentId(value));
    expect(error.code).toBe("invalid_input");
    expect(error.field).toBe("agentId");
    expect(error.message).toBe("agentId: Invalid agent ID");
  });
});
