# workerd's configuration of the example: one Worker module (dist/worker.js, built by esbuild from
# worker.mjs), listening on 127.0.0.1:8787; `workerd serve config.capnp --socket-addr http=HOST:PORT`
# picks another address. The API keys come from the environment variable of the same name.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "agent-sessions", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "agent-sessions")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2026-11-01",
  bindings = [(name = "AGENT_SESSIONS_API_KEYS", fromEnvironment = "AGENT_SESSIONS_API_KEYS")],
);
