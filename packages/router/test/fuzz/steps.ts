// The steps of a fuzz run: calls of the document's operations, mostly valid, often hostile, and
// moves of the clock. Each operation's path, query and body come from its schemas in the document.
import type { OpenApiDocument } from "@agent-sessions/router";
import fc from "fast-check";
import type { Operation, Schema } from "./document.js";
import { bodyHints } from "./hints.js";
import { hostileJsonText, hostileKey, hostileQueryValues, hostileValue, INVALID_UTF8, type Skips, unknownQueryNames } from "./hostile.js";
import { type PathId, pathIdFor } from "./path-ids.js";
import { Cursor, Entries, FormValues, type Kind, Pair, Pick, type Recipe, Special } from "./recipes.js";
import { valueFor } from "./schema-arbitrary.js";

/** How a request presents its key. */
export type Auth = "bearer" | "x-api-key" | "none" | "wrong" | "malformed" | "both";

/** A body: JSON (a recipe, or hostile text), a form post, bytes that are not UTF-8 (by index in `INVALID_UTF8`), or `null` for none. */
export type BodyRecipe =
  | { readonly json: Recipe }
  | { readonly text: string | Recipe }
  | { readonly form: Recipe }
  | { readonly bytes: number }
  | null;

export type PathStyle = "trailingSlash" | "doubleSlash" | "upperCase" | "encodedSlash" | "dotSegments";

/** Rare changes to a request: another method, another media type, a streamed body, an `Accept`. */
export interface Twist {
  readonly method?: string;
  /** The path written another way: a trailing or doubled slash, capitals, an encoded slash, dot segments. */
  readonly pathStyle?: PathStyle;
  /** Another host than the fuzz's own: hosted URLs must never name it. */
  readonly host?: string;
  readonly contentType?: string | null;
  readonly stream?: boolean;
  readonly accept?: string;
}

export interface CallStep {
  readonly t: "call";
  readonly op: number;
  /** Which organization's key the request carries. */
  readonly actor: "a" | "b";
  readonly auth: Auth;
  readonly path: readonly PathId[];
  readonly query: ReadonlyArray<readonly [string, string | Special]>;
  readonly body: BodyRecipe;
  /** Whether the body is the schema's own (a valid request, as far as the schema tells). */
  readonly valid: boolean;
  readonly idempotencyKey: string | null;
  readonly twist: Twist | null;
}

/** Moves the clock and runs the worker once, so expiries and timeouts happen. */
export interface ClockStep {
  readonly t: "clock";
  readonly ms: number;
}

export type Step = CallStep | ClockStep;

/** The kinds of record a path parameter names, from the path around it. */
export function kindsOf(operation: Operation, param: string): Kind[] {
  const segments = operation.template.split("/");
  const at = segments.indexOf(`{${param}}`);
  const before = segments[at - 1];
  const after = segments[at + 1];
  if (param === "thread_id") return ["thread"];
  switch (before) {
    case "f":
      return ["formSession"];
    case "forms":
      return ["form"];
    case "inboxes":
      return ["inbox"];
    case "waits":
      return ["wait"];
    case "webhooks":
      return ["webhook"];
    case "agents":
      return ["agent"];
    case "actions":
      return ["action"];
  }
  if (operation.template.startsWith("/v1/sessions/")) {
    if (after === undefined) return operation.method === "GET" ? ["formSession", "agentSession"] : ["formSession"];
    return ["agentSession"];
  }
  if (after === undefined) return operation.method === "GET" ? ["workflow", "thread"] : ["thread"];
  if (after === "events" || after === "timeline") return ["workflow", "thread", "formSession", "agentSession"];
  return ["workflow"];
}

