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
// The client's address, for the per-address rate limits: Deno hands it beside each request.
const clients = new WeakMap<Request, string>();
const router = createRouter({ engine, apiKeys, clientAddress: (request) => clients.get(request) ?? null });
engine.start(); // the worker: expiries and timeouts, webhook deliveries, confirmed actions

Deno.serve(
  {
    port,
    hostname: "127.0.0.1",
    onListen: ({ hostname, port }) => {
      console.log(`agent-sessions (Deno ${Deno.version.deno}) listening on http://${hostname}:${port}`);
    },
  },
  (request, info) => {
    clients.set(request, (info.remoteAddr as Deno.NetAddr).hostname);
    return router.fetch(request);
  },
);
