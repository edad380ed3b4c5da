import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { InvalidInputError } from "./errors.js";
import { isPlainRecord, leftOut, readJson } from "./json-boundary.js";
import type { RecordLimit } from "./store.js";

/** What judges a value against one schema: TypeBox's compiled check, or its interpreter. */
interface Checker {
  Check(value: unknown): boolean;
  Errors(value: unknown): Iterable<ValueError>;
}

const compiled = new WeakMap<TSchema, Checker>();
const encoder = new TextEncoder();
/** False once the runtime refused to generate code (Cloudflare Workers forbid `new Function`). */
let generatesCode = true;

function checkerFor(schema: TSchema): Checker {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = compile(schema);
    compiled.set(schema, checker);
  }
  return checker;
}

/** TypeBox's compiled checker, or its interpreter where code generation is forbidden: the same answers, slower. */
function compile(schema: TSchema): Checker {
  if (generatesCode) {
    try {
      return TypeCompiler.Compile(schema);
    } catch (error) {
      if (!(error instanceof EvalError)) throw error;
      generatesCode = false;
    }
  }
  return { Check: (value) => Value.Check(schema, value), Errors: (value) => Value.Errors(schema, value) };
}

/**
 * Checks `value` against `schema` and returns a JSON copy of it, typed, or throws an
 * `InvalidInputError` naming the first offending field by its dotted path (`prefill.email`),
 * relative to `root` when given. The value first crosses the free-form JSON boundary
 * (`readJson`: depth, key length, well-formed text, finite numbers), which also makes the copy;
 * the schema then judges the copy. The copy makes the value the engine's own (stores may freeze
 * what they keep) and plain JSON, as every store would keep it.
 */
export function parseInput<T extends TSchema>(schema: T, value: unknown, root?: string): Static<T> {
  if (root === undefined && typeof value === "object" && value !== null && trusted.get(value) === schema) {
    trusted.delete(value);
    return value as Static<T>;
  }
  const checker = checkerFor(schema);
  const copy = readJson(value, schema, root);
  if (checker.Check(copy)) return copy as Static<T>;
  const error = firstError(checker.Errors(copy));
  if (!error) throw new InvalidInputError(root, "is invalid");
  const path = joinPath(root, error.path);
  throw new InvalidInputError(path || undefined, describe(error, path));
}

/** Values `trust` vouched for, with the schema each was checked against. */
const trusted = new WeakMap<object, TSchema>();

/**
 * Vouches that `value`, a fresh object core built from a checked input (a wire body renamed to
 * the engine's fields), satisfies `schema`: the next `parseInput` of it against that schema
 * returns it as it is, so a request checked once at the router is not copied and checked again.
 * Used once: a second `parseInput` checks as usual.
 */
export function trust<T extends object>(schema: TSchema, value: T): T {
  trusted.set(value, schema);
  return value;
}

function firstError(errors: Iterable<ValueError>): ValueError | undefined {
  // An unknown field is the most useful thing to report: its name is the caller's mistake.
  let first: ValueError | undefined;
  for (const error of errors) {
    if (error.type === ValueErrorType.ObjectAdditionalProperties) return error;
    first ??= error;
  }
  return first;
}

function joinPath(root: string | undefined, pointer: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  const tail = parts.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join("");
  const joined = (root ?? "") + tail;
  return joined.startsWith(".") ? joined.slice(1) : joined;
}

