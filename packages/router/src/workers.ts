// The router as a Cloudflare Worker module (workerd, or Cloudflare's own runtime).
import type { Engine } from "@agent-sessions/core";
import type { AgentSessionsRouter } from "./router.js";

/** What a Worker's handlers get besides the request: `ctx.waitUntil` keeps work running after the answer. */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** A Worker module's default export: `fetch` for requests, `scheduled` for a Cron Trigger. */
export interface WorkerModule<Env> {
  fetch(request: Request, env: Env, ctx: WorkerContext): Promise<Response>;
  scheduled(controller: unknown, env: Env, ctx: WorkerContext): Promise<void>;
}

/** What `workerModule`'s setup gives: the router, and the engine whose background rounds the Worker runs. */
export interface WorkerSetup {
  readonly router: AgentSessionsRouter;
  /** Without it, no round runs: expiries and timeouts then wait for a reader, and no webhook leaves. */
  readonly engine?: Engine;
}

/**
 * A Worker module serving the router: `export default workerModule((env) => ({ router, engine }))`.
 * `setup` runs once per isolate, on its first event, with the Worker's `env` (its bindings: API
 * keys, a store's connection). A Worker keeps no timers between requests, so `engine.start()` has
 * no place here: after each answer one `engine.tick()` round (settling due expiries and timeouts,
 * sending webhooks, running confirmed actions) runs under `ctx.waitUntil`, one at a time, and a
 * Cron Trigger's `scheduled` event runs one too, for the deadlines that pass while nobody calls.
 * The isolate's memory lasts only as long as the isolate: give a shared store in production.
 */
export function workerModule<Env = unknown>(setup: (env: Env) => WorkerSetup): WorkerModule<Env> {
  let built: WorkerSetup | undefined;
  let round: Promise<void> | null = null;
  const setUp = (env: Env): WorkerSetup => (built ??= setup(env));
  const tick = (engine: Engine | undefined): Promise<void> => {
    if (!engine) return Promise.resolve();
    round ??= engine
      .tick()
      .then(
        () => {},
        (error: unknown) => console.error("agent-sessions: a worker round failed", error),
      )
      .finally(() => {
        round = null;
      });
    return round;
  };
  return {
    async fetch(request, env, ctx) {
      const { router, engine } = setUp(env);
      const response = await router.fetch(request);
      ctx.waitUntil(tick(engine));
      return response;
    },
    async scheduled(_controller, env, ctx) {
      ctx.waitUntil(tick(setUp(env).engine));
    },
  };
}
