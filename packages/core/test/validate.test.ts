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
});
