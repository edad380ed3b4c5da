// The operations the fuzz drives, read from the router's own OpenAPI document: every path, method,
// parameter, query and body schema the requests are generated from comes from `GET /openapi.json`.
import type { AgentSessionsRouter, JsonSchema, OpenApiDocument, OpenApiParameter } from "@agent-sessions/router";

/** A schema as the document writes it: an object of keywords (booleans are not used by the router). */
export type Schema = { readonly [keyword: string]: unknown };

/** One operation of the document, flattened for generating requests. */
export interface Operation {
  /** `GET /v1/forms/{id}`: how failures name it. */
  readonly name: string;
  readonly method: string;
  /** The OpenAPI path template, e.g. `/api/v1/sessions/{thread_id}/actions/{action_id}`. */
  readonly template: string;
  /** The path parameters, in order. */
  readonly params: readonly string[];
  readonly query: ReadonlyArray<{ readonly name: string; readonly schema: Schema }>;
  /** The request body's media type and schema; `null` for an operation without a body. */
  readonly body: { readonly contentType: string; readonly schema: Schema; readonly required: boolean } | null;
  /** Needs no API key (the hosted page, the document itself). */
  readonly public: boolean;
  /** Honours `Idempotency-Key`. */
  readonly idempotent: boolean;
  /** Documented responses: status → media type and schema (absent for a body-less answer). */
  readonly responses: ReadonlyMap<number, { readonly contentType: string | null; readonly schema: Schema | null }>;
}

/** Fetches the router's OpenAPI document the way a client would. */
export async function servedDocument(router: AgentSessionsRouter): Promise<OpenApiDocument> {
  const response = await router.fetch(new Request("http://fuzz.test/openapi.json"));
  if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
  return (await response.json()) as OpenApiDocument;
}

/** Follows a local `$ref` (`#/components/...`). */
export function resolveRef(document: OpenApiDocument, ref: string): unknown {
  let node: unknown = document;
  for (const part of ref.slice(2).split("/")) {
    node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  if (node === undefined) throw new Error(`the document has no ${ref}`);
  return node;
}

/** A schema with its top-level `$ref` followed (nested ones are followed where they are met). */
export function deref(document: OpenApiDocument, schema: JsonSchema | unknown): Schema {
  let current = schema as Schema;
  for (let hops = 0; typeof current.$ref === "string"; hops++) {
    if (hops > 16) throw new Error(`a $ref cycle at ${current.$ref}`);
    current = resolveRef(document, current.$ref) as Schema;
  }
  return current;
}

/** Every operation of the document, in its order. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const parameters = (operation.parameters ?? []).map(
        (parameter) => ("$ref" in parameter ? resolveRef(document, parameter.$ref) : parameter) as Exclude<OpenApiParameter, { $ref: string }>,
      );
      const content = operation.requestBody ? Object.entries(operation.requestBody.content)[0] : undefined;
      const responses = new Map<number, { contentType: string | null; schema: Schema | null }>();
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = response.content ? Object.entries(response.content)[0] : undefined;
        responses.set(Number(status), { contentType: media?.[0] ?? null, schema: (media?.[1].schema as Schema | undefined) ?? null });
      }
      operations.push({
        name: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        params: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: deref(document, p.schema) })),
        body: content
          ? { contentType: content[0], schema: deref(document, content[1].schema ?? {}), required: operation.requestBody!.required }
          : null,
        public: operation.security.length === 0,
        idempotent: parameters.some((p) => p.in === "header" && p.name === "Idempotency-Key"),
        responses,
      });
    }
  }
  return operations;
}
