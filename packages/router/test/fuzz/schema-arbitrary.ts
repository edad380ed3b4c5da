// Valid values for a JSON Schema of the OpenAPI document, as fast-check arbitraries. A property
// may be given a hint by name (an `agent_id` is a real agent's id, a `url` a public-looking
// target) where the schema alone would almost never produce something the engine accepts.
import type { OpenApiDocument } from "@agent-sessions/router";
import fc from "fast-check";
import { deref, type Schema } from "./document.js";
import type { Recipe } from "./recipes.js";

/** Arbitraries that replace the schema's own for a property of this name, anywhere in a body. */
export type Hints = Readonly<Record<string, fc.Arbitrary<Recipe>>>;

const MAX_DEPTH = 5;

/** Small free-form JSON: what metadata, previews and step inputs usually carry. */
export const freeJson: fc.Arbitrary<Recipe> = fc.jsonValue({ maxDepth: 2, depthSize: "small" }).map((value) => value as Recipe);

const plainKey = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);

/** An arbitrary of the values `schema` accepts (with the hints for named properties). */
export function valueFor(document: OpenApiDocument, schema: unknown, hints: Hints, depth = 0): fc.Arbitrary<Recipe> {
  const node = deref(document, schema ?? {});
  if (depth > MAX_DEPTH) return freeJson;
  if ("const" in node) return fc.constant(node.const as Recipe);
  if (Array.isArray(node.enum)) return fc.constantFrom(...(node.enum as Recipe[]));
  const alternatives = (node.anyOf ?? node.oneOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((item) => valueFor(document, item, hints, depth + 1)));
  const type = Array.isArray(node.type) ? (node.type as string[]) : typeof node.type === "string" ? [node.type] : [];
  if (type.length > 1) return fc.oneof(...type.map((one) => valueFor(document, { ...node, type: one }, hints, depth)));
  switch (type[0]) {
    case "string":
      return stringFor(node);
    case "integer":
      return withEdges(fc.integer({ min: num(node.minimum, -1000), max: num(node.maximum, 1_000_000) }), [node.minimum, node.maximum]);
    case "number":
      return fc.oneof(
        fc.integer({ min: num(node.minimum, -1000), max: num(node.maximum, 1_000_000) }),
        fc.double({ min: num(node.minimum, -1000), max: num(node.maximum, 1e6), noNaN: true }),
      );
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return arrayFor(document, node, hints, depth);
    case "object":
      return objectFor(document, node, hints, depth);
    default:
      // No type: any JSON value (`Type.Unknown()`, free-form step input and output).
      return freeJson;
  }
}

function num(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}

/** Longest string or list generated at its documented maximum: past this the request is mostly bytes. */
const EDGE_LIMIT = 70_000;

/** Mostly `arbitrary`, sometimes one of the documented bounds exactly. */
function withEdges(arbitrary: fc.Arbitrary<Recipe>, bounds: readonly unknown[]): fc.Arbitrary<Recipe> {
  const edges = bounds.filter((bound): bound is number => typeof bound === "number");
  return edges.length === 0 ? arbitrary : fc.oneof({ weight: 6, arbitrary }, { weight: 1, arbitrary: fc.constantFrom(...edges) });
}

function stringFor(node: Schema): fc.Arbitrary<Recipe> {
  const min = num(node.minLength, 0);
  const max = Math.min(num(node.maxLength, 40), 40);
  if (typeof node.pattern === "string") {
    return fc.stringMatching(new RegExp(node.pattern), { maxLength: max }).filter((text) => text.length >= min);
  }
  const longest = num(node.maxLength, 0);
  return fc.oneof(
    { weight: 8, arbitrary: fc.string({ minLength: min, maxLength: Math.max(min, max), unit: "grapheme-ascii" }) },
    { weight: 2, arbitrary: fc.string({ minLength: min, maxLength: Math.max(min, max), unit: "grapheme" }) },
    // Exactly as long as allowed, in one-byte and in four-byte characters (two UTF-16 units each).
    ...(longest > 0 && longest <= EDGE_LIMIT
      ? [{ weight: 1, arbitrary: fc.constantFrom<Recipe>("x".repeat(longest), "😀".repeat(Math.floor(longest / 2))) }]
      : []),
  );
}

function arrayFor(document: OpenApiDocument, node: Schema, hints: Hints, depth: number): fc.Arbitrary<Recipe> {
  const item = valueFor(document, node.items ?? {}, hints, depth + 1);
  const minLength = num(node.minItems, 0);
  const maxLength = Math.max(minLength, Math.min(num(node.maxItems, 3), 3));
  const most = num(node.maxItems, 0);
  const lengths =
    most > maxLength && most <= 200
      ? [
          { minLength, maxLength },
          { minLength: most, maxLength: most },
        ]
      : [{ minLength, maxLength }];
  const arrays = lengths.map((size) =>
    node.uniqueItems === true ? fc.uniqueArray(item, { ...size, selector: (value) => JSON.stringify(value) }) : fc.array(item, size),
  );
  // As many items as allowed, now and then.
  return arrays.length === 1 ? arrays[0]! : fc.oneof({ weight: 12, arbitrary: arrays[0]! }, { weight: 1, arbitrary: arrays[1]! });
}

function objectFor(document: OpenApiDocument, node: Schema, hints: Hints, depth: number): fc.Arbitrary<Recipe> {
  const properties = (node.properties ?? {}) as Record<string, unknown>;
  const model: Record<string, fc.Arbitrary<Recipe>> = {};
  for (const [name, property] of Object.entries(properties)) model[name] = hints[name] ?? valueFor(document, property, hints, depth + 1);
  const required = Array.isArray(node.required) ? (node.required as string[]) : [];
  const declared = fc.record(model, { requiredKeys: required.filter((name) => name in model), noNullPrototype: true });

  const extras: fc.Arbitrary<Record<string, Recipe>>[] = [];
  const additional = node.additionalProperties;
  if (additional !== undefined && additional !== false) {
    const value = additional === true ? freeJson : valueFor(document, additional, hints, depth + 1);
    extras.push(fc.dictionary(plainKey, value, { maxKeys: 3, noNullPrototype: true }));
  }
  for (const [pattern, schema] of Object.entries((node.patternProperties ?? {}) as Record<string, unknown>)) {
    const key = fc.stringMatching(new RegExp(pattern), { maxLength: 20 });
    extras.push(fc.dictionary(key, valueFor(document, schema, hints, depth + 1), { maxKeys: 3, noNullPrototype: true }));
  }
  if (extras.length === 0) return declared as fc.Arbitrary<Recipe>;
  return fc.tuple(declared, ...extras).map(([fixed, ...more]) => Object.assign({}, ...more, fixed) as Recipe);
}
