// An existing Express 5 app with the router mounted under /agent-sessions: toNodeHandler hands the
// router the whole URL the client sent, and the router's basePath matches it and keeps it in
// hosted form URLs. Mount it before body parsers, so the router reads each body as sent.
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { toNodeHandler } from "@agent-sessions/router/node";
import express from "express";

const port = Number(process.env.PORT ?? 3000);
// "orgA:keyA,orgB:keyB"; the default key is for trying the example only.
const apiKeys = (process.env.AGENT_SESSIONS_API_KEYS ?? "dev:dev-example-key").split(",").map((entry) => {
  const colon = entry.indexOf(":");
  return { orgId: entry.slice(0, colon), key: entry.slice(colon + 1) };
});

const engine = createEngine({ store: new MemoryStore() });
const router = createRouter({ engine, apiKeys, basePath: "/agent-sessions" });
engine.start(); // the worker: expiries and timeouts, webhook deliveries, confirmed actions

const app = express();
app.use(router.basePath, toNodeHandler(router));
// The app's own routes and parsers, after the mount: they never see agent-sessions' requests.
app.use(express.json());
app.get("/", (_req, res) => res.type("text").send(`Your app. agent-sessions answers under ${router.basePath}/`));
app.get("/health", (_req, res) => res.json({ ok: true }));

const server = app.listen(port, "127.0.0.1", () => {
  console.log(`Express app listening on http://127.0.0.1:${port}, agent-sessions under ${router.basePath}/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
