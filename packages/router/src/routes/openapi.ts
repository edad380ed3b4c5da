import { Type } from "@sinclair/typebox";
import { respond } from "../http.js";
import { buildOpenApiDocument } from "../openapi.js";
import type { RouteDefinition } from "../route.js";
import type { RouterOptions } from "../router.js";
import { ErrorBody } from "../wire.js";

/** The title, version and license the served document carries. */
export const API_INFO = { title: "agent-sessions", version: "1.0.0", license: { name: "MIT", identifier: "MIT" } } as const;

/** What each of the router's tags groups, for the document's `tags`. */
export const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  Forms: "Form definitions: the fields a person fills in, kept per organization",
  "Form sessions": "One person filling in one form, through its hosted page or the API, until it is submitted or expires",
  "Hosted form page": "The HTML page a person fills a form session in; its unguessable URL is the capability, so it needs no API key",
  Agents: "Agent definitions: the tools (actions) an agent may ask a person to confirm",
  "Agent sessions": "A conversation between an agent and a person, with its messages, until it is finished",
  Threads: "Agent threads: messages, context variables and tool calls a person confirms, edits or declines",
  "Review page": "The HTML page a person confirms or declines an action in; its unguessable URL is the capability, so it needs no API key",
  Sessions: "Workflow sessions: durable steps with time, events and replay",
  Inboxes: "Email inboxes a workflow session receives messages in",
  Waits: "A workflow session waiting for a message in an inbox (a reply, a one-time code) or for its timeout",
  Webhooks: "Endpoints the router sends signed events to, and their delivery attempts",
  Meta: "The API's own description",
};

/**
 * `GET /openapi.json`: the OpenAPI document of `routes`, built on the first request (when the list
 * is complete, this route included) and kept for the router's life.
 */
export function openApiRoute(routes: readonly RouteDefinition[], options: Pick<RouterOptions, "publicUrl">): RouteDefinition {
  let document: string | null = null;
  return {
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 document",
    tag: "Meta",
    public: true,
    responses: {
      200: {
        description: "The OpenAPI document",
        schema: Type.Object({ openapi: Type.String(), info: Type.Object({}), paths: Type.Object({}) }),
      },
      429: { description: "Too many key-less requests from this address (the router's `rateLimit`)", schema: ErrorBody },
      500: { description: "Internal server error", schema: ErrorBody },
    },
    failure: "Failed to build the OpenAPI document",
    async handle() {
      document ??= JSON.stringify(
        buildOpenApiDocument(routes, {
          ...API_INFO,
          tagDescriptions: TAG_DESCRIPTIONS,
          ...(typeof options.publicUrl === "string" ? { serverUrl: options.publicUrl.replace(/\/+$/, "") } : {}),
        }),
      );
      return respond(document, { headers: { "content-type": "application/json; charset=utf-8" } });
    },
  };
}
