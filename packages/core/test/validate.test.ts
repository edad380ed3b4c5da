import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertJsonSize, InvalidInputError } from "../src/index.js";
import { jsonCopy } from "../src/validate.js";

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
  "non-finite numbers and -0": { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, list: [Number.NEGATIVE_INFINITY, -0], zero: -0 },
  "a sparse array": sparse,
  "a Date": { at: new Date(Date.UTC(2026, 10, 23, 15, 0, 0)) },
  "an object with toJSON": { value: { toJSON: () => ({ replaced: true }) } },
  "a class instance": { point: new Point(1, 2) },
  "a null-prototype object": Object.assign(Object.create(null) as object, { a: 1 }),
  "a __proto__ key": JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
  "unicode text": { text: "héllo ✓ 🎉" },
  "a Map and a Set": { map: new Map([["a", 1]]), set: new Set([1]) },
};

describe("jsonCopy", () => {
  for (const [name, value] of Object.entries(cases)) {
    it(`copies ${name} exactly as a JSON round trip does`, () => {
      const copy = jsonCopy(value);
      expect(copy).toStrictEqual(JSON.parse(JSON.stringify(value)));
      expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    });
  }

  it("agrees with a JSON round trip on any value JSON can serialize", () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }), (value) => {
        const text = JSON.stringify(value);
        if (typeof value !== "object" || value === null || text === undefined) return;
        expect(jsonCopy(value)).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 10_000 },
    );
  });

  it("shares nothing with its source", () => {
    const source = { metadata: { list: [{ a: 1 }] } };
    const copy = jsonCopy(source) as typeof source;
    source.metadata.list[0]!.a = 2;
    expect(copy.metadata.list[0]!.a).toBe(1);
  });

  it("keeps a __proto__ key as a plain key, never as the prototype", () => {
    const copy = jsonCopy(JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(["__proto__"]);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("throws on a bigint, as JSON.stringify does", () => {
    expect(() => jsonCopy({ big: 1n })).toThrow(TypeError);
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
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const texts = ["", "a", '"', "\\", "\n", "\u0001", "\u001f", "é", "✓", "😀", "\ud800", "\u2028", "</script>"];
    const numbers = [0, -0, 1, -1.5, 1e21, -2.2250738585072014e-308, 123456789.123456789, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY];
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