function pathFor(operation: Operation, skips: Skips): fc.Arbitrary<PathId[]> {
  if (operation.params.length === 2 && operation.template.includes("/actions/")) {
    // Mostly a thread and one of its own actions; otherwise each picked on its own.
    const together = fc
      .tuple(fc.nat({ max: 1000 }), fc.constantFrom<"own" | "other">("own", "own", "own", "other"))
      .map(([n, org]) => [new Pair("action", n, "parent", org), new Pair("action", n, "child", org)]);
    const apart = fc.tuple(pathIdFor(["thread"], null, skips), pathIdFor(["action"], null, skips));
    return fc.oneof({ weight: 4, arbitrary: together }, { weight: 1, arbitrary: apart });
  }
  return fc.tuple(...operation.params.map((param) => pathIdFor(kindsOf(operation, param), null, skips)));
}

function queryValue(name: string, schema: Schema, skips: Skips): fc.Arbitrary<string | Special> {
  const n = fc.nat({ max: 1000 });
  const values = hostileQueryValues(skips);
  const hostile = (list: readonly string[]) => fc.constantFrom(...list);
  if (name === "cursor")
    return fc.oneof(
      { weight: 4, arbitrary: n.map((i) => new Cursor(i, "own")) },
      { weight: 1, arbitrary: n.map((i) => new Cursor(i, "other")) },
      { weight: 1, arbitrary: hostile(values.text) },
    );
  if (name === "since")
    return fc.oneof(
      { weight: 4, arbitrary: n.map((i) => new Pick(["event"], i, "own")) },
      { weight: 1, arbitrary: n.map((i) => new Pick(["event"], i, "other")) },
      { weight: 1, arbitrary: hostile(values.text) },
    );
  if (name === "timeout")
    return fc.oneof({ weight: 4, arbitrary: fc.constantFrom("0", "0.01", "1") }, { weight: 1, arbitrary: hostile(values.timeout) });
  if (Array.isArray(schema.enum))
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...(schema.enum as string[])) },
      { weight: 1, arbitrary: fc.constantFrom("", "bogus", "ACTIVE", "open", "%00", "active,completed") },
    );
  const low = typeof schema.minimum === "number" ? schema.minimum : 0;
  const high = typeof schema.maximum === "number" ? schema.maximum : 1000;
  return fc.oneof({ weight: 3, arbitrary: fc.integer({ min: low, max: high }).map(String) }, { weight: 2, arbitrary: hostile(values.number) });
}

function queryFor(operation: Operation, skips: Skips): fc.Arbitrary<Array<readonly [string, string | Special]>> {
  type Pairs = Array<readonly [string, string | Special]>;
  if (operation.query.length === 0) {
    return fc.oneof(
      { weight: 12, arbitrary: fc.constant<Pairs>([]) },
      { weight: 1, arbitrary: fc.constantFrom(...unknownQueryNames).map((name): Pairs => [[name, "1"]]) },
    );
  }
  const documented = operation.query.map(({ name, schema }) =>
    rarely(
      queryValue(name, schema, skips).map((value) => [name, value] as const),
      1,
    ),
  );
  const extra = rarely(
    fc.oneof(
      fc.constantFrom(...unknownQueryNames).map((name) => [name, "1"] as const),
      fc.constantFrom(...operation.query).chain(({ name, schema }) => queryValue(name, schema, skips).map((value) => [name, value] as const)),
    ),
    6,
  );
  return fc.tuple(fc.tuple(...documented), extra).map(([pairs, more]) => [...pairs.filter((pair) => pair !== null), ...(more ? [more] : [])]);
}

/** Where a mutation lands: the `at`th place of the value (modulo their number) and what happens there. */
interface Mutation {
  readonly at: number;
  readonly how: "replace" | "addKey" | "removeKey";
  readonly key: string;
  readonly value: Recipe;
}

type Place = { readonly path: ReadonlyArray<string | number>; readonly node: Recipe };

function places(root: Recipe): Place[] {
  const found: Place[] = [];
  const stack: Place[] = [{ path: [], node: root }];
  while (stack.length > 0) {
    const place = stack.pop()!;
    found.push(place);
    const { node, path } = place;
    if (node === null || typeof node !== "object" || node instanceof Special) continue;
    if (Array.isArray(node)) for (const [i, item] of node.entries()) stack.push({ path: [...path, i], node: item });
    else for (const key of Object.keys(node)) stack.push({ path: [...path, key], node: (node as Record<string, Recipe>)[key]! });
  }
  return found;
}

