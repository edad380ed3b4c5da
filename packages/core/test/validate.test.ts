import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { TSchema } from "@sinclair/typebox";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertJsonSize, CreateFormInput, CreateWorkflowInput, InvalidInputError, parseInput, RecordStepInput } from "../src/index.js";
import { JSON_LIMITS, readJson } from "../src/json-boundary.js";

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const sparse: unknown[] = [1];
sparse[3] = 4;

const cases: Record<string, unknown> = {
  "a plain object": { name: "signup", metadata: { source: "bench", tags: ["a", "b"], nested: { n: 1.5, ok: true, none: null } } },
  "an empty object and array": { a: {}, b: [] },
  "undefined, functions and symbols in an object": { kept: 1, gone: undefined, fn: () => 1, sym: Symbol("s") },
  "undefined, functions and symbols in an array": [undefined, () => 1, Symbol("s"), 2],
  "-0": { list: [-0], zero: -0 },
  "a sparse array": sparse,
  "a Date": { at: new Date(Date.UTC(2026, 10, 23, 15, 0, 0)) },
  "an object with toJSON": { value: { toJSON: () => ({ replaced: true }) } },
  "a class instance": { point: new Point(1, 2) },
  "a null-prototype object": Object.assign(Object.create(null) as object, { a: 1 }),
  "a __proto__ key": JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
  "unicode text": { text: "héllo ✓ 🎉" },
  "a Map and a Set": { map: new Map([["a", 1]]), set: new Set([1]) },
};

/** True when a value holds a number JSON cannot carry (it writes NaN and ±Infinity as null). */
function holdsNonFinite(value: unknown, seen = new Set<unknown>()): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  if (typeof value !== "object" || value === null || seen.has(value)) return false;
  seen.add(value);
  if (value instanceof Date || value instanceof Map || value instanceof Set) return false;
  return Object.values(value).some((item) => holdsNonFinite(item, seen));
}

