import { Kind, type TSchema } from "@sinclair/typebox";
import { InvalidInputError } from "./errors.js";

/**
 * What every value a caller gives must meet before anything else sees it. `depth` counts the
 * objects and arrays nested inside a value the schemas leave open (metadata values, configs, step
 * inputs and outputs, previews, context variables), the outermost open one being level 1.
 */
export const JSON_LIMITS = {
  /** Levels of objects and arrays inside a free-form value. */
  depth: 32,
  /** Characters of an object key. */
  keyChars: 200,
} as const;

/** One object or array being copied: where it sits, what its schema says, and its copy. */
interface Frame {
  readonly source: unknown[] | Record<string, unknown>;
  readonly copy: unknown[] | Record<string, unknown>;
  /** The schema of this container, or `null` inside a value the schemas leave open. */
  readonly schema: TSchema | null;
  /** Levels of open containers down to this one (this one counted); 0 where schemas describe it. */
  readonly level: number;
  readonly parent: Frame | null;
  readonly key: string | number;
}

/**
 * Checks a caller's value and returns a plain JSON copy of it, in one iterative pass (no recursion,
 * so no depth of nesting can overflow the stack): objects and arrays inside open parts of `schema`
 * nest at most `JSON_LIMITS.depth` levels, keys have at most `JSON_LIMITS.keyChars` characters,
 * every string (key or value) is well-formed UTF-16 without U+0000, every number is finite. A
 * violation throws an `InvalidInputError` naming the path (`metadata.a[0]: …`) under `root`.
 * The copy is what `JSON.parse(JSON.stringify(value))` gives: `undefined`, functions and symbols
 * are left out of objects and become `null` in arrays, `-0` becomes `0`, a `__proto__` key stays a
 * plain key, and anything that is not plain data (a `Date`, a class instance, an object with
 * `toJSON`, a `Map`) is taken as its JSON serialization. The schema itself is not checked here.
 */
export function readJson(value: unknown, schema: TSchema | null, root?: string): unknown {
  const top = scalar(value, null, root ?? "");
  if (top !== CONTAINER) return top;
  const start = plain(value, null, root ?? "");
  if (start === null || typeof start !== "object") return start;
  const rootSchema = schema === null ? null : containerSchema(schema, start);
  const rootLevel = rootSchema === null ? 1 : 0;
  if (rootLevel > JSON_LIMITS.depth) throw tooDeep(null, root ?? "");
  const rootCopy: unknown[] | Record<string, unknown> = Array.isArray(start) ? new Array(start.length) : {};
  const stack: Frame[] = [
    { source: start as unknown[] | Record<string, unknown>, copy: rootCopy, schema: rootSchema, level: rootLevel, parent: null, key: root ?? "" },
  ];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (Array.isArray(frame.source)) {
      const source = frame.source;
      const copy = frame.copy as unknown[];
      const items = frame.schema === null ? null : childSchema(frame.schema, "");
      for (let i = 0; i < source.length; i++) {
        const item = source[i];
        copy[i] = leftOut(item) ? null : child(item, items, frame, i, stack);
      }
    } else {
      const source = frame.source;
      const copy = frame.copy as Record<string, unknown>;
      for (const key of Object.keys(source)) {
        checkKey(key, frame);
        const item = source[key];
        if (leftOut(item)) continue;
        const value = child(item, frame.schema === null ? null : childSchema(frame.schema, key), frame, key, stack);
        // Defined, not assigned: a `__proto__` key stays a plain key, as JSON.parse makes it.
        if (key === "__proto__") Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
        else copy[key] = value;
      }
    }
  }
  return rootCopy;
}

const CONTAINER = Symbol("container");

/** A value JSON leaves out of an object, and writes as `null` in an array. */
export function leftOut(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/** An object JSON serializes key by key: no prototype but Object's (or none), no `toJSON`. */
export function isPlainRecord(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== "function";
}

/** The copy of one child, or a new frame on the stack for an object or array. */
function child(value: unknown, schema: TSchema | null, parent: Frame, key: string | number, stack: Frame[]): unknown {
  const copied = scalar(value, parent, key);
  if (copied !== CONTAINER) return copied;
  const source = plain(value, parent, key);
  if (source === null || typeof source !== "object") return source;
  const own = schema === null ? null : containerSchema(schema, source);
  const level = own !== null ? 0 : parent.level + 1;
  if (level > JSON_LIMITS.depth) throw tooDeep(parent, key);
  const copy: unknown[] | Record<string, unknown> = Array.isArray(source) ? new Array(source.length) : {};
  stack.push({ source: source as unknown[] | Record<string, unknown>, copy, schema: own, level, parent, key });
  return copy;
}

/** A scalar checked and copied, or `CONTAINER` for an object or array. */
function scalar(value: unknown, parent: Frame | null, key: string | number): unknown {
  switch (typeof value) {
    case "string":
      checkText(value, parent, key);
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new InvalidInputError(pathOf(parent, key) || undefined, "must be a finite number");
      return value === 0 ? 0 : value; // JSON has no -0
    case "boolean":
      return value;
    case "object":
      return value === null ? null : CONTAINER;
    case "bigint":
      throw new InvalidInputError(pathOf(parent, key) || undefined, "must be a JSON value (a BigInt is not one)");
    default:
      return undefined; // undefined, a function or a symbol: left out by the caller
  }
}

/** The value itself when it is plain data, else what JSON makes of it (a `Date` becomes its text). */
function plain(value: unknown, parent: Frame | null, key: string | number): unknown {
  if (Array.isArray(value) || isPlainRecord(value as object)) return value;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    throw new InvalidInputError(pathOf(parent, key) || undefined, "must be a JSON value (it cannot be serialized)");
  }
  if (text === undefined) return null;
  const parsed: unknown = JSON.parse(text);
  // What JSON made may itself hold text or numbers to check, and nesting to count.
  const again = scalar(parsed, parent, key);
  return again === CONTAINER ? parsed : again;
}

