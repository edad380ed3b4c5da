import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createIdGenerator, eventId, idTime, isPrefixedId, isRecordId } from "../src/index.js";

describe("prefixed ids", () => {
  it("are a prefix and 32 lowercase hex digits that start with the clock's milliseconds", () => {
    const at = Date.UTC(2026, 10, 23, 9, 0, 0);
    const id = createIdGenerator(() => at)("sess");
    expect(id).toMatch(/^sess_[0-9a-f]{32}$/);
    expect(idTime(id)).toBe(at);
    expect(isPrefixedId(id, "sess")).toBe(true);
    expect(isPrefixedId(id, "session")).toBe(false);
    expect(isPrefixedId("sess_XYZ", "sess")).toBe(false);
  });

  it("are told apart from any other text exactly as their pattern says", () => {
    const pattern = /^([a-z]+)_([0-9a-f]{32})$/;
    const prefixes = fc.constantFrom("sess", "session", "thread", "wh", "", "Sess", "se-ss");
    const hex = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEFg_\u0000 ".split("")), minLength: 30, maxLength: 34 });
    const candidates = fc.oneof(
      fc.tuple(prefixes, hex).map(([prefix, tail]) => `${prefix}_${tail}`),
      fc.tuple(prefixes, hex).map(([prefix, tail]) => `${prefix}${tail}`),
      fc.tuple(prefixes, fc.stringMatching(/^[0-9a-f]{32}$/)).map(([prefix, tail]) => `${prefix}_${tail}`),
      fc.string({ unit: "binary" }),
    );
    fc.assert(
      fc.property(candidates, prefixes, (text, prefix) => {
        expect(isPrefixedId(text, prefix)).toBe(pattern.exec(text)?.[1] === prefix);
        expect(isRecordId(text)).toBe(pattern.test(text));
      }),
      { numRuns: 20_000 },
    );
    expect(isPrefixedId(`thread_${"0a".repeat(16)}`, "thread")).toBe(true);
  });

  it("sort by the millisecond they were made in, and never repeat", () => {
    let now = 1_000;
    const next = createIdGenerator(() => now);
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) {
      if (i % 1000 === 0) now++;
      ids.push(next("evt"));
    }
    expect([...ids].sort((a, b) => idTime(a) - idTime(b) || (a < b ? -1 : 1)).map(idTime)).toEqual(ids.map(idTime));
    expect([...ids].sort().map(idTime)).toEqual(ids.map(idTime));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("each show their own clock's moment when generators and event ids of other moments interleave", () => {
    const moments = [0, 1, 1, 2 ** 40, 1.9, 2 ** 48 - 8, 7, 7, 0];
    const generators = moments.map((at) => createIdGenerator(() => at));
    for (let round = 0; round < 3; round++) {
      moments.forEach((at, i) => {
        expect(idTime(generators[i]!("sess"))).toBe(Math.floor(at));
        expect(idTime(eventId("sess_0", i, at + 3))).toBe(Math.floor(at + 3));
      });
    }
  });

  it("carry 80 random bits, so one id says nothing about the next", () => {
    const next = createIdGenerator(() => 5);
    const tails = Array.from({ length: 2000 }, () => next("x").slice(2 + 12));
    expect(new Set(tails).size).toBe(tails.length);
    // Every one of the 80 bits after the timestamp varies, even within one millisecond.
    const varying = new Set<number>();
    for (const tail of tails) {
      const bits = BigInt(`0x${tail}`).toString(2).padStart(80, "0");
      for (const [index, bit] of [...bits].entries()) if (bit === "1") varying.add(index);
    }
    expect(varying.size).toBe(80);
  });

  it("make the same event id for the same record, sequence and time, and different ones otherwise", () => {
    const record = "sess_0190e1b0000070008000000000000001";
    expect(eventId(record, 3, 1000)).toBe(eventId(record, 3, 1000));
    expect(eventId(record, 3, 1000)).not.toBe(eventId(record, 4, 1000));
    expect(eventId(record, 3, 1000)).toMatch(/^evt_[0-9a-f]{32}$/);
    const ids = new Set(Array.from({ length: 10_000 }, (_, seq) => eventId(record, seq, 1000)));
    expect(ids.size).toBe(10_000);
  });
});

describe("runtime neutrality", () => {
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
    });

  it.each(["packages/core/src", "packages/memory/src"])("%s imports nothing from node:", (dir) => {
    const offenders = sources(dir).filter((file) => /from\s+["']node:|require\(["']node:|import\(["']node:/.test(readFileSync(file, "utf8")));
    expect(offenders).toEqual([]);
    expect(sources(dir).length).toBeGreaterThan(0);
  });
});
