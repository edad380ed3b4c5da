// The router in a plain node:http server: srvx's toNodeHandler turns its fetch(request) into a
// (req, res) listener, so this is any Node server you already have.
import { createServer } from "node:http";
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { toNodeHandler } from "srvx/node";

const port = Number(process.env.PORT ?? 3000);
// "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
const apiKeys = (process.env.AGENT_SESSIONS_API_KEYS ?? "dev:dev-example-key").split(",").map((entry) => {
  const colon = entry.indexOf(":");
  return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
});

const engine = createEngine({ store: new MemoryStore() });
const router = createRouter({ engine, apiKeys });
engine.start(); // the worker: expiries and timeouts, webhook deliveries, confirmed actions

const server = createServer(toNodeHandler(router.fetch)).listen(port, "127.0.0.1", () => {
  console.log(`agent-sessions (node:http) listening on http://127.0.0.1:${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
