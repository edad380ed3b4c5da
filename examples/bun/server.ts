// The router as Bun.serve's fetch handler: nothing to adapt.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";

const port = Number(process.env.PORT ?? 3000);
// "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
const apiKeys = (process.env.AGENT_SESSIONS_API_KEYS ?? "dev:dev-example-key").split(",").map((entry) => {
  const colon = entry.indexOf(":");
  return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
});

const engine = createEngine({ store: new MemoryStore() });
// The client's address, for the per-address rate limits: Bun tells it through its server.
const router = createRouter({ engine, apiKeys, clientAddress: (request) => server.requestIP(request)?.address ?? null });
engine.start(); // the worker: expiries and timeouts, webhook deliveries, confirmed actions

const server = Bun.serve({ fetch: router.fetch, port, hostname: "127.0.0.1", idleTimeout: 0 });
console.log(`agent-sessions (Bun ${Bun.version}) listening on ${server.url}`);
