import { createEngine, threadKind } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { buildOpenApiDocument, createRouter, type OpenApiDocument, type OpenApiOperation, type RouteDefinition } from "@agent-sessions/router";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";

const router = createRouter({ engine: createEngine({ store: new MemoryStore() }), apiKeys: [{ orgId: "org_a", key: "k" }] });

async function servedDocument(): Promise<OpenApiDocument> {
  const response = await router.fetch(new Request("http://localhost/openapi.json"));
  expect(response.status).toBe(200);
  return (await response.json()) as OpenApiDocument;
}

async function expectValid(document: unknown): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(document as Record<string, unknown>);
  if (!result.valid) console.error(JSON.stringify(result.errors, null, 2));
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
}

function operations(document: OpenApiDocument): [path: string, method: string, operation: OpenApiOperation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => [path, method, op] as [string, string, OpenApiOperation]),
  );
}

/** `/a/:id/b` and `/a/{thread_id}/b` alike become `/a/{}/b`. */
const shape = (path: string) => path.replace(/:\w+|\{\w+\}/g, "{}");

/** Follows a local `$ref` (`#/components/...`) through the document. */
function resolve(document: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<unknown>((node, part) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), document);
}

/** Every value of `keyword` anywhere in the document. */
function collect(node: unknown, keyword: string, found: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const item of node) collect(item, keyword, found);
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === keyword) found.push(value);
      collect(value, keyword, found);
    }
  }
  return found;
}

const parameterNames = (document: OpenApiDocument, operation: OpenApiOperation, where: string) =>
  (operation.parameters ?? [])
    .map((parameter) => ("$ref" in parameter ? (resolve(document, parameter.$ref) as { name: string; in: string }) : parameter))
    .filter((parameter) => parameter.in === where)
    .map((parameter) => parameter.name);