/**
 * The schema that describes a container `value`, or `null` where the schemas leave it open (an
 * unknown value, or a container where the schema expects something else: the schema check that
 * follows refuses that, and meanwhile its nesting is counted like any open value's).
 */
function containerSchema(schema: TSchema, value: object): TSchema | null {
  const kind = schema[Kind];
  if (kind === "Union") {
    for (const member of (schema as TSchema & { anyOf: TSchema[] }).anyOf) {
      const found = containerSchema(member, value);
      if (found !== null) return found;
    }
    return null;
  }
  if (Array.isArray(value)) return kind === "Array" ? schema : null;
  return kind === "Object" || kind === "Record" ? schema : null;
}

/** The schema of a container's child: an array's items, an object's property, a record's values. */
function childSchema(schema: TSchema, key: string): TSchema | null {
  const described = schema as TSchema & {
    items?: TSchema;
    properties?: Record<string, TSchema>;
    patternProperties?: Record<string, TSchema>;
    additionalProperties?: boolean | TSchema;
  };
  switch (schema[Kind]) {
    case "Array":
      return described.items ?? null;
    case "Record": {
      const patterns = described.patternProperties;
      if (!patterns) return null;
      for (const pattern in patterns) return patterns[pattern]!;
      return null;
    }
    case "Object": {
      const properties = described.properties;
      if (properties && Object.hasOwn(properties, key)) return properties[key]!;
      return typeof described.additionalProperties === "object" ? described.additionalProperties : null;
    }
    default:
      return null;
  }
}

function checkKey(key: string, frame: Frame): void {
  if (key.length > JSON_LIMITS.keyChars) {
    throw new InvalidInputError(
      pathOf(frame.parent, frame.key) || undefined,
      `keys must be at most ${JSON_LIMITS.keyChars} characters (one has ${key.length}: ${preview(key)})`,
    );
  }
  const problem = textProblem(key);
  if (problem !== null) throw new InvalidInputError(pathOf(frame.parent, frame.key) || undefined, `keys ${problem} (${preview(key)})`);
}

function checkText(text: string, parent: Frame | null, key: string | number): void {
  const problem = textProblem(text);
  if (problem !== null) throw new InvalidInputError(pathOf(parent, key) || undefined, problem);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const hasIsWellFormed = typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function";

/** A NUL or any surrogate: text without one is fine, and most text is judged by this one scan. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what this pattern looks for
const SUSPECT = /[\u0000\ud800-\udfff]/;

/** Why a text may not be stored (every store keeps it as UTF-8, and PostgreSQL refuses U+0000), or `null`. */
function textProblem(text: string): string | null {
  if (!SUSPECT.test(text)) return null;
  if (text.includes("\u0000")) return "must not contain the NUL character (U+0000)";
  const wellFormed = hasIsWellFormed ? (text as string & { isWellFormed(): boolean }).isWellFormed() : !LONE_SURROGATE.test(text);
  return wellFormed ? null : "must be well-formed Unicode (it holds a lone surrogate)";
}

function tooDeep(parent: Frame | null, key: string | number): InvalidInputError {
  return new InvalidInputError(pathOf(parent, key) || undefined, `nested deeper than ${JSON_LIMITS.depth} levels`);
}

/** The longest path an error names; a longer one keeps its first and last segments. */
const MAX_PATH_CHARS = 120;

/** The dotted path of a child of `parent` (`metadata.a[0].b`), shortened in the middle past 120 characters. */
function pathOf(parent: Frame | null, key: string | number): string {
  if (parent === null && key === "") return "";
  const keys: (string | number)[] = [key];
  for (let frame = parent; frame !== null; frame = frame.parent) {
    if (frame.parent !== null || frame.key !== "") keys.push(frame.key);
  }
  const segments = keys.reverse().map((part, i) => {
    if (typeof part === "number") return `[${part}]`;
    if (/^[A-Za-z_$][\w$]*$/.test(part)) return i === 0 ? part : `.${part}`;
    return `[${JSON.stringify(preview(part))}]`;
  });
  const path = segments.join("");
  if (path.length <= MAX_PATH_CHARS) return path;
  let head = "";
  let first = 0;
  while (first < segments.length && head.length + segments[first]!.length <= MAX_PATH_CHARS / 2) head += segments[first++];
  let tail = "";
  for (let last = segments.length - 1; last >= first && tail.length + segments[last]!.length <= MAX_PATH_CHARS / 2 - 10; last--) {
    tail = segments[last] + tail;
  }
  return `${head}…${tail}`;
}

/** The start of a long text, safe to show in a message: quotes, control characters and lone surrogates escaped. */
function preview(text: string): string {
  const start = text.length > 24 ? `${text.slice(0, 24)}…` : text;
  return JSON.stringify(start).slice(1, -1);
}