function describe(error: ValueError, path: string): string {
  const schema = error.schema as TSchema & Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      // A record whose keys follow a pattern (usage counters) names the pattern; an object, the field.
      const patterns = Object.keys((schema.patternProperties as Record<string, unknown> | undefined) ?? {});
      return patterns.length > 0 ? `is not a valid key: keys must match ${patterns.join(" or ")}` : "is not a known field";
    }
    case ValueErrorType.ObjectRequiredProperty:
      return "is required";
    case ValueErrorType.Object:
      return path ? "must be an object" : "the body must be a JSON object";
    case ValueErrorType.String:
      return "must be a string";
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1 ? "must not be empty" : `must be at least ${schema.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${schema.maxLength} characters`;
    case ValueErrorType.Integer:
      return "must be a whole number";
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be at least ${schema.minimum}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be at most ${schema.maximum}`;
    case ValueErrorType.Number:
      return "must be a number";
    case ValueErrorType.Boolean:
      return "must be true or false";
    case ValueErrorType.Array:
      return "must be an array";
    case ValueErrorType.ArrayMinItems:
      return `must hold at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}`;
    case ValueErrorType.ArrayMaxItems:
      return `must hold at most ${schema.maxItems} items`;
    case ValueErrorType.ArrayUniqueItems:
      return "must not repeat an item";
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(schema.const)}`;
    default:
      if (typeof schema.errorMessage === "string") return schema.errorMessage;
      return error.message.replace(/^Expected/, "must be");
  }
}

/** Size of a JSON value as the UTF-8 bytes of its serialization. */
export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value) ?? "").length;
}

/** Throws when `value` serializes to more than `limit` bytes. */
export function assertJsonSize(field: string, value: unknown, limit: number): void {
  // Small plain data (every metadata object a create carries) is within the limit by a count that
  // serializes nothing.
  if (jsonBytesAtMost(value, limit) <= limit) return;
  const text = JSON.stringify(value) ?? "";
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short text is within the limit unencoded.
  if (text.length * 3 <= limit) return;
  const bytes = encoder.encode(text).length;
  if (bytes > limit) {
    throw new InvalidInputError(field, `must be at most ${limit} bytes as JSON (got ${bytes})`);
  }
}

/** The most UTF-8 bytes one UTF-16 code unit of a string takes in JSON: `\u001f` is six. */
const MAX_BYTES_PER_UNIT = 6;
/** The longest JSON text of a number, e.g. `-2.2250738585072014e-308`. */
const MAX_NUMBER_BYTES = 24;

/**
 * An upper bound of the UTF-8 bytes of `JSON.stringify(value)`, counted without serializing, or
 * `Infinity` once it passes `budget` or meets a value that is not plain JSON data (a `Date`, a
 * class instance, an object with `toJSON`, a `bigint`), which only serializing can measure.
 */
function jsonBytesAtMost(value: unknown, budget: number): number {
  switch (typeof value) {
    case "string":
      return 2 + value.length * MAX_BYTES_PER_UNIT;
    case "number":
      return MAX_NUMBER_BYTES;
    case "boolean":
      return 5;
    case "object":
      break;
    default:
      return Number.POSITIVE_INFINITY;
  }
  if (value === null) return 4;
  let total = 2;
  if (total > budget) return Number.POSITIVE_INFINITY; // also ends a cycle: every level costs bytes
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && total <= budget; i++) {
      const item: unknown = value[i];
      total += 1 + (leftOut(item) ? 4 : jsonBytesAtMost(item, budget - total)); // `null` in an array
    }
    return total <= budget ? total : Number.POSITIVE_INFINITY;
  }
  if (!isPlainRecord(value)) return Number.POSITIVE_INFINITY;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = value[key];
    if (leftOut(item)) continue;
    total += 4 + key.length * MAX_BYTES_PER_UNIT + jsonBytesAtMost(item, budget - total);
    if (total > budget) return Number.POSITIVE_INFINITY;
  }
  return total;
}

/** Throws unless `limit` is one a store can enforce: a status, and a whole number `max` from 0. Every adapter's `insertWithinLimit` checks it first. */
export function assertRecordLimit(limit: RecordLimit): void {
  if (!Number.isSafeInteger(limit?.max) || limit.max < 0) throw new InvalidInputError("limit.max", `must be a whole number ≥ 0, got ${limit?.max}`);
  if (typeof limit.status !== "string") throw new InvalidInputError("limit.status", "must be a string");
}
