// The router as Deno.serve's handler: nothing to adapt. The packages come from node_modules.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";

const port = Number(Deno.env.get("PORT") ?? 3000);
// "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
const apiKeys = (Deno.env.get("AGENT_SESSIONS_API_KEYS") ?? "dev:dev-example-key").split(",").map((entry) => {
  const colon = entry.indexOf(":");
  return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
});

const engine = createEngine({ store: new MemoryStore() });
const router = createRouter({ engine, apiKeys });
engine.start(); // the worker: expiries and timeouts, webhook deliveries, confirmed actions

Deno.serve({ port, hostname: "127.0.0.1", onListen: ({ hostname, port }) => {
  console.log(`agent-sessions (Deno ${Deno.version.deno}) listening on http://${hostname}:${port}`);
} }, router.fetch);
