import { randomBytes } from "node:crypto";
import type { Server as HttpServer, RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { createAesGcmCodec, createEngine, type Engine } from "@agent-sessions/core";
import { type ApiKey, apiKeyAuthenticator, createRouter, type Principal } from "@agent-sessions/router";
import { FastResponse, serve } from "srvx";
import { logDurability } from "./durability.js";
import { createWebhookSender } from "./guarded-fetch.js";
import { hostedOrigin, listeningHosts } from "./hosted-origin.js";
import { answerHttpEdges, DEFAULT_HTTP_LIMITS, type HttpLimits, nodeServerOptions } from "./http-edges.js";
import { DEFAULT_LOG_LEVEL, errorFields, Logger, loggedPath, logRequests } from "./logs.js";
import type { ServeOptions } from "./options.js";
import { resolveHost } from "./resolve-host.js";
import { type OpenedStore, openStore } from "./stores.js";
import { answerAtTurnEnd } from "./turn-end.js";

/** The organization a development key belongs to. */
export const DEV_ORG_ID = "dev";

/** A server started by `startServer`. */
export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:3000` (no trailing slash). */
  readonly url: string;
  readonly engine: Engine;
  /** The keys it accepts; the development key when none was configured. */
  readonly apiKeys: readonly ApiKey[];
  /** Whether `apiKeys` is a development key made at start. */
  readonly devKey: boolean;
  /** Its structured log, at `--log-level`: requests, background failures, start and stop. */
  readonly logger: Logger;
  /**
   * Stops accepting connections, stops the worker and closes the server. Requests in flight
   * (a long-poll, an event stream) get `graceMs` to finish before their connections are cut.
   */
  close(graceMs?: number): Promise<void>;
}

/** Tuning for `startServer`, mostly for tests. */
export interface StartOptions {
  /** Milliseconds between the worker's rounds when there is nothing to do. Default: 1000. */
  readonly tickIntervalMs?: number;
  /** Told of background work that failed (it is retried). Default: a log line at error. */
  readonly onTickError?: (error: unknown) => void;
  /** Where the JSON log lines go, each ending in a newline. Default: stderr. */
  readonly writeLog?: (line: string) => void;
  /** node:http's timeouts and header size; shorter ones let tests see a 408 quickly. Default: `DEFAULT_HTTP_LIMITS`. */
  readonly httpLimits?: Partial<HttpLimits>;
}

/** A development key: `dev_` and 32 random hex digits. */
/** How long `GET /readyz` waits for the store before answering 503. */
export const READY_TIMEOUT_MS = 2000;

const PROBE_HEADERS = { "content-type": "application/json", "cache-control": "no-store" } as const;

/**
 * `GET /healthz` (the process answers: 200) and `GET /readyz` (the store answers and its schema is
 * this release's: 200, else 503), for a load balancer or an orchestrator. They need no key and
 * tell nothing of the data or the store's address: why the store is not ready goes to `report`,
 * once each time the reason changes. Any other request is the router's (`null`).
 */
export function healthProbes(
  ready: () => Promise<void>,
  options: { readonly timeoutMs?: number; readonly report?: (reason: string) => void } = {},
): (request: Request) => Promise<Response> | null {
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS;
  const report = options.report ?? ((reason: string) => console.error(`agent-sessions: not ready: ${reason}`));
  let lastReason: string | null = null;
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return null;
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const path = start < 0 ? "/" : url.slice(start).split("?")[0];
    if (path === "/healthz") return Promise.resolve(Response.json({ status: "ok" }, { headers: PROBE_HEADERS }));
    if (path !== "/readyz") return null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the store did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([ready(), timeout])
      .then(
        () => {
          lastReason = null;
          return Response.json({ status: "ready" }, { headers: PROBE_HEADERS });
        },
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          if (reason !== lastReason) report(reason);
          lastReason = reason;
          return Response.json({ status: "unavailable" }, { status: 503, headers: PROBE_HEADERS });
        },
      )
      .finally(() => clearTimeout(timer));
  };
}

export function createDevKey(): string {
  return `dev_${randomBytes(16).toString("hex")}`;
}

/**
 * Starts the whole HTTP surface on node:http (through srvx), over the chosen store, with the
 * engine's worker running: expiries and timeouts persisted, webhooks delivered, actions executed.
 */
export async function startServer(options: ServeOptions, start: StartOptions = {}): Promise<RunningServer> {
  const logger = new Logger(options.logLevel ?? DEFAULT_LOG_LEVEL, start.writeLog ?? ((line) => process.stderr.write(line)));
  const opened = await openStore(options.store);
  await warnOfDurability(opened, logger);
  const engine = createEngine({
    store: opened.store,
    // Names this process in leases and in the delivery log: the host, the process, and a random
    // part, since a container's process is often pid 1 on every host.
    instanceId: `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`,
    ...(opened.notifier ? { notifier: opened.notifier } : {}),
    ...(opened.pollIntervalMs !== null ? { pollIntervalMs: opened.pollIntervalMs } : {}),
    // Webhooks to private networks are refused unless allowed; names are resolved at delivery,
    // and again inside the connection, so a name cannot rebind to a private address in between.
    webhooks: { allowPrivateAddresses: options.allowPrivateWebhooks === true, resolveHost },
    // Sent by a minimal keep-alive HTTP/1.1 client: a quarter of node:http's CPU per delivery.
    sendWebhook: createWebhookSender({ allowPrivateAddresses: options.allowPrivateWebhooks === true }),
    onWorkerError: start.onTickError ?? ((error: unknown) => logger.error("background work failed", errorFields(error))),
    ...(options.encryptionKeys?.length ? { codec: createAesGcmCodec({ keys: options.encryptionKeys }) } : {}),
    ...(options.retainMs === undefined ? {} : { retention: { terminalAfter: options.retainMs } }),
  });
  const devKey = options.apiKeys.length === 0;
  const apiKeys = devKey ? [{ orgId: DEV_ORG_ID, key: createDevKey() }] : options.apiKeys;
  // The organization of each authenticated request, for its log line (the router finds it, once).
  const orgs = new WeakMap<Request, string>();
  const byKey = apiKeyAuthenticator(apiKeys);
  const logOrgs = logger.enabled("info");
  const noted = (request: Request, principal: Principal | null): Principal | null => {
    if (principal !== null) orgs.set(request, principal.orgId);
    return principal;
  };
  // Known once the server listens, which is before any request arrives.
  let hostedOriginOf: ((request: Request) => string) | null = null;
  const router = createRouter({
    engine,
    // Synchronous, as the router's own: a request pays no extra await for its log line's organization.
    authenticate: logOrgs ? (request) => noted(request, byKey(request) as Principal | null) : byKey,
    onError: (error, request) => logger.error("internal error", { method: request.method, path: loggedPath(request.url), ...errorFields(error) }),
    // srvx writes its own responses straight to the socket, with a Content-Length, instead of
    // streaming a web Response body.
    Response: FastResponse,
    publicUrl: options.publicUrl ?? ((request) => hostedOriginOf!(request)),
    // The client address is srvx's request.ip: the socket's peer, or with --trust-proxy the
    // address a trusted proxy forwarded. On a Redis store every instance shares the buckets.
    rateLimit: options.rateLimit === false ? false : { ...options.rateLimit, ...(opened.rateLimiter ? { limiter: opened.rateLimiter } : {}) },
    console: options.console !== false,
  });

  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...start.httpLimits };
  const probes = healthProbes(opened.ready, { report: (reason) => logger.error("not ready", { reason }) });
  const answer = logRequests(
    logger,
    (request) => probes(request) ?? router.fetch(request),
    (request) => orgs.get(request),
  );
  const server = serve({
    // Answers leave together at the end of each turn of the event loop (see answerAtTurnEnd).
    fetch: answerAtTurnEnd(answer),
    port: options.port,
    hostname: options.host,
    silent: true,
    // We own SIGINT and SIGTERM: the worker stops with the server, and the exit code is ours.
    gracefulShutdown: false,
    node: nodeServerOptions(limits),
    ...(options.trustProxy ? { trustProxy: options.trustProxy === "loopback" ? "loopback" : [...options.trustProxy] } : {}),
  });
  // Before the server listens (srvx calls listen but it completes later): no request is missed.
  answerHttpEdges(server.node!.server as HttpServer, server.node!.handler as RequestListener, limits);
  try {
    await server.ready();
  } catch (error) {
    await opened.close().catch(() => {}); // a port in use must not leave a pool open
    throw error;
  }
  const address = server.node?.server?.address();
  const url = listeningUrl(address, options.host);
  hostedOriginOf = hostedOrigin(listeningHosts(address as AddressInfo, options.host), options.allowedHosts ?? [], url);

  // The worker: expiries and timeouts persisted, webhooks sent and confirmed actions run, every
  // `tickIntervalMs` and at once after a write that enqueued work.
  engine.start({ intervalMs: start.tickIntervalMs ?? 1000 });

  let graceful: Promise<void> | null = null;
  return {
    url,
    engine,
    apiKeys,
    devKey,
    logger,
    async close(graceMs = 2000) {
      graceful ??= server.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const closed = await Promise.race([graceful.then(() => true), graceOver]);
      clearTimeout(timer);
      if (!closed) await server.close(true);
      await engine.close(); // the worker's work in flight finishes before the store closes
      await opened.close();
    },
  };
}

/**
 * Logs each store setting that lets an acknowledged write be lost to an OS crash, one line each.
 * A probe that fails does not stop the start: it is told at info.
 */
async function warnOfDurability(opened: OpenedStore, logger: Logger): Promise<void> {
  try {
    logDurability(logger, await opened.durability());
  } catch (error) {
    logger.info("store durability could not be read", errorFields(error));
  }
}

// A wildcard address is where the server listens, not where a client connects.
function listeningUrl(address: AddressInfo | string | null | undefined, host: string): string {
  if (!address || typeof address === "string") throw new Error(`agent-sessions: the server is not listening on ${host}`);
  const shown = address.address === "0.0.0.0" || address.address === "::" ? "localhost" : address.address;
  return `http://${shown.includes(":") ? `[${shown}]` : shown}:${address.port}`;
}