describe("GET /openapi.json", () => {
  it("answers 200 without an API key, as JSON, the same document on every request", async () => {
    const first = await router.fetch(new Request("http://localhost/openapi.json"));
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^application\/json/);
    const second = await router.fetch(new Request("http://localhost/openapi.json", { headers: { authorization: "Bearer wrong" } }));
    expect(second.status).toBe(200);
    expect(await second.text()).toBe(await first.text());
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const document = await servedDocument();
    expect(document.openapi).toBe("3.1.0");
    expect(document.info).toEqual({ title: "agent-sessions", version: expect.any(String), license: { name: "MIT", identifier: "MIT" } });
    await expectValid(document);
  });

  it("documents every route the router serves, with its method, itself included", async () => {
    const document = await servedDocument();
    const documented = new Set(operations(document).map(([path, method]) => `${method.toUpperCase()} ${shape(path)}`));
    expect(router.routes.length).toBeGreaterThan(25);
    for (const route of router.routes) expect(documented).toContain(`${route.method} ${shape(route.path)}`);
    expect(operations(document)).toHaveLength(router.routes.length);
    expect(document.paths["/openapi.json"]?.get?.security).toEqual([]);
  });

  it("declares every {param} of a path as a required string path parameter, and no other", async () => {
    const document = await servedDocument();
    for (const [path, , operation] of operations(document)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect(parameterNames(document, operation, "path"), `${operation.operationId}`).toEqual(inPath);
      for (const parameter of operation.parameters ?? []) {
        if (!("$ref" in parameter) && parameter.in === "path") expect(parameter).toMatchObject({ required: true, schema: { type: "string" } });
      }
    }
  });

  it("documents paths that differ only in a parameter's name as one path item", async () => {
    const document = await servedDocument();
    const shapes = Object.keys(document.paths).map(shape);
    expect(new Set(shapes).size).toBe(shapes.length);
    // PATCH /api/v1/sessions/:thread_id and GET /api/v1/sessions/:id
    expect(Object.keys(document.paths["/api/v1/sessions/{id}"] ?? {}).sort()).toEqual(["get", "patch"]);
  });

  it("resolves every $ref into components, keeps no $id inline and keeps no TypeBox-only keyword", async () => {
    const document = await servedDocument();
    const refs = collect(document, "$ref") as string[];
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\//);
      expect(resolve(document, ref), ref).toBeDefined();
    }
    expect(collect(document, "$id")).toEqual([]);
    expect(collect(document, "errorMessage")).toEqual([]);
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining([
        "Error",
        "Form",
        "FormSession",
        "Session",
        "Thread",
        "PendingAction",
        "Agent",
        "AgentSession",
        "Inbox",
        "Message",
        "Wait",
      ]),
    );
    // Every component is used: none is there only because it was hoisted by mistake.
    for (const name of Object.keys(document.components.schemas)) expect(refs).toContain(`#/components/schemas/${name}`);
  });

  it("answers every JSON error status with the Error schema", async () => {
    const document = await servedDocument();
    expect(document.components.schemas.Error).toMatchObject({ type: "object", required: ["error", "message"] });
    let checked = 0;
    for (const [, , operation] of operations(document)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        // Only the hosted page answers errors as HTML pages; everything else speaks JSON.
        if (response.content?.["text/html"]) continue;
        expect(response.content?.["application/json"]?.schema, `${operation.operationId} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("declares Idempotency-Key on exactly the idempotent creates", async () => {
    const document = await servedDocument();
    const idempotent = router.routes.filter((route) => route.idempotent && !route.public);
    expect(idempotent.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining(["POST /v1/forms", "POST /api/v1/threads", "POST /api/v1/sessions"]),
    );
    for (const [path, method, operation] of operations(document)) {
      const route = router.routes.find((r) => r.method === method.toUpperCase() && shape(r.path) === shape(path))!;
      const headers = parameterNames(document, operation, "header");
      expect(headers, operation.operationId).toEqual(idempotent.includes(route) ? ["Idempotency-Key"] : []);
    }
  });

  it("asks for bearerAuth or apiKeyHeader on every guarded route and for nothing on public ones", async () => {
    const document = await servedDocument();
    expect(document.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: "http", scheme: "bearer" }),
      apiKeyHeader: expect.objectContaining({ type: "apiKey", in: "header", name: "X-API-Key" }),
    });
    for (const [path, method, operation] of operations(document)) {
      const route = router.routes.find((r) => r.method === method.toUpperCase() && shape(r.path) === shape(path))!;
      if (route.public) {
        expect(operation.security, operation.operationId).toEqual([]);
        expect(operation.responses["401"], operation.operationId).toBeUndefined();
      } else {
        expect(operation.security, operation.operationId).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
      }
    }
  });

  it("gives each operation a unique operationId derived from its method and path, and its tag", async () => {
    const document = await servedDocument();
    const ids = operations(document).map(([, , operation]) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(document.paths["/v1/forms/{id}/sessions"]?.post?.operationId).toBe("postV1FormsByIdSessions");
    expect(document.paths["/api/v1/sessions/{thread_id}/actions/{action_id}"]?.get?.operationId).toBe("getApiV1SessionsByThreadIdActionsByActionId");
    expect(document.paths["/v1/forms"]?.post?.tags).toEqual(["Forms"]);
    expect(document.tags.map((tag) => tag.name)).toEqual([...new Set(router.routes.map((route) => route.tag))]);
  });

  it("documents the review page: public GET and form-encoded POST of /r/{token} under the tag 'Review page', answered in HTML", async () => {
    const document = await servedDocument();
    const page = document.paths["/r/{token}"]!;
    for (const operation of [page.get!, page.post!]) {
      expect(operation.tags).toEqual(["Review page"]);
      expect(operation.security).toEqual([]);
      expect(operation.parameters).toEqual([{ name: "token", in: "path", required: true, schema: { type: "string" } }]);
      for (const response of Object.values(operation.responses)) expect(response.content).toEqual({ "text/html": {} });
    }
    expect(Object.keys(page.get!.responses)).toEqual(["200", "404", "410"]);
    expect(Object.keys(page.post!.responses)).toEqual(["200", "400", "404", "409", "410", "413", "415"]);
    expect(page.post!.requestBody).toMatchObject({
      content: {
        "application/x-www-form-urlencoded": {
          schema: { type: "object", required: ["decision"], properties: { decision: { type: "string", enum: ["approve", "deny"] } } },
        },
      },
    });
  });

  it("describes request bodies, query parameters and responses from the TypeBox schemas", async () => {
    const document = await servedDocument();
    const create = document.paths["/v1/forms"]!.post!;
    expect(create.requestBody).toMatchObject({
      required: true,
      content: { "application/json": { schema: { type: "object", additionalProperties: false, required: ["name", "fields"] } } },
    });
    expect(create.responses["201"]?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/Form" });
    const list = document.paths["/api/v1/sessions"]!.get!;
    expect(list.parameters).toContainEqual(
      expect.objectContaining({ name: "status", in: "query", required: false, schema: { type: "string", enum: ["active", "completed", "failed"] } }),
    );
    expect(list.responses["200"]?.content?.["application/json"]?.schema).toMatchObject({
      properties: { data: { items: { $ref: "#/components/schemas/Session" } } },
    });
    // A Type.Record keyed by any string reads as additionalProperties, which generators understand.
    expect(document.components.schemas.Form).toMatchObject({ properties: { metadata: { type: "object", additionalProperties: {} } } });
  });
});

describe("human decisions on actions (issue 18)", () => {
  type Schema = { properties: Record<string, Record<string, unknown>>; required?: string[] };
  const bodyOf = (operation: OpenApiOperation | undefined) => operation?.requestBody?.content["application/json"]?.schema as Schema;

  it("documents propose's args, args_schema, approvers, approvals_required, on_expire and remind_before, and its 201 review links", async () => {
    const document = await servedDocument();
    const propose = document.paths["/api/v1/sessions/{thread_id}/actions"]?.post;
    const body = bodyOf(propose);
    expect(body.required).toEqual(["tool", "preview"]);
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(["args", "args_schema", "approvers", "approvals_required", "on_expire", "remind_before", "expires_in"]),
    );
    expect(body.properties.args_schema).toMatchObject({ type: "object" });
    expect(body.properties.approvers).toMatchObject({ type: "array", items: { type: "string" }, maxItems: threadKind.limits.approvers });
    expect(body.properties.approvals_required).toMatchObject({ type: "integer", minimum: 1 });
    expect(body.properties.on_expire).toEqual({ type: "string", enum: ["cancel", "deny"] });
    expect(body.properties.remind_before).toMatchObject({ type: "array", items: { type: "integer", minimum: 1 } });

    expect(propose?.responses["201"]?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/ProposedAction" });
    const proposed = resolve(document, "#/components/schemas/ProposedAction") as Schema;
    expect(proposed.required).toContain("review_url");
    expect(proposed.required).not.toContain("review_urls");
    expect(proposed.properties.review_url).toMatchObject({ type: "string" });
    expect(proposed.properties.review_urls).toMatchObject({ type: "object", additionalProperties: { type: "string" } });
  });

  it("documents the decision's args and reason, and the action's audit fields", async () => {
    const document = await servedDocument();
    const decide = document.paths["/api/v1/sessions/{thread_id}/actions/{action_id}"]?.post;
    const body = bodyOf(decide);
    expect(body.required).toEqual(["confirmed"]);
    expect(Object.keys(body.properties).sort()).toEqual(["args", "confirmed", "reason"]);
    expect(body.properties.reason).toMatchObject({ type: "string", maxLength: threadKind.limits.reasonChars });
    expect(Object.keys(decide?.responses ?? {})).toEqual(expect.arrayContaining(["200", "202", "400", "404", "409", "410"]));

    const get = document.paths["/api/v1/sessions/{thread_id}/actions/{action_id}"]?.get;
    expect(get?.responses["200"]?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/PendingAction" });
    const action = resolve(document, "#/components/schemas/PendingAction") as Schema;
    const audit = ["args", "original_args", "args_changed", "args_schema", "reason", "decided_at", "decided_by", "decided_via", "on_expire"];
    expect(action.required).toEqual(expect.arrayContaining([...audit, "approvers", "approvals_required", "approvals", "remind_before"]));
    expect(action.properties.decided_by).toEqual({
      anyOf: [{ type: "string", description: expect.stringContaining("<org>/<key label>") }, { type: "null" }],
    });
    expect(action.properties.decided_via).toEqual({ anyOf: [{ type: "string", enum: ["api", "link", "expiry"] }, { type: "null" }] });
    expect(action.properties.approvals).toMatchObject({
      type: "array",
      items: { type: "object", required: ["approver", "approved_at"] },
    });
  });
});

describe("the limits the document publishes", () => {
  it("states a thread's context-variable limits as its kind's descriptor sets them", async () => {
    const document = await servedDocument();
    const { contextVariables, contextVariablesBytes } = threadKind.limits;
    // A thread never holds more variables than the limit: its schema says so in JSON Schema's own words.
    expect(resolve(document, "#/components/schemas/Thread/properties/context_variables")).toMatchObject({
      type: "object",
      maxProperties: contextVariables,
      description: expect.stringContaining(`at most ${contextVariables} variables and ${contextVariablesBytes} bytes of JSON`),
    });
    // A patch may name more keys than that (null removes one): its bodies state the limit after the update.
    const bodies = [document.paths["/api/v1/threads"]?.post, document.paths["/api/v1/sessions/{id}"]?.patch].map(
      (operation) => operation?.requestBody?.content["application/json"]?.schema as { properties: Record<string, { description?: string }> },
    );
    for (const body of bodies) {
      expect(body.properties.context_variables?.description).toContain(
        `at most ${contextVariables} variables and ${contextVariablesBytes} bytes of JSON, after the update`,
      );
    }
  });
});

describe("buildOpenApiDocument", () => {
  const Leaf = Type.Object({ name: Type.String() }, { $id: "Leaf" });
  const Tree = Type.Object({ leaves: Type.Array(Leaf), favourite: Type.Ref(Leaf) }, { $id: "Tree" });
  const route = (overrides: Partial<RouteDefinition>): RouteDefinition => ({
    method: "GET",
    path: "/trees/:tree_id",
    summary: "A tree",
    tag: "Trees",
    responses: { 200: { description: "The tree", schema: Tree } },
    failure: "Failed",
    handle: async () => new Response(),
    ...overrides,
  });

  it("hoists nested $ids and resolves TypeBox Type.Ref to components", async () => {
    const document = buildOpenApiDocument([route({}), route({ method: "POST", path: "/trees", body: Type.Object({ seed: Leaf }) })], {
      title: "t",
      version: "1",
    });
    expect(document.components.schemas.Tree).toEqual({
      type: "object",
      required: ["leaves", "favourite"],
      properties: { leaves: { type: "array", items: { $ref: "#/components/schemas/Leaf" } }, favourite: { $ref: "#/components/schemas/Leaf" } },
    });
    expect(document.components.schemas.Leaf).toEqual({ type: "object", required: ["name"], properties: { name: { type: "string" } } });
    expect(document.paths["/trees"]?.post?.requestBody?.content["application/json"]?.schema).toMatchObject({
      properties: { seed: { $ref: "#/components/schemas/Leaf" } },
    });
    expect(collect(document, "$id")).toEqual([]);
    await expectValid(document);
  });

  it("refuses two different schemas with one $id rather than documenting one of them", () => {
    const Other = Type.Object({ size: Type.Integer() }, { $id: "Leaf" });
    expect(() =>
      buildOpenApiDocument([route({}), route({ path: "/other", responses: { 200: { description: "x", schema: Other } } })], {
        title: "t",
        version: "1",
      }),
    ).toThrow(/\$id "Leaf"/);
  });

  it("uses bodyContentType and response content types, and the server URL given", async () => {
    const form = route({
      method: "POST",
      path: "/f/:id",
      public: true,
      idempotent: true,
      body: Type.Object({ name: Type.Optional(Type.String()) }),
      bodyContentType: "application/x-www-form-urlencoded",
      responses: { 200: { description: "The page", contentType: "text/html" }, 404: { description: "Unknown" }, 401: { description: "never" } },
    });
    const document = buildOpenApiDocument([form], { title: "t", version: "1", serverUrl: "https://forms.example.com" });
    const operation = document.paths["/f/{id}"]!.post!;
    expect(operation.requestBody).toEqual({
      required: false,
      content: { "application/x-www-form-urlencoded": { schema: expect.objectContaining({ type: "object" }) } },
    });
    expect(operation.responses).toEqual({
      200: { description: "The page", content: { "text/html": {} } },
      404: { description: "Unknown", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
    });
    expect(operation.security).toEqual([]);
    expect(operation.parameters).toEqual([{ name: "id", in: "path", required: true, schema: { type: "string" } }]);
    expect(document.servers).toEqual([{ url: "https://forms.example.com" }]);
    await expectValid(document);
  });

  it("serves the publicUrl as the document's server", async () => {
    const hosted = createRouter({
      engine: createEngine({ store: new MemoryStore() }),
      apiKeys: [{ orgId: "org_a", key: "k" }],
      publicUrl: "https://api.example.com/",
    });
    const document = (await (await hosted.fetch(new Request("http://localhost/openapi.json"))).json()) as OpenApiDocument;
    expect(document.servers).toEqual([{ url: "https://api.example.com" }]);
  });

  it("names a server relative to the document without a publicUrl, and describes every tag", async () => {
    const document = await servedDocument();
    expect(document.servers).toEqual([{ url: ".", description: expect.any(String) }]);
    const used = new Set(operations(document).flatMap(([, , operation]) => operation.tags));
    expect(document.tags.map((tag) => tag.name).sort()).toEqual([...used].sort());
    for (const tag of document.tags) expect(tag.description, tag.name).toMatch(/\w/);
    expect(Object.keys(document.paths["/openapi.json"]!.get!.responses)).toContain("429");
  });
});
