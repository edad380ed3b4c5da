// An existing Hono app with the router mounted under /agent-sessions: Hono strips the prefix
// before the router sees the request, and publicUrl puts it back into hosted form URLs.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const port = Number(process.env.PORT ?? 3000);
const prefix = "/agent-sessions";
// "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
const apiKeys = (process.env.AGENT_SESSIONS_API_KEYS ?? "dev:dev-example-key").split(",").map((entry) => {
  const colon = entry.indexOf(":");
  return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
});

const engine = createEngine({ store: new MemoryStore() });
const router = createRouter({ engine, apiKeys, publicUrl: `${process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`}${prefix}` });
engine.start(); // the worker: expiries and timeouts, webhook deliveries, confirmed actions

const app = new Hono();
app.get("/", (c) => c.text(`Your app. agent-sessions answers under ${prefix}/`));
app.get("/health", (c) => c.json({ ok: true }));
// The same as app.all(`${prefix}/*`, (c) => router.fetch(c.req.raw with the prefix cut from its URL)).
app.mount(prefix, router.fetch);

const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`Hono app listening on http://127.0.0.1:${info.port}, agent-sessions under ${prefix}/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