describe("readJson: the copy", () => {
  for (const [name, value] of Object.entries(cases)) {
    it(`copies ${name} exactly as a JSON round trip does`, () => {
      const copy = readJson(value, null);
      expect(copy).toStrictEqual(JSON.parse(JSON.stringify(value)));
      expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    });
  }

  it("agrees with a JSON round trip on any value JSON can carry", () => {
    fc.assert(
      fc.property(
        fc.anything({ withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }),
        (value) => {
          const text = JSON.stringify(value);
          if (typeof value !== "object" || value === null || text === undefined) return;
          if (holdsNonFinite(value)) expect(() => readJson(value, null)).toThrow(InvalidInputError);
          else expect(readJson(value, null)).toStrictEqual(JSON.parse(text));
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it("shares nothing with its source", () => {
    const source = { metadata: { list: [{ a: 1 }] } };
    const copy = readJson(source, null) as typeof source;
    source.metadata.list[0]!.a = 2;
    expect(copy.metadata.list[0]!.a).toBe(1);
  });

  it("keeps a __proto__ key as a plain key, never as the prototype", () => {
    const copy = readJson(JSON.parse('{"__proto__": {"polluted": true}}'), null) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(["__proto__"]);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("reads each getter once, so the value checked is the value kept", () => {
    let reads = 0;
    const value = {
      get text() {
        reads++;
        return reads === 1 ? "fine" : "\u0000";
      },
    };
    expect(readJson(value, null)).toEqual({ text: "fine" });
    expect(reads).toBe(1);
  });
});

/** `levels` arrays, one inside the next, around `inner`. */
function nested(levels: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** The message of the `InvalidInputError` that `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error("expected an InvalidInputError");
}

describe("readJson: the free-form JSON boundary", () => {
  it(`takes ${JSON_LIMITS.depth} levels inside an open value and refuses one more, naming the path`, () => {
    expect(parseInput(CreateWorkflowInput, { name: "x", metadata: { a: nested(JSON_LIMITS.depth) } })).toBeTruthy();
    const message = refusal(() => parseInput(CreateWorkflowInput, { name: "x", metadata: { a: nested(JSON_LIMITS.depth + 1) } }));
    expect(message).toMatch(/^metadata\.a\[0\]\[0\].*: nested deeper than 32 levels$/);
  });

  it("refuses nesting far past any stack, without overflowing it, for any open value", () => {
    const deep = JSON.parse(`${"[".repeat(200_000)}${"]".repeat(200_000)}`);
    expect(refusal(() => parseInput(CreateWorkflowInput, { name: "x", metadata: { a: deep } }))).toMatch(/nested deeper than 32 levels$/);
    expect(refusal(() => parseInput(RecordStepInput, { action: "a", durationMs: 1, input: deep }))).toMatch(/^input\[0\].*: nested deeper/);
    const deepObject = JSON.parse(`${'{"k":'.repeat(5000)}1${"}".repeat(5000)}`);
    expect(refusal(() => readJson({ output: deepObject }, null))).toMatch(/^output\.k\.k.*: nested deeper/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(refusal(() => readJson({ metadata: cycle }, null))).toMatch(/nested deeper than 32 levels$/);
  });

  it("does not count the levels the schema itself describes", () => {
    const fields = [{ name: "colour", type: "select", options: ["red", "blue"] }];
    expect(parseInput(CreateFormInput, { name: "f", fields, metadata: { a: nested(JSON_LIMITS.depth) } })).toBeTruthy();
  });

  it(`takes keys of ${JSON_LIMITS.keyChars} characters and refuses longer ones`, () => {
    expect(readJson({ metadata: { ["k".repeat(200)]: 1 } }, null)).toBeTruthy();
    expect(refusal(() => readJson({ metadata: { ["k".repeat(201)]: 1 } }, null))).toMatch(
      /^metadata: keys must be at most 200 characters \(one has 201/,
    );
    expect(refusal(() => readJson({ input: [{ ["k".repeat(5000)]: 1 }] }, null))).toMatch(/^input\[0\]: keys must be at most 200/);
  });

  it("refuses NUL and lone surrogates in any text, key or value, and takes every well-formed text", () => {
    expect(refusal(() => readJson({ metadata: { a: "x\u0000y" } }, null))).toBe("metadata.a: must not contain the NUL character (U+0000)");
    expect(refusal(() => readJson({ metadata: { "a\u0000": 1 } }, null))).toMatch(/^metadata: keys must not contain the NUL/);
    for (const bad of ["\ud800", "a\udc00", "\udc00\ud800", "x\ud83d"]) {
      expect(refusal(() => readJson({ values: { f: bad } }, null))).toBe("values.f: must be well-formed Unicode (it holds a lone surrogate)");
    }
    expect(refusal(() => readJson({ "\udfff": 1 }, null))).toMatch(/^keys must be well-formed/);
    expect(refusal(() => readJson("\u0000", null, "body"))).toBe("body: must not contain the NUL character (U+0000)");
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        if (text.includes("\u0000")) return;
        expect(readJson({ [text.slice(0, 200)]: text }, null)).toEqual({ [text.slice(0, 200)]: text });
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses numbers JSON cannot carry, and BigInts, naming where", () => {
    expect(refusal(() => readJson({ usage: { input_tokens: Number.NaN } }, null))).toBe("usage.input_tokens: must be a finite number");
    expect(refusal(() => readJson({ list: [1, Number.POSITIVE_INFINITY] }, null))).toBe("list[1]: must be a finite number");
    expect(refusal(() => readJson({ big: 1n }, null))).toBe("big: must be a JSON value (a BigInt is not one)");
  });

  it("names keys that are not identifiers in brackets, and shortens a long path", () => {
    expect(refusal(() => readJson({ metadata: { "a.b": { "": "\u0000" } } }, null))).toBe(
      'metadata["a.b"][""]: must not contain the NUL character (U+0000)',
    );
    const chain = JSON.parse(`${'{"abcdefghij":'.repeat(40)}1${"}".repeat(40)}`);
    const long = refusal(() => readJson({ metadata: chain }, null));
    expect(long.length).toBeLessThan(160);
    expect(long).toMatch(/^metadata(\.abcdefghij)+…(\.abcdefghij)+: nested deeper than 32 levels$/);
  });
});

describe("assertJsonSize", () => {
  it("counts UTF-8 bytes, not characters, near the limit", () => {
    // 10 characters of 3 bytes each: 30 bytes of text, 32 with the quotes.
    expect(() => assertJsonSize("metadata", "✓".repeat(10), 31)).toThrow(InvalidInputError);
    expect(() => assertJsonSize("metadata", "✓".repeat(10), 32)).not.toThrow();
    expect(() => assertJsonSize("metadata", "a".repeat(30), 32)).not.toThrow();
    expect(() => assertJsonSize("metadata", "a".repeat(31), 32)).toThrow(/metadata.*at most 32 bytes as JSON \(got 33\)/);
  });

  it("refuses exactly the values whose JSON passes the limit, whatever they hold", () => {
    // A seeded generator: the same values every run.
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const texts = ["", "a", '"', "\\", "\n", "\u0001", "\u001f", "é", "✓", "😀", "\ud800", "\u2028", "</script>"];
    const numbers = [0, -0, 1, -1.5, 1e21, -2.2250738585072014e-308, 123456789.12345679, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY];
    const value = (depth: number): unknown => {
      const pick = Math.floor(random() * (depth > 3 ? 5 : 9));
      if (pick === 0) return texts[Math.floor(random() * texts.length)]!.repeat(1 + Math.floor(random() * 40));
      if (pick === 1) return numbers[Math.floor(random() * numbers.length)];
      if (pick === 2) return random() < 0.5;
      if (pick === 3) return null;
      if (pick === 4) return undefined;
      if (pick === 5) return Array.from({ length: Math.floor(random() * 5) }, () => value(depth + 1));
      if (pick === 6) return new Date(Math.floor(random() * 2e12)); // measured through its toJSON
      const object: Record<string, unknown> = pick === 7 ? {} : Object.create(null);
      for (let i = Math.floor(random() * 5); i > 0; i--) object[texts[Math.floor(random() * texts.length)]! + i] = value(depth + 1);
      return object;
    };
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const candidate = { v: value(0) };
      const bytes = new TextEncoder().encode(JSON.stringify(candidate)).length;
      for (const limit of [bytes - 1, bytes, bytes + 1, 2 * bytes, 8 * bytes]) {
        const refused = (() => {
          try {
            assertJsonSize("metadata", candidate, limit);
            return false;
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidInputError);
            return true;
          }
        })();
        expect(refused, `${JSON.stringify(candidate)} at ${limit} bytes (${bytes} as JSON)`).toBe(bytes > limit);
        checked++;
      }
    }
    expect(checked).toBe(2000);
  });

  it("measures what only serializing can: toJSON, class instances; and refuses a cycle as JSON.stringify does", () => {
    expect(() => assertJsonSize("metadata", { at: { toJSON: () => "x".repeat(100) } }, 50)).toThrow(InvalidInputError);
    class Point {
      constructor(readonly x = "y".repeat(100)) {}
    }
    expect(() => assertJsonSize("metadata", { p: new Point() }, 50)).toThrow(InvalidInputError);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(() => assertJsonSize("metadata", cycle, 16 * 1024)).toThrow(TypeError);
  });
});

describe("parseInput where the runtime forbids code generation (Cloudflare Workers)", () => {
  // The built package in a Node started with --disallow-code-generation-from-strings, which
  // refuses `new Function` as workerd does: TypeBox's interpreter gives the compiled checker's answers.
  const inputs: [string, unknown][] = [
    ["CreateFormInput", { name: "Intake", slug: "intake", fields: [{ name: "email", type: "email", required: true }] }],
    ["CreateFormInput", { slug: "intake", fields: [] }],
    ["CreateFormInput", { name: "Intake", slug: "intake", fields: [{ name: "email", type: "nope" }] }],
    ["CreateWorkflowInput", { name: 42 }],
    ["RecordStepInput", { action: "x", extra: true }],
  ];
  const schemas: Record<string, TSchema> = { CreateFormInput, CreateWorkflowInput, RecordStepInput };
  const answer = (schema: string, value: unknown) => {
    try {
      return { value: parseInput(schemas[schema]!, value) };
    } catch (error) {
      return { field: (error as InvalidInputError).field, message: (error as Error).message };
    }
  };

  it("gives the compiled checker's values and errors", async () => {
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    expect(existsSync(dist), "packages/core/dist: run `pnpm build` first").toBe(true);
    const script = `
      import * as core from ${JSON.stringify(pathToFileURL(dist).href)};
      const answers = ${JSON.stringify(inputs)}.map(([schema, value]) => {
        try { return { value: core.parseInput(core[schema], value) }; }
        catch (error) { return { field: error.field, message: error.message }; }
      });
      let generated = "yes";
      try { new Function("return 1"); } catch { generated = "refused"; }
      console.log(JSON.stringify({ generated, answers }));`;
    const output = execFileSync(process.execPath, ["--disallow-code-generation-from-strings", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    const { generated, answers } = JSON.parse(output) as { generated: string; answers: unknown[] };
    expect(generated).toBe("refused");
    expect(answers).toEqual(JSON.parse(JSON.stringify(inputs.map(([schema, value]) => answer(schema, value)))));
    expect(answers.filter((each) => "message" in (each as object))).toHaveLength(4);
  });
});
