import { Type } from "@sinclair/typebox";
import { respond } from "../http.js";
import { buildOpenApiDocument } from "../openapi.js";
import type { RouteDefinition } from "../route.js";
import type { RouterOptions } from "../router.js";
import { ErrorBody } from "../wire.js";

/** The title and version the served document carries. */
export const API_INFO = { title: "agent-sessions", version: "1.0.0" } as const;

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
      500: { description: "Internal server error", schema: ErrorBody },
    },
    failure: "Failed to build the OpenAPI document",
    async handle() {
      document ??= JSON.stringify(
        buildOpenApiDocument(routes, {
          ...API_INFO,
          ...(typeof options.publicUrl === "string" ? { serverUrl: options.publicUrl.replace(/\/+$/, "") } : {}),
        }),
      );
      return respond(document, { headers: { "content-type": "application/json; charset=utf-8" } });
    },
  };
}
