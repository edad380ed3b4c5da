// The router with the memory store inside a Cloudflare Worker module, run locally by workerd
// (config.capnp). workerModule builds them on the isolate's first request, from the Worker's
// env, and runs the engine's background rounds under ctx.waitUntil after each answer and on a
// Cron Trigger's scheduled event: a Worker keeps no timers between requests.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { workerModule } from "@agent-sessions/router/workers";

export default workerModule((env) => {
  // "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
  const apiKeys = (env.AGENT_SESSIONS_API_KEYS || "dev:dev-example-key").split(",").map((entry) => {
    const colon = entry.indexOf(":");
    return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
  });
  // The memory store lasts as long as this isolate: a real deployment gives a shared store.
  const engine = createEngine({ store: new MemoryStore() });
  return { engine, router: createRouter({ engine, apiKeys, basePath: "/agent-sessions" }) };
});
