// The real router over a memory store, in this process: the client's fetch calls router.fetch.
import { createClient, type FetchLike } from "@agent-sessions/client";
import { createEngine, type EngineOptions } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter, type RouterOptions } from "@agent-sessions/router";

export const KEY = "key_of_org_a";
export const OTHER_KEY = "key_of_org_b";

/** A fetch wrapper a test puts between the client and the router, e.g. to inject failures. */
export type Interpose = (next: FetchLike) => FetchLike;

/** An engine, its router and a client talking to it; `calls` counts what reached the router. */
export function inProcess(
  options: { engine?: Partial<EngineOptions>; router?: Partial<RouterOptions>; interpose?: Interpose; client?: Record<string, unknown> } = {},
) {
  const engine = createEngine({ store: new MemoryStore(), ...options.engine });
  const router = createRouter({
    engine,
    apiKeys: [
      { orgId: "org_a", key: KEY },
      { orgId: "org_b", key: OTHER_KEY },
    ],
    maxWaitSeconds: 5,
    // Hosted form URLs name the client's base URL, as a server that lists its host names them.
    allowedHosts: ["agent-sessions.test"],
    onError: (error) => {
      throw error;
    },
    ...options.router,
  });
  const calls: Request[] = [];
  const direct: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    calls.push(request.clone());
    return router.fetch(request);
  };
  const fetch = options.interpose ? options.interpose(direct) : direct;
  const client = createClient({ baseUrl: "http://agent-sessions.test/", apiKey: KEY, fetch, backoff: { baseMs: 1, maxMs: 5 }, ...options.client });
  return { engine, router, client, calls, fetch };
}
