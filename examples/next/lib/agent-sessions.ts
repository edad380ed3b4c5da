// The engine and the router of this Next.js app, made once per server process.
import { createEngine, type Engine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { type AgentSessionsRouter, createRouter } from "@agent-sessions/router";

function create(): { engine: Engine; router: AgentSessionsRouter } {
  // "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
  const apiKeys = (process.env.AGENT_SESSIONS_API_KEYS ?? "dev:dev-example-key").split(",").map((entry) => {
    const colon = entry.indexOf(":");
    return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
  });
  const engine = createEngine({ store: new MemoryStore() });
  // The route's folder is the router's basePath: Next.js hands the handlers whole URLs.
  const router = createRouter({ engine, apiKeys, basePath: "/agent-sessions" });
  // The worker (expiries and timeouts, webhook deliveries, confirmed actions), in the server
  // only: `next build` loads this module too, and must not be kept alive by it.
  if (process.env.NEXT_PHASE !== "phase-production-build") engine.start();
  return { engine, router };
}

// One per process, even when Next.js loads the module more than once (development reloads).
const shared = globalThis as typeof globalThis & { agentSessions?: ReturnType<typeof create> };
shared.agentSessions ??= create();

export const { engine, router } = shared.agentSessions;
