import { type Engine, type IdempotencyStore, MemoryIdempotencyStore, wireError } from "@agent-sessions/core";
import { type ApiKey, type Authenticate, apiKeyAuthenticator, type Principal } from "./auth.js";
import { type ConsoleOptions, consoleHandlers } from "./console/app.js";
import type { HostedRender } from "./hosted/view.js";
import { hostedOriginResolver, type PublicUrl } from "./hosts.js";
import { describeError, errorResponse, HttpError, parseJson, type ResponseConstructor, readBody, useResponseConstructor } from "./http.js";
import { withIdempotency } from "./idempotency.js";
import { type ClientAddress, type RateLimitOptions, RateLimits, requestIp } from "./rate-limit.js";
import type { RouteContext, RouteDefinition, RouterSettings } from "./route.js";
import { RouteTable } from "./route-table.js";
import { agentRoutes } from "./routes/agents.js";
import { eventRoutes } from "./routes/events.js";
import { formRoutes } from "./routes/forms.js";
import { hostedRoutes } from "./routes/hosted.js";
import { openApiRoute } from "./routes/openapi.js";
import { reviewRoutes } from "./routes/review.js";
import { threadRoutes } from "./routes/threads.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { workflowRoutes } from "./routes/workflows.js";

export interface RouterOptions {
  readonly engine: Engine;
  /** API keys and their organizations. Give these or `authenticate`. */
  readonly apiKeys?: readonly ApiKey[];
  /** Finds a request's organization your own way (a session cookie, a gateway header). */
  readonly authenticate?: Authenticate;
  /**
   * The path the router is mounted under, such as `/agent-sessions`: every route answers below it
   * (`/agent-sessions/v1/forms`), and without `publicUrl` hosted URLs are the request's origin
   * followed by it. Give it when the host hands the router whole request URLs (Next.js route
   * handlers, Fastify, a Worker, and Express through `@agent-sessions/router/node`); leave it out
   * when the host cuts the prefix off itself (Hono's `app.mount`). Default: `""`, the root.
   */
  readonly basePath?: string;
  /**
   * Where hosted form URLs point: an origin such as `https://forms.example.com` (a path after it
   * is kept, and stands for `basePath` too: give `https://example.com/agent-sessions`), or a function that picks one per request. Without it, a request's own origin is
   * used when its host is in `allowedHosts`, and a request naming another host is refused with a
   * 400 before it creates or changes a form session.
   */
  readonly publicUrl?: PublicUrl;
  /**
   * Without `publicUrl`: the hosts whose requests may name hosted URLs after themselves, each
   * `name`, `name:port`, `.domain` (its subdomains too) or `[IPv6]:port`. Default: the loopback
   * names `localhost`, `*.localhost`, `127.0.0.1` and `[::1]` on any port.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * Rate limits, counted before a body is read or the store asked: failed authentications and
   * key-less requests per client address, requests per key. `false` turns them off. Default:
   * `DEFAULT_RATE_LIMITS`, in this process's memory.
   */
  readonly rateLimit?: RateLimitOptions | false;
  /**
   * The client address a request came from, for the per-address limits; `null` exempts it.
   * Default: `request.ip` as srvx sets it (the socket's peer). Read `X-Forwarded-For` here only
   * behind a proxy you run, which overwrites it: any client can send one.
   */
  readonly clientAddress?: ClientAddress;
  /** Largest request body, in bytes. Default: 1 MiB. */
  readonly maxBodyBytes?: number;
  /** How long an `Idempotency-Key` is remembered, in seconds. Default: 24 hours. */
  readonly idempotencyTtlSeconds?: number;
  /**
   * Where `Idempotency-Key`s are remembered. Default: the engine's store when it declares
   * `capabilities.idempotency` (`engine.idempotency`), else a `MemoryIdempotencyStore` in this
   * process, which several instances do not share.
   */
  readonly idempotency?: IdempotencyStore;
  /** Longest long-poll (`?timeout=`), in seconds. Default: 60. */
  readonly maxWaitSeconds?: number;
  /** Milliseconds between heartbeats of an event stream. Default: 15 000. */
  readonly heartbeatMs?: number;
  /** Told of every error that became a 500, with the request. Default: `console.error`. */
  readonly onError?: (error: unknown, request: Request) => void;
  /**
   * The constructor answers are built with. Default: the global `Response`. A server adapter's
   * faster one (srvx's `FastResponse` on Node) skips streaming each body through a web stream.
   */
  readonly Response?: ResponseConstructor;
  /** Routes added beside the built-in ones (the hosted page, the OpenAPI document). */
  readonly routes?: readonly RouteDefinition[];
  /**
   * The console, under `<basePath>/console`: people sign in with an API key and see their
   * organization's sessions, timelines and deadlines, decide pending actions and read webhook
   * delivery logs. Its sign-in sessions live in this process's memory. Default: off.
   */
  readonly console?: boolean | ConsoleOptions;
  /** The hosted pages: the form page (`/f/:id`) and the review page of a pending action (`/r/:token`). */
  readonly hosted?: {
    /**
     * Draws each page from its view (the form with its fields, values and problems, the thank-you,
     * expired, not-found and error pages; the review page with the action, its editable arguments
     * and Approve / Deny, and its pending, decided, refused, expired and not-found pages): a
     * `Response`, or a whole HTML document as text. Default: `renderHostedPage`, agent-sessions' own pages.
     */
    readonly render?: HostedRender;
  };
}

