import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { iso } from "../src/index.js";

describe("iso", () => {
  it("agrees with Date#toISOString for any millisecond from 1970 to 9999", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) => {
        expect(iso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([0, 951782400000, 951868800000, 4107542400000, 1735689599999, 253402300799999])("formats %d exactly", (ms) => {
    expect(iso(ms)).toBe(new Date(ms).toISOString());
  });
});