function replaceAt(root: Recipe, path: ReadonlyArray<string | number>, make: (node: Recipe) => Recipe): Recipe {
  if (path.length === 0) return make(root);
  const [head, ...rest] = path;
  if (Array.isArray(root)) return root.map((item, i) => (i === head ? replaceAt(item, rest, make) : item));
  const record = root as Record<string, Recipe>;
  return Object.fromEntries(Object.keys(record).map((key) => [key, key === head ? replaceAt(record[key]!, rest, make) : record[key]!]));
}

const isRecord = (node: Recipe): node is Record<string, Recipe> =>
  node !== null && typeof node === "object" && !Array.isArray(node) && !(node instanceof Special);

/** A valid body with one place made hostile, one key added (any key), or one removed. */
export function mutate(root: Recipe, mutation: Mutation): Recipe {
  const all = places(root);
  if (mutation.how === "replace") {
    const inner = all.length > 1 ? all.slice(1) : all;
    return replaceAt(root, inner[mutation.at % inner.length]!.path, () => mutation.value);
  }
  const objects = all.filter((place) => isRecord(place.node) && (mutation.how === "addKey" || Object.keys(place.node).length > 0));
  if (objects.length === 0) return mutation.value;
  const target = objects[mutation.at % objects.length]!;
  return replaceAt(root, target.path, (node) => {
    const record = node as Record<string, Recipe>;
    const keys = Object.keys(record);
    if (mutation.how === "addKey") return new Entries([...keys.map((key) => [key, record[key]!] as const), [mutation.key, mutation.value]]);
    const drop = keys[mutation.at % keys.length];
    return Object.fromEntries(keys.filter((key) => key !== drop).map((key) => [key, record[key]!]));
  });
}

/** Form posts that are not what a browser sends. */
function formTexts(skips: Skips): string[] {
  const texts = ["a=%ZZ", "=", "&&&", "submit-as=partial", "x=%ED%A0%80", `a=${"b".repeat(70_000)}`];
  if (!skips.has("nul")) texts.push("t=a%00b", "email=%00");
  return texts;
}

function bodyFor(document: OpenApiDocument, operation: Operation, skips: Skips): fc.Arbitrary<{ body: BodyRecipe; valid: boolean }> {
  if (!operation.body) {
    return fc.oneof(
      { weight: 15, arbitrary: fc.constant({ body: null, valid: true }) },
      { weight: 1, arbitrary: hostileJsonText(skips).map((text) => ({ body: { text }, valid: false })) },
    );
  }
  if (operation.body.contentType !== "application/json") {
    const n = fc.nat({ max: 1000 });
    const values = fc.constantFrom("valid", "valid", "valid", "missing", "extra", "wrong") as fc.Arbitrary<"valid">;
    return fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(values, n).map(([variant, i]) => ({ body: { form: new FormValues(variant, i) }, valid: variant === "valid" })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.array(fc.tuple(hostileKey(skips), hostileValue(skips)), { maxLength: 3 }), values, n)
          .map(([pairs, variant, i]) => ({ body: { form: new Entries([...pairs, ["", new FormValues(variant, i)]]) }, valid: false })),
      },
      { weight: 1, arbitrary: fc.constantFrom(...formTexts(skips)).map((text) => ({ body: { text }, valid: false })) },
      { weight: 1, arbitrary: fc.nat({ max: INVALID_UTF8.length - 1 }).map((bytes) => ({ body: { bytes }, valid: false })) },
    );
  }
  const valid = valueFor(document, operation.body.schema, bodyHints(skips));
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    at: fc.nat({ max: 1000 }),
    how: fc.constantFrom<Mutation["how"]>("replace", "replace", "replace", "addKey", "removeKey"),
    key: hostileKey(skips),
    value: hostileValue(skips),
  });
  return fc.oneof(
    { weight: 12, arbitrary: valid.map((json) => ({ body: { json }, valid: true })) },
    { weight: 8, arbitrary: fc.tuple(valid, mutation).map(([json, m]) => ({ body: { json: mutate(json, m) }, valid: false })) },
    { weight: 1, arbitrary: hostileJsonText(skips).map((text) => ({ body: { text }, valid: false })) },
    { weight: 1, arbitrary: fc.nat({ max: INVALID_UTF8.length - 1 }).map((bytes) => ({ body: { bytes }, valid: false })) },
  );
}