/** The router: one `fetch(request) => Response` serving every endpoint. */
export interface AgentSessionsRouter {
  fetch(request: Request): Promise<Response>;
  /** The path every route answers below (`RouterOptions.basePath`): `""` or `/segment...` without a trailing slash. */
  readonly basePath: string;
  /** Every route, as documented in the OpenAPI document. */
  readonly routes: readonly RouteDefinition[];
}

/** Every API route, in match order, the hosted pages (form and review) drawn by `render`. */
function routesDrawingWith(render?: HostedRender): RouteDefinition[] {
  return [
    ...hostedRoutes(render),
    ...reviewRoutes(render),
    ...formRoutes,
    ...agentRoutes,
    ...threadRoutes,
    ...eventRoutes,
    ...workflowRoutes,
    ...webhookRoutes,
  ];
}

/** Every API route, in match order. */
export const apiRoutes: readonly RouteDefinition[] = routesDrawingWith();

const BODY_METHODS = new Set(["POST", "PATCH", "PUT"]);
/** Who calls a public route (the hosted page): no organization. */
const PUBLIC: Principal = Object.freeze({ orgId: "" });

/** Creates the router for an engine. Mount its `fetch` in any server that speaks Request/Response. */
export function createRouter(options: RouterOptions): AgentSessionsRouter {
  if (!options.apiKeys && !options.authenticate) {
    throw new TypeError("createRouter: give apiKeys or authenticate, or every request is refused");
  }
  const authenticate = options.authenticate ?? apiKeyAuthenticator(options.apiKeys ?? []);
  const basePath = normalizeBasePath(options.basePath);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const idempotencyTtlMs = (options.idempotencyTtlSeconds ?? 24 * 3600) * 1000;
  const idempotency = options.idempotency ?? options.engine.idempotency ?? new MemoryIdempotencyStore();
  const report = options.onError ?? ((error: unknown) => console.error("agent-sessions: internal error", error));
  const settings: RouterSettings = {
    hostedOrigin: hostedOriginResolver(options.publicUrl, options.allowedHosts, basePath),
    maxWaitSeconds: options.maxWaitSeconds ?? 60,
    heartbeatMs: options.heartbeatMs ?? 15_000,
  };
  const routes = [...(options.routes ?? []), ...(options.hosted?.render ? routesDrawingWith(options.hosted.render) : apiRoutes)];
  routes.push(openApiRoute(routes, options));
  const table = new RouteTable();
  const { engine } = options;
  const responseConstructor = options.Response ?? globalThis.Response;
  const limits = RateLimits.create(options.rateLimit, options.clientAddress ?? requestIp, report);

  for (const route of routes) {
    const readsBody = BODY_METHODS.has(route.method);
    const parsesJson = readsBody && !route.bodyContentType;
    table.add(route.method, basePath + route.path, async (request) => {
      useResponseConstructor(responseConstructor);
      try {
        let principal: Principal | PromiseLike<Principal | null> | null;
        // The limits count before the store is asked; each awaits only a limiter's promise.
        if (route.public) {
          const counted = limits?.anonymous(request);
          if (counted) await counted;
          principal = PUBLIC;
        } else {
          principal = authenticate(request);
          // The built-in authenticator answers at once; only a hook's promise is awaited.
          if (isThenable(principal)) principal = await principal;
          if (!principal) {
            const counted = limits?.authFailure(request);
            if (counted) await counted;
            return errorResponse(401, "Invalid or missing API key");
          }
          const counted = limits?.perKey(principal, request);
          if (counted) await counted;
        }
        const text = readsBody ? await readBody(request, maxBodyBytes) : "";
        const body = parsesJson ? parseJson(text) : text;
        const context = new Context(request, decodeParams(request.params), principal, body, engine, settings, report);
        const key = route.idempotent && !route.public ? request.headers.get("idempotency-key") : null;
        if (key !== null) {
          const call = { orgId: principal.orgId, key, request, text, ttlMs: idempotencyTtlMs, now: engine.now() };
          return await withIdempotency(idempotency, call, () => route.handle(context));
        }
        return await route.handle(context);
      } catch (error) {
        // A client that hung up mid-body is no server fault: nothing to report, nobody to answer.
        if (request.signal.aborted) return errorResponse(400, "the request was aborted by the client");
        const answer = describeError(route.input ? wireError(error, route.input) : error, route.failure, (e) => report(e, request));
        return route.errorPage ? await route.errorPage(answer, request) : errorResponse(answer.status, answer.message, answer.headers);
      }
    });
  }

  if (options.console) {
    const deps = { engine, authenticate, limits, settings, basePath, maxBodyBytes, report };
    for (const handler of consoleHandlers(deps, options.console === true ? {} : options.console)) {
      table.add(handler.method, `${basePath}/console${handler.path}`, (request) => {
        useResponseConstructor(responseConstructor);
        return handler.handle(request);
      });
    }
  }

  return {
    routes,
    basePath,
    async fetch(request: Request): Promise<Response> {
      useResponseConstructor(responseConstructor);
      try {
        const response = await table.fetch(request);
        if (response) return response;
        // A path that exists with another method answers 405 with the allowed ones.
        const { pathname } = new URL(request.url);
        const allowed = table.methodsMatching(pathname).join(", ");
        if (allowed) return errorResponse(405, `${request.method} is not allowed here; use ${allowed}`, { allow: allowed });
        return errorResponse(404, `No endpoint at ${request.method} ${pathname}`);
      } catch (error) {
        if (error instanceof HttpError) return errorResponse(error.status, error.message);
        report(error, request);
        return errorResponse(500, "Internal server error");
      }
    },
  };
}

