import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter, type OpenApiDocument } from "@agent-sessions/router";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const REDOCLY = resolve(import.meta.dirname, "../../../node_modules/.bin/redocly");
/** Redocly asks nobody anything: no usage telemetry, no update check. */
const QUIET = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", REDOCLY_SUPPRESS_NOTIFICATIONS: "true" };

let dir: string;
let document: OpenApiDocument;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "openapi-tools-"));
  const router = createRouter({ engine: createEngine({ store: new MemoryStore() }), apiKeys: [{ orgId: "org_a", key: "k" }] });
  const response = await router.fetch(new Request("http://localhost/openapi.json"));
  expect(response.status).toBe(200);
  document = (await response.json()) as OpenApiDocument;
  await writeFile(join(dir, "openapi.json"), JSON.stringify(document, null, 2));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every operation of the document, as `[path, method, its path parameters' names]`. */
function operations(): [path: string, method: string, pathParams: string[]][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => [path, method, [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!)] as [string, string, string[]]),
  );
}

describe("GET /openapi.json and the tools that read it", () => {
  it("passes Redocly's recommended rules with no error and no warning", { timeout: 120_000 }, async () => {
    const { stdout, stderr } = await run(REDOCLY, ["lint", "--extends", "recommended", "openapi.json"], {
      cwd: dir,
      env: QUIET,
      timeout: 120_000,
    }).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`redocly lint exited with ${error.code}:\n${error.stdout}\n${error.stderr}`);
    });
    // Redocly prints a boxed notice that Node.js 20 is ending on that Node; it is not about the document.
    const output = `${stdout}\n${stderr}`
      .split("\n")
      .filter((line) => !/[║╔╚]/.test(line))
      .join("\n");
    expect(output).not.toMatch(/warning|error/i);
    expect(output).toContain("Your API description is valid");
  });

  it("gives openapi-typescript types that compile against a call of every operation", { timeout: 120_000 }, async () => {
    const types = astToString(await openapiTS(JSON.stringify(document)));
    await writeFile(join(dir, "schema.d.ts"), types);

    const ops = operations();
    expect(ops.length).toBeGreaterThan(30);
    const lines = [
      `import type { paths } from "./schema";`,
      "type Op<P extends keyof paths, M extends keyof paths[P]> = paths[P][M];",
      "type IsNever<T> = [T] extends [never] ? true : false;",
      "type PathOf<O> = O extends { parameters: { path: infer X } } ? X : never;",
      "type BodyOf<O> = O extends { requestBody?: { content: infer C } } ? C[keyof C] : never;",
      "type Ok<O> = O extends { responses: infer R } ? R[Extract<keyof R, 200 | 201 | 202>] : never;",
      "declare function call<O>(operation: O, path: PathOf<O>, body: BodyOf<O>): Ok<O>;",
      "const no: false = false;",
    ];
    ops.forEach(([path, method, pathParams], i) => {
      const op = `Op<${JSON.stringify(path)}, ${JSON.stringify(method)}>`;
      lines.push(`declare const op${i}: ${op};`);
      lines.push(`const notNever${i}: IsNever<${op}> = no;`);
      lines.push(`const ok${i}: IsNever<Ok<${op}>> = no;`);
      const params = pathParams.length > 0 ? `{ ${pathParams.map((name) => `${name}: "x"`).join(", ")} }` : "undefined as never";
      // A body type exactly where the document has a body; the call checks the path parameters' names.
      const hasBody = "requestBody" in document.paths[path]![method]!;
      lines.push(`const body${i}: IsNever<BodyOf<${op}>> = ${hasBody ? "no" : "true"};`);
      lines.push(`const response${i} = call(op${i}, ${params}, ${hasBody ? `{} as BodyOf<${op}>` : "undefined as never"});`);
      lines.push(`void [notNever${i}, ok${i}, body${i}, response${i}];`);
    });
    lines.push(
      `const form: BodyOf<Op<"/v1/forms", "post">> = { name: "Contact", fields: [{ name: "email", type: "email", required: true }] };`,
      `const formSession: BodyOf<Op<"/v1/forms/{id}/sessions", "post">> = {};`,
      `const agent: BodyOf<Op<"/v1/agents", "post">> = { name: "Helper" };`,
      `const agentSession: BodyOf<Op<"/v1/sessions", "post">> = { agent_id: "agent_1" };`,
      `const workflow: BodyOf<Op<"/api/v1/sessions", "post">> = { name: "Sign-up" };`,
      `const webhook: BodyOf<Op<"/v1/webhooks", "post">> = { url: "https://example.com/hook" };`,
      `// @ts-expect-error: a form needs its fields`,
      `const noFields: BodyOf<Op<"/v1/forms", "post">> = { name: "Contact" };`,
      `const created: Ok<Op<"/v1/forms", "post">> = {} as Ok<Op<"/v1/forms", "post">>;`,
      "void [form, formSession, agent, agentSession, workflow, webhook, noFields, created];",
    );
    const file = join(dir, "calls.ts");
    await writeFile(file, `${lines.join("\n")}\n`);

    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      noUnusedLocals: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: false,
      types: [],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : null;
      const line = where ? diagnostic.file!.text.split("\n")[where.line] : "";
      return `${diagnostic.file?.fileName ?? ""}:${where ? where.line + 1 : ""} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}\n  ${line}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
