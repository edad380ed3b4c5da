// Agents', agent sessions' and webhook endpoints' engine API is typed like the rest (see
// engine-types.test.ts): each `@ts-expect-error` below fails `pnpm typecheck` the day the line it
// marks compiles; the runtime half checks that JavaScript callers are still refused.
import { MemoryStore } from "@agent-sessions/memory";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type AgentSession, type AgentSessionStatus, createEngine, type Engine, type Page, type WebhookEndpoint } from "../src/index.js";

const ORG = "org_00000000000000000000000000000001";

/** Agents, agent sessions and webhook endpoints: calls that must not compile; never run. */
function wrongAgentAndWebhookCalls(engine: Engine): void {
  // @ts-expect-error seed 003's agent_id is the wire's; the engine takes agentId
  void engine.agentSessions.create(ORG, { agent_id: "agent_x" });
  // @ts-expect-error model_id is the wire's name of modelId
  void engine.agents.create(ORG, { name: "support", model_id: "m" });
  // @ts-expect-error an agent session is never "finished": its finishedAt says so
  void engine.agentSessions.list(ORG, { status: "finished" });
  // @ts-expect-error a message is the user's or the assistant's
  void engine.agentSessions.postMessage(ORG, "session_x", { role: "system", content: "hi" });
  // @ts-expect-error usage counters are whole numbers
  void engine.agentSessions.postMessage(ORG, "session_x", { role: "user", content: "hi", usage: { input_tokens: "3" } });
  // @ts-expect-error webhook endpoints are listed live only, without a status
  void engine.webhooks.list(ORG, { status: "deleted" });
  // @ts-expect-error an event filter is a list
  void engine.webhooks.create(ORG, { url: "https://hooks.example.com/", events: "session.*" });
}

describe("the engine's types of agents, agent sessions and webhooks", () => {
  it("take typed camelCase inputs and return typed resources", () => {
    expectTypeOf<Engine["agentSessions"]["create"]>().returns.resolves.toEqualTypeOf<AgentSession>();
    expectTypeOf<Engine["agentSessions"]["list"]>().returns.resolves.toEqualTypeOf<Page<AgentSession>>();
    expectTypeOf<AgentSession["status"]>().toEqualTypeOf<AgentSessionStatus>();
    expectTypeOf<WebhookEndpoint["status"]>().toEqualTypeOf<"active" | "deleted">();
    expect(typeof wrongAgentAndWebhookCalls).toBe("function");
  });

  it("still refuse at run time what a JavaScript caller gets wrong, naming the field", async () => {
    const engine = createEngine({ store: new MemoryStore(), clock: () => 1_700_000_000_000 });
    const agent = await engine.agents.create(ORG, { name: "support" });
    const untyped = engine.agentSessions as unknown as { create(org: string, input: unknown): Promise<unknown> };
    await expect(untyped.create(ORG, { agent_id: agent.id })).rejects.toThrow("agent_id is not a known field");
    await expect(untyped.create(ORG, { agentId: "agent_123" })).rejects.toThrow("agentId: Invalid agent ID");
    await expect(engine.agentSessions.list(ORG, { status: "finished" as AgentSessionStatus })).rejects.toThrow(
      "status: must be one of started, active, idle",
    );
  });
});