/**
 * What a handler gets. A class, not an object literal with a getter: a literal's getter is a new
 * closure per request, and V8 gives each such object a hidden class of its own, which cost a
 * scavenge ten times its usual time under load.
 */
class Context implements RouteContext {
  #url: URL | undefined;
  #hostedOrigin: string | undefined;
  constructor(
    readonly request: Request,
    readonly params: Readonly<Record<string, string>>,
    private readonly principal: Principal,
    readonly body: unknown,
    readonly engine: Engine,
    readonly settings: RouterSettings,
    private readonly onError: (error: unknown, request: Request) => void,
  ) {}

  get orgId(): string {
    return this.principal.orgId;
  }

  get caller(): string {
    const { orgId, label } = this.principal;
    return label === undefined ? orgId : `${orgId}/${label}`;
  }

  report(error: unknown): void {
    this.onError(error, this.request);
  }

  /** Parsed on first use: most routes never read their URL. */
  get url(): URL {
    this.#url ??= new URL(this.request.url);
    return this.#url;
  }

  get hostedOrigin(): string {
    this.#hostedOrigin ??= this.settings.hostedOrigin(this);
    return this.#hostedOrigin;
  }
}

/**
 * A base path as the router keeps it: `""` for none, else `/` and segments without a trailing
 * slash. A TypeError names anything that is not a plain path (a query, a pattern, a full URL).
 */
function normalizeBasePath(basePath: string | undefined): string {
  const path = (basePath ?? "").replace(/\/+$/, "");
  if (path !== "" && !/^(?:\/[A-Za-z0-9\-._~!$&'()+,;=@%]+)+$/.test(path)) {
    throw new TypeError(`createRouter: basePath '${basePath}' is not a path such as /agent-sessions`);
  }
  return path;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function decodeParams(params: Record<string, string> | undefined): Readonly<Record<string, string>> {
  if (!params) return NO_PARAMS;
  const decoded: Record<string, string> = {};
  // `for…in`, not `Object.entries`: the match groups object has no prototype to walk, and no array
  // of pairs is made per request.
  for (const name in params) {
    const value = params[name]!;
    if (!value.includes("%")) {
      decoded[name] = value; // nothing to decode: the common case of a plain id
      continue;
    }
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      throw new HttpError(400, `${name}: is not a valid URL component`);
    }
  }
  return decoded;
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
