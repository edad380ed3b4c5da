import { mapSubschemas } from "@agent-sessions/core";
import type { TSchema } from "@sinclair/typebox";
import type { RouteDefinition, RouteResponse } from "./route.js";
import { ErrorBody } from "./wire.js";

/** A JSON Schema (2020-12, the dialect OpenAPI 3.1 uses) as it appears in the document. */
export type JsonSchema = { [keyword: string]: unknown } | boolean;

/** A parameter of an operation, or a `$ref` to one in `components/parameters`. */
export type OpenApiParameter =
  | { name: string; in: "path" | "query" | "header"; required: boolean; description?: string; schema: JsonSchema }
  | { $ref: string };

/** One operation (a method of a path) of the document. */
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: JsonSchema }> }>;
}

/** An OpenAPI 3.1 document. */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string; license?: OpenApiLicense };
  servers: { url: string; description?: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters: Record<string, OpenApiParameter>;
    securitySchemes: Record<string, Record<string, string>>;
  };
}

/** What the document says about itself. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly license?: OpenApiLicense;
  /** The API's origin; without it, clients resolve paths against where they fetched the document. */
  readonly serverUrl?: string;
  /** What each tag (a route's `tag`) groups, by its name. */
  readonly tagDescriptions?: Readonly<Record<string, string>>;
}

/** The license the API is offered under: an SPDX `identifier` or a `url`. */
export interface OpenApiLicense {
  readonly name: string;
  readonly identifier?: string;
  readonly url?: string;
}

/**
 * The server of a document without `serverUrl`: relative to where the document was fetched, so a
 * router mounted under a prefix (`/api/openapi.json`) names its own routes (`/api/v1/...`) too.
 */
const RELATIVE_SERVER = { url: ".", description: "Where this document was fetched from" };

const JSON_TYPE = "application/json";
const SECURITY_SCHEMES = {
  bearerAuth: { type: "http", scheme: "bearer", description: "An API key as a Bearer token" },
  apiKeyHeader: { type: "apiKey", in: "header", name: "X-API-Key", description: "An API key in the X-API-Key header" },
};
/** Either scheme is enough: each entry of `security` is an alternative. */
const GUARDED: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];
const IDEMPOTENCY_KEY: OpenApiParameter = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "Retrying with the same key and body answers the first response again; the same key with another body is refused",
  schema: { type: "string", minLength: 1 },
};

/** Builds the OpenAPI 3.1 document of a set of routes from their TypeBox schemas. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], info: OpenApiInfo): OpenApiDocument {
  const schemas = new SchemaRegistry();
  schemas.convert(ErrorBody);
  const paths: OpenApiDocument["paths"] = {};
  const templates = pathTemplates(routes);
  const tags: string[] = [];
  const operationIds = new Set<string>();

  for (const route of routes) {
    const method = route.method.toLowerCase();
    const names = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1]!);
    const template = templates.get(shapeOf(route.path))!;
    const item = (paths[template] ??= {});
    // The router answers with the first route of a method and path; a later one is never reached.
    if (item[method]) continue;
    const declared = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);

    const parameters: OpenApiParameter[] = declared.map((name, i) => ({
      name,
      in: "path",
      required: true,
      ...(names[i] !== name ? { description: `The ${names[i]}` } : {}),
      schema: { type: "string" },
    }));
    for (const [name, { description, schema }] of Object.entries(route.query ?? {})) {
      parameters.push({ name, in: "query", required: false, description, schema: schemas.convert(schema) });
    }
    if (route.idempotent && !route.public) parameters.push({ $ref: "#/components/parameters/IdempotencyKey" });

    if (!tags.includes(route.tag)) tags.push(route.tag);
    const operation: OpenApiOperation = {
      operationId: uniqueId(operationId(route), operationIds),
      summary: route.summary,
      tags: [route.tag],
      security: route.public ? [] : GUARDED.map((scheme) => ({ ...scheme })),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.input || route.body || route.bodyContentType ? { requestBody: requestBody(route, schemas) } : {}),
      responses: responses(route, schemas),
    };
    item[method] = operation;
  }

  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
      ...(info.license ? { license: { ...info.license } } : {}),
    },
    servers: [info.serverUrl ? { url: info.serverUrl } : { ...RELATIVE_SERVER }],
    tags: tags.map((name) => {
      const description = info.tagDescriptions?.[name];
      return description ? { name, description } : { name };
    }),
    paths,
    components: { schemas: schemas.components, parameters: { IdempotencyKey: IDEMPOTENCY_KEY }, securitySchemes: SECURITY_SCHEMES },
  };
}

/** `/a/:id` and `/a/:thread_id`, the same path to OpenAPI: the key under which both are documented. */
const shapeOf = (path: string) => path.replace(/:\w+/g, ":");

/**
 * The OpenAPI path of each shape. Paths that differ only in their parameters' names must be one
 * path item, so where routes disagree the shortest (most general) spelling names the parameter.
 */
function pathTemplates(routes: readonly RouteDefinition[]): Map<string, string> {
  const spellings = new Map<string, string[]>();
  for (const route of routes) {
    const names = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1]!);
    const known = spellings.get(shapeOf(route.path));
    spellings.set(shapeOf(route.path), known ? known.map((name, i) => (names[i]!.length < name.length ? names[i]! : name)) : names);
  }
  return new Map([...spellings].map(([shape, names]) => [shape, shape.replace(/:/g, () => `{${names.shift()}}`)]));
}

