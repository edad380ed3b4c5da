import type { Engine, WireInput } from "@agent-sessions/core";
import type { TSchema } from "@sinclair/typebox";
import type { ErrorAnswer } from "./http.js";

/** What a route handler gets: the request, its parts, the caller's organization and the engine. */
export interface RouteContext {
  readonly request: Request;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  /** The caller's organization; empty on public routes (the hosted page). */
  readonly orgId: string;
  /** Who called, as a decision records it (`decided_by`): `<org>/<key label>`, or the organization when its key has no label. */
  readonly caller: string;
  /** The parsed JSON body (`{}` when empty); only for POST, PATCH and PUT. */
  readonly body: unknown;
  readonly engine: Engine;
  readonly settings: RouterSettings;
  /**
   * The origin hosted form URLs of this request start with (see `RouterOptions.publicUrl`), found
   * on first use. Reading it throws the 400 of a `Host` the router may not name.
   */
  readonly hostedOrigin: string;
  /** Tells the router's `onError` of a failure the route handles itself (a stream that ends). */
  report(error: unknown): void;
}

/** Settings every route reads, resolved from the router's options. */
export interface RouterSettings {
  /** Finds a request's hosted origin; see `RouteContext.hostedOrigin`. */
  readonly hostedOrigin: (context: RouteContext) => string;
  /** Longest long-poll a client may ask for, in seconds. */
  readonly maxWaitSeconds: number;
  /** Milliseconds between Server-Sent Events heartbeats. */
  readonly heartbeatMs: number;
}

/** One documented response of a route. */
export interface RouteResponse {
  readonly description: string;
  readonly schema?: TSchema;
  readonly contentType?: string;
}

/** One endpoint: how it is matched, documented, guarded and handled. */
export interface RouteDefinition {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** itty-router path pattern, e.g. `/v1/forms/:id/sessions`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** Needs no API key (the hosted page: its unguessable URL is the capability). */
  readonly public?: boolean;
  /** Creates something: honours `Idempotency-Key`. */
  readonly idempotent?: boolean;
  /** The request body as sent, for the OpenAPI document, when `input` does not give it. */
  readonly body?: TSchema;
  /**
   * The operation's input as the wire carries it (a kind's `wire.create`, …): the handler reads the
   * body with it, the OpenAPI document shows its schema, and a field the engine names in its own
   * casing in a 400 is renamed to the wire's.
   */
  readonly input?: WireInput<unknown>;
  readonly bodyContentType?: string;
  readonly query?: Readonly<Record<string, { description: string; schema: TSchema }>>;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /** The message of a 500 on this route; never an internal detail. */
  readonly failure: string;
  handle(context: RouteContext): Promise<Response>;
  /**
   * Renders the errors the router answers for this route (a body too large, a 500) its own way;
   * the hosted page answers a person with HTML. Given the request, so a route that also takes
   * JSON (the review link) can answer that in JSON. Default: the JSON `{ error, message }` body.
   */
  errorPage?(answer: ErrorAnswer, request: Request): Promise<Response> | Response;
}

/** The review page's URL of an action's link. */
export function reviewUrl(context: RouteContext, token: string): string {
  return `${context.hostedOrigin}/r/${token}`;
}

/** The hosted form page's URL of a session. */
export function hostedUrl(context: RouteContext, sessionId: string): string {
  return `${context.hostedOrigin}/f/${sessionId}`;
}