/** One rare change at a time, so a failure names the one that mattered. */
const TWIST: fc.Arbitrary<Twist> = fc.oneof(
  fc.record({ method: fc.constantFrom("PUT", "DELETE", "PATCH", "POST", "GET", "HEAD", "OPTIONS", "FOO", "patch", "Post", "delete") }),
  fc.record({ pathStyle: fc.constantFrom<PathStyle>("trailingSlash", "doubleSlash", "upperCase", "encodedSlash", "dotSegments") }),
  fc.record({
    contentType: fc.constantFrom<string | null>(
      null,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=utf-16",
      "application/xml",
    ),
  }),
  fc.constant({ stream: true }),
  fc.record({ host: fc.constantFrom("evil.example", "fuzz.test.evil.example", "FUZZ.TEST", "127.0.0.1:1") }),
  fc.record({ accept: fc.constantFrom("text/event-stream", "application/json", "*/*", "text/html") }),
);

/** `arbitrary` once in `1 + none` times, else `null`. */
function rarely<T>(arbitrary: fc.Arbitrary<T>, none: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 1, arbitrary }, { weight: none, arbitrary: fc.constant(null) });
}

/** A call of one operation. */
function callFor(document: OpenApiDocument, operation: Operation, index: number, skips: Skips): fc.Arbitrary<CallStep> {
  const actor = fc.oneof({ weight: 2, arbitrary: fc.constant<"a">("a") }, { weight: 1, arbitrary: fc.constant<"b">("b") });
  const auth = fc.oneof(
    { weight: 90, arbitrary: fc.constant<Auth>("bearer") },
    { weight: 6, arbitrary: fc.constant<Auth>("x-api-key") },
    { weight: 4, arbitrary: fc.constantFrom<Auth>("none", "wrong", "malformed", "both") },
  );
  const events = operation.template.endsWith("/events");
  return fc
    .record({
      actor,
      auth,
      path: pathFor(operation, skips),
      query: queryFor(operation, skips),
      body: bodyFor(document, operation, skips),
      idempotencyKey: operation.idempotent ? rarely(fc.constantFrom("k1", "k2", "k3", "k".repeat(256), "\u00e9t\u00e9"), 4) : fc.constant(null),
      twist: events ? rarely(fc.oneof(TWIST, fc.constant<Twist>({ accept: "text/event-stream" })), 2) : rarely(TWIST, 12),
    })
    .map(({ body, ...rest }) => ({ t: "call", op: index, ...rest, body: body.body, valid: body.valid }));
}

/** Every step of a run: calls weighted toward creating and changing records, and clock moves. */
export function stepArbitrary(document: OpenApiDocument, operations: readonly Operation[], skips: Skips): fc.Arbitrary<Step> {
  const calls = operations.map((operation, index) => {
    const weight = operation.template === "/openapi.json" ? 1 : operation.idempotent ? 12 : operation.method === "GET" ? 5 : 8;
    return { weight, arbitrary: callFor(document, operation, index, skips) as fc.Arbitrary<Step> };
  });
  const clock = fc.constantFrom(1000, 60_000, 3_600_000, 86_400_000, 8 * 86_400_000).map((ms): Step => ({ t: "clock", ms }));
  return fc.oneof(...calls, { weight: 10, arbitrary: clock });
}
