// An existing Fastify 5 app with the router registered as a plugin under /agent-sessions: the
// plugin's own scope leaves bodies unread for the router, and the app keeps its JSON parser.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { fastifyPlugin } from "@agent-sessions/router/fastify";
import Fastify from "fastify";

const port = Number(process.env.PORT ?? 3000);
// "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
const apiKeys = (process.env.AGENT_SESSIONS_API_KEYS ?? "dev:dev-example-key").split(",").map((entry) => {
  const colon = entry.indexOf(":");
  return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
});

const engine = createEngine({ store: new MemoryStore() });
const router = createRouter({ engine, apiKeys, basePath: "/agent-sessions" });
engine.start(); // the worker: expiries and timeouts, webhook deliveries, confirmed actions

const app = Fastify();
await app.register(fastifyPlugin(router));
app.get("/", async () => `Your app. agent-sessions answers under ${router.basePath}/`);
app.post("/echo", async (request) => ({ youSent: request.body })); // the app's own JSON parser still works
app.get("/health", async () => ({ ok: true }));

await app.listen({ port, host: "127.0.0.1" });
console.log(`Fastify app listening on http://127.0.0.1:${port}, agent-sessions under ${router.basePath}/`);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => app.close().then(() => process.exit(0)));
