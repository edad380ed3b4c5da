import { format, type Schema, Validator } from "@cfworker/json-schema";
import { RE2JS } from "re2js";
import { InvalidInputError } from "./errors.js";

/**
 * JSON Schemas for a tool call's arguments (`args_schema`), checked by @cfworker/json-schema: a
 * maintained validator of drafts 4 to 2020-12 that generates no code, so it runs wherever the
 * engine does (Node, Bun, Deno, workers). The one thing in a schema that could make checking a
 * value slow is a `pattern`, which a backtracking engine can take exponential time over: every
 * pattern runs on RE2 (linear time) instead, and a pattern RE2 refuses refuses the schema.
 */

/** Characters of one `pattern` in an arguments schema. */
const MAX_PATTERN_CHARS = 500;

/** The name a pattern is checked under: a `format` no schema author can write by accident. */
const FORMAT_PREFIX = "\u0000re2:";

/** Where subschemas sit, by keyword: one schema, a list of them (`items` too, in drafts before 2020-12), or a map of names to them. */
const ONE = new Set([
  "additionalProperties",
  "additionalItems",
  "items",
  "contains",
  "not",
  "if",
  "then",
  "else",
  "propertyNames",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
]);
const LIST = new Set(["allOf", "anyOf", "oneOf", "prefixItems", "items"]);
const MAP = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

/**
 * A copy of a JSON Schema object with each of its subschemas replaced by `visit(subschema, at)`,
 * `at` naming where it sits (`.properties.to`, `.allOf[0]`); every other keyword is kept as it is.
 * How one walks a whole schema: `visit` calls the walk again.
 */
export function mapSubschemas(
  schema: Readonly<Record<string, unknown>>,
  visit: (subschema: unknown, at: string) => unknown,
): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (LIST.has(key) && Array.isArray(value)) copy[key] = value.map((item, index) => visit(item, `.${key}[${index}]`));
    else if (ONE.has(key)) copy[key] = visit(value, `.${key}`);
    else if (MAP.has(key) && typeof value === "object" && value !== null && !Array.isArray(value)) {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, item]) => [name, visit(item, `.${key}.${name}`)]));
    } else copy[key] = value;
  }
  return copy;
}

/** An arguments schema, checked once and ready to check values. */
export interface ArgsSchema {
  readonly schema: Readonly<Record<string, unknown>>;
  /** Checks `args`; throws an `InvalidInputError` naming the first path that fails (`args.to`). */
  check(args: unknown, field?: string): void;
}

/** A pattern compiled by RE2, or why not. */
function compile(pattern: string, at: string): RE2JS {
  if (pattern.length > MAX_PATTERN_CHARS) throw new InvalidInputError(`argsSchema${at}`, `a pattern has at most ${MAX_PATTERN_CHARS} characters`);
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(`argsSchema${at}`, `the pattern is not one the linear-time engine runs (${reason})`);
  }
}

/**
 * Copies `schema` with each `pattern: P` replaced by a `format` the validator looks up, so RE2
 * runs it, and collects those formats. `patternProperties` is refused: its keys select which
 * properties a subschema applies to, which only the validator's own RegExp can do.
 */
function rewrite(schema: unknown, at: string, formats: Map<string, (value: unknown) => boolean>): unknown {
  if (typeof schema !== "object" || schema === null) {
    if (typeof schema === "boolean") return schema;
    throw new InvalidInputError(`argsSchema${at}`, "must be a JSON Schema (an object or a boolean)");
  }
  if (Array.isArray(schema)) throw new InvalidInputError(`argsSchema${at}`, "must be a JSON Schema (an object or a boolean)");
  const source = schema as Record<string, unknown>;
  if (Object.hasOwn(source, "patternProperties")) {
    throw new InvalidInputError(`argsSchema${at}.patternProperties`, "is not supported in an arguments schema; name the properties instead");
  }
  if (typeof source.$ref === "string" && !source.$ref.startsWith("#")) {
    throw new InvalidInputError(`argsSchema${at}.$ref`, "may only point inside the schema (#/…)");
  }
  const copy = mapSubschemas(source, (subschema, path) => rewrite(subschema, `${at}${path}`, formats));
  delete copy.pattern;
  if (Object.hasOwn(source, "pattern")) {
    const pattern = source.pattern;
    if (typeof pattern !== "string") throw new InvalidInputError(`argsSchema${at}.pattern`, "must be a string");
    const compiled = compile(pattern, `${at}.pattern`);
    const name = `${FORMAT_PREFIX}${formats.size}`;
    formats.set(name, (value) => typeof value !== "string" || compiled.matcher(value).find());
    // The pattern's check joins the schema's own, which may have a `format` already.
    const check = { format: name };
    copy.allOf = Array.isArray(copy.allOf) ? [...copy.allOf, check] : [check];
  }
  return copy;
}

/** `#/to/0` as a field path under `field`: `args.to[0]`. */
function fieldPath(field: string, pointer: string): string {
  const parts = pointer.replace(/^#/, "").split("/").slice(1);
  let path = field;
  for (const raw of parts) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  }
  return path;
}

/**
 * Checks an arguments schema (draft 2020-12 unless it names another in `$schema`) and answers
 * what checks values against it; a schema the validator cannot use is an `InvalidInputError`
 * naming `argsSchema` and where in it.
 */
export function compileArgsSchema(schema: unknown): ArgsSchema {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    throw new InvalidInputError("argsSchema", "must be a JSON Schema object");
  }
  const formats = new Map<string, (value: unknown) => boolean>();
  const rewritten = rewrite(schema, "", formats) as Schema;
  const draft = draftOf((schema as Record<string, unknown>).$schema);
  let validator: Validator;
  try {
    validator = new Validator(rewritten, draft, true);
  } catch (error) {
    throw new InvalidInputError("argsSchema", `is not a usable JSON Schema (${error instanceof Error ? error.message : String(error)})`);
  }
  const table = format as Record<string, (value: unknown) => boolean>;
  return {
    schema: schema as Record<string, unknown>,
    check(args, field = "args") {
      // The checks of this schema's patterns join the validator's formats for this call alone:
      // validation is synchronous, so no other call sees them, and nothing is left behind.
      for (const [name, test] of formats) table[name] = test;
      let result: ReturnType<Validator["validate"]>;
      try {
        result = validator.validate(args);
      } catch (error) {
        throw new InvalidInputError("argsSchema", `could not be applied (${error instanceof Error ? error.message : String(error)})`);
      } finally {
        for (const name of formats.keys()) delete table[name];
      }
      if (result.valid) return;
      // The deepest error says the most: the validator lists the failing keyword's parents first.
      const errors = result.errors.filter((error) => error.keyword !== "properties" && error.keyword !== "allOf" && error.keyword !== "$ref");
      const first = errors.sort((a, b) => b.instanceLocation.length - a.instanceLocation.length)[0] ?? result.errors[0]!;
      const message = first.keyword === "format" && first.error.includes(FORMAT_PREFIX) ? "does not match the schema's pattern" : first.error;
      throw new InvalidInputError(fieldPath(field, first.instanceLocation), message.replace(/\.$/, ""));
    },
  };
}

function draftOf($schema: unknown): "4" | "7" | "2019-09" | "2020-12" {
  if (typeof $schema !== "string") return "2020-12";
  if ($schema.includes("draft-04")) return "4";
  if ($schema.includes("draft-07") || $schema.includes("draft-06")) return "7";
  if ($schema.includes("2019-09")) return "2019-09";
  return "2020-12";
}
