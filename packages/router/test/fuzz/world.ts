// One run's world: two organizations with their keys and pools, an engine on the store under test
// with a clock the run moves, webhook deliveries recorded instead of sent, and everything the
// engine and router report. A fresh world per run keeps runs (and fast-check's shrinking) apart
// while they share one store: each run's organizations are new.
import { createEngine, type Engine, type Store } from "@agent-sessions/core";
import { type AgentSessionsRouter, createRouter } from "@agent-sessions/router";
import { PUBLIC_HOSTS } from "./hints.js";
import { OrgPool } from "./pool.js";
import type { Keys } from "./requests.js";

/** The store methods that change records, their events or lists. */
const RECORD_WRITES = new Set(["insert", "compareAndSet"]);

/**
 * A store whose every call is noted, so a check can tell whether a value ever reached it, and
 * which awaits `beforeWrite` before a call that changes records: the moment to photograph the
 * store as the request found it, since until then the request only read.
 */
export function watchedStore(store: Store, calls: Array<{ method: string; args: unknown[] }>, beforeWrite: () => Promise<void>): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        calls.push({ method: String(property), args });
        if (RECORD_WRITES.has(String(property))) await beforeWrite();
        return value.apply(target, args);
      };
    },
  });
}

/** The clock of one store's runs: it only moves forward, when a run moves it. */
export interface Clock {
  now: number;
}

const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (byte) => byte.toString(16).padStart(2, "0")).join("");

/** The host requests are sent to; a rare twist sends one to another host. */
export const FUZZ_HOST = "fuzz.test";

/** Where a request says which client address it comes from (read by the router's `clientAddress`). */
export const CLIENT_HEADER = "x-fuzz-client";

/** Delivery answers in turn, so the delivery log holds successes, retries and failures. */
const RECEIVER_ANSWERS = [200, 500, 200, 410, 0, 204];

export class World {
  readonly orgs: { readonly a: string; readonly b: string };
  readonly keys: Keys;
  readonly pools: { readonly a: OrgPool; readonly b: OrgPool };
  readonly engine: Engine;
  readonly router: AgentSessionsRouter;
  /** Errors the router turned into a 500, and errors of listeners and the worker. */
  readonly reported: Array<{ where: string; error: unknown }> = [];
  /** Webhook deliveries the engine tried: recorded, never sent. */
  readonly deliveries: Array<{ url: string; body: string }> = [];
  /** Store calls of the request being checked. */
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  /** Called before each store call that changes records; set by the run for each request. */
  beforeWrite: () => Promise<void> = async () => {};

  constructor(store: Store, clock: Clock) {
    this.orgs = { a: `org_${hex(16)}`, b: `org_${hex(16)}` };
    this.keys = { a: `key_a_${hex(8)}`, b: `key_b_${hex(8)}` };
    this.pools = { a: new OrgPool(this.orgs.a), b: new OrgPool(this.orgs.b) };
    let answer = 0;
    this.engine = createEngine({
      store: watchedStore(store, this.calls, () => this.beforeWrite()),
      clock: () => clock.now,
      fetch: async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        this.deliveries.push({ url, body: typeof init?.body === "string" ? init.body : input instanceof Request ? await input.text() : "" });
        const status = RECEIVER_ANSWERS[answer++ % RECEIVER_ANSWERS.length]!;
        if (status === 0) throw new TypeError("fetch failed (recorded: the fuzz sends nothing)");
        return new Response(null, { status });
      },
      webhooks: { retrySchedule: [60_000, 3_600_000], timeoutMs: 1000 },
      actions: {
        send_email: () => ({ sent: true }),
        charge_card: () => {
          throw new Error("card declined");
        },
      },
      maxActionAttempts: 2,
      actionRetryDelaysMs: [60_000],
      onListenerError: (error) => this.reported.push({ where: "an event listener", error }),
      onWorkerError: (error) => this.reported.push({ where: "the worker", error }),
    });
    this.router = createRouter({
      engine: this.engine,
      apiKeys: [
        { orgId: this.orgs.a, key: this.keys.a },
        { orgId: this.orgs.b, key: this.keys.b },
      ],
      onError: (error) => this.reported.push({ where: "the router (a 500)", error }),
      // Long-polls and streams end within a few milliseconds of real time: the clock is the run's.
      maxWaitSeconds: 0.02,
      heartbeatMs: 20,
      // Hosted URLs name the fuzz's own host; a request to any other host may not create one.
      allowedHosts: [FUZZ_HOST],
      // Each organization's requests come from an address of its own, and the per-address limits
      // are tight enough that a run meets them: failed keys and key-less requests then answer 429.
      clientAddress: (request) => request.headers.get(CLIENT_HEADER),
      rateLimit: { authFailures: { limit: 2, windowSeconds: 60 }, anonymous: { limit: 4, windowSeconds: 10 } },
    });
  }

  /** What is wrong with the deliveries the engine tried: a host that does not look public, another organization's data. */
  deliveryProblems(): string[] {
    const problems: string[] = [];
    for (const { url, body } of this.deliveries) {
      if (!PUBLIC_HOSTS.some((host) => new URL(url).host === host)) problems.push(`a delivery to ${url}`);
      for (const [mine, theirs] of [
        [this.pools.a, this.pools.b],
        [this.pools.b, this.pools.a],
      ] as const) {
        if (!url.includes(`/${mine.orgId}/`)) continue;
        const leaked = [theirs.orgId, ...theirs.known].find(
          (id) => body.includes(id) && !mine.known.has(id) && !mine.sent.some((sent) => sent.includes(id)),
        );
        if (leaked) problems.push(`a delivery to ${mine.orgId}'s endpoint ${url} carries ${leaked} of the other organization`);
      }
    }
    this.deliveries.length = 0;
    return problems;
  }

  /** The reported errors as text, stacks included: what a failure shows the reader. */
  describeReported(): string {
    return this.reported
      .map(
        ({ where, error }) =>
          `  from ${where}: ${error instanceof Error ? (error.stack ?? error.message).split("\n").slice(0, 8).join("\n    ") : String(error)}`,
      )
      .join("\n");
  }
}