function requestBody(route: RouteDefinition, schemas: SchemaRegistry): NonNullable<OpenApiOperation["requestBody"]> {
  const body = route.input?.schema ?? route.body;
  const schema = body ? schemas.convert(body) : undefined;
  // An empty body reads as `{}`, so a body is only required when `{}` would be refused.
  const required = body?.type !== "object" || (Array.isArray(body.required) && body.required.length > 0);
  return { required, content: { [route.bodyContentType ?? JSON_TYPE]: schema === undefined ? {} : { schema } } };
}

function responses(route: RouteDefinition, schemas: SchemaRegistry): OpenApiOperation["responses"] {
  const documented: OpenApiOperation["responses"] = {};
  for (const [status, response] of Object.entries(route.responses) as [string, RouteResponse][]) {
    // A public route never asks for a key, so it cannot answer 401.
    if (route.public && status === "401") continue;
    const schema = response.schema ?? (Number(status) >= 400 && !response.contentType ? ErrorBody : undefined);
    const content = response.contentType ?? (schema ? JSON_TYPE : undefined);
    documented[status] = {
      description: response.description,
      ...(content ? { content: { [content]: schema ? { schema: schemas.convert(schema) } : {} } } : {}),
    };
  }
  return documented;
}

/** `POST /v1/forms/:id/sessions` → `postV1FormsByIdSessions`: stable as long as the route is. */
function operationId(route: RouteDefinition): string {
  const words = route.path
    .split("/")
    .filter(Boolean)
    .flatMap((segment) => (segment.startsWith(":") ? ["by", ...segment.slice(1).split(/[^A-Za-z0-9]+/)] : segment.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return [route.method.toLowerCase(), ...words.map((word) => word[0]!.toUpperCase() + word.slice(1))].join("");
}

function uniqueId(id: string, taken: Set<string>): string {
  let unique = id;
  for (let n = 2; taken.has(unique); n++) unique = `${id}${n}`;
  taken.add(unique);
  return unique;
}

/** Keywords only the server's validator reads (ajv-errors' messages), not part of the contract. */
const SERVER_ONLY = new Set(["errorMessage"]);

/**
 * Turns TypeBox schemas into plain JSON Schema, moving every schema with an `$id` (at any depth)
 * into `components/schemas` and pointing at it with a `$ref`, so no `$id` stays inline: inline ones
 * would set a new base URI for the `$ref`s inside them and clash when two operations repeat one.
 */
class SchemaRegistry {
  readonly components: Record<string, JsonSchema> = {};
  readonly #sources = new Map<string, string>();

  convert(schema: TSchema): JsonSchema {
    // The round trip drops TypeBox's symbol keys (Kind, Optional) and undefined values.
    return this.#walk(JSON.parse(JSON.stringify(schema)) as JsonSchema);
  }

  #walk(schema: JsonSchema): JsonSchema {
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema;
    const converted = mapSubschemas(schema, (subschema) => this.#walk(subschema as JsonSchema));
    delete converted.$id;
    for (const keyword of SERVER_ONLY) delete converted[keyword];
    if (typeof converted.$ref === "string" && !converted.$ref.startsWith("#")) converted.$ref = componentRef(converted.$ref);
    const tidied = tidy(converted);
    return typeof schema.$id === "string" ? this.#register(schema.$id, tidied) : tidied;
  }

  #register(id: string, schema: JsonSchema): JsonSchema {
    const ref = componentRef(id);
    const name = ref.slice("#/components/schemas/".length);
    const source = JSON.stringify(schema);
    const known = this.#sources.get(name);
    if (known !== undefined && known !== source) {
      throw new TypeError(`OpenAPI: two different schemas have the $id ${JSON.stringify(id)}`);
    }
    this.#sources.set(name, source);
    this.components[name] = schema;
    return { $ref: ref };
  }
}

/** TypeBox's pattern for a `Type.Record` keyed by any string. */
const ANY_KEY = "^(.*)$";

/**
 * Rewrites two TypeBox spellings into their equivalent that code generators understand: a record
 * keyed by any string becomes `additionalProperties`, a union of literals of one type an `enum`.
 */
function tidy(schema: Record<string, unknown>): Record<string, unknown> {
  let tidied = schema;
  const pattern = tidied.patternProperties;
  if (isObject(pattern) && Object.keys(pattern).length === 1 && ANY_KEY in pattern && !("additionalProperties" in tidied)) {
    tidied = { ...without(tidied, "patternProperties"), additionalProperties: pattern[ANY_KEY] };
  }
  const members = tidied.anyOf;
  if (Array.isArray(members) && members.length > 0 && members.every(isLiteral) && !("type" in tidied)) {
    const types = new Set(members.map((member) => member.type));
    if (types.size === 1) tidied = { ...without(tidied, "anyOf"), type: [...types][0], enum: members.map((member) => member.const) };
  }
  return tidied;
}

const isLiteral = (item: unknown): item is { const: unknown; type: unknown } => isObject(item) && Object.keys(item).sort().join() === "const,type";

function without(schema: Record<string, unknown>, keyword: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== keyword));
}

/** A TypeBox `$id` (or a `$ref` to one) as a reference into `components/schemas`, whose keys allow only `[A-Za-z0-9._-]`. */
function componentRef(id: string): string {
  return `#/components/schemas/${id.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
