import { describe, expect, it } from "vitest";
import { compileArgsSchema } from "../src/args-schema.js";

const refusal = (call: () => unknown) => {
  try {
    call();
  } catch (error) {
    const { field, message } = error as { field?: string; message: string };
    return { field, message };
  }
  return null;
};

describe("arguments schemas", () => {
  const schema = compileArgsSchema({
    type: "object",
    properties: {
      to: { type: "string", format: "email" },
      amount: { type: "integer", maximum: 500 },
      tag: { type: "string", pattern: "^(a+)+$" },
      lines: { type: "array", items: { type: "string" } },
    },
    required: ["to"],
    additionalProperties: false,
  });

  it("accepts arguments the schema allows", () => {
    expect(refusal(() => schema.check({ to: "ana@example.com", amount: 20, tag: "aaa", lines: ["x"] }))).toBeNull();
  });

  it("names the path that fails", () => {
    expect(refusal(() => schema.check({ to: 3 }))?.field).toBe("args.to");
    expect(refusal(() => schema.check({ to: "ana@example.com", amount: 900 }))?.field).toBe("args.amount");
    expect(refusal(() => schema.check({ to: "ana@example.com", lines: ["x", 2] }))?.field).toBe("args.lines[1]");
    expect(refusal(() => schema.check({}))).toMatchObject({ field: "args" });
    expect(refusal(() => schema.check({ to: "ana@example.com", cc: "x" }))).toMatchObject({ field: "args.cc" });
  });

  it("runs a pattern on a linear-time engine: a catastrophic one for backtracking returns at once", () => {
    expect(refusal(() => schema.check({ to: "ana@example.com", tag: `${"a".repeat(50_000)}!` }))).toMatchObject({
      field: "args.tag",
      message: "args.tag: does not match the schema's pattern",
    });
  });

  it("refuses schemas it cannot run safely, naming where", () => {
    expect(refusal(() => compileArgsSchema({ type: "string", pattern: "(?=x)y" }))?.field).toBe("argsSchema.pattern");
    expect(refusal(() => compileArgsSchema({ properties: { a: { pattern: "(x" } } }))?.field).toBe("argsSchema.properties.a.pattern");
    expect(refusal(() => compileArgsSchema({ patternProperties: { "^a": {} } }))?.field).toBe("argsSchema.patternProperties");
    expect(refusal(() => compileArgsSchema({ $ref: "https://example.com/schema.json" }))?.field).toBe("argsSchema.$ref");
    expect(refusal(() => compileArgsSchema({ properties: { a: 5 } }))?.field).toBe("argsSchema.properties.a");
    expect(refusal(() => compileArgsSchema([]))?.field).toBe("argsSchema");
  });

  it("leaves nothing behind in the validator's formats", async () => {
    const { format } = await import("@cfworker/json-schema");
    schema.check({ to: "ana@example.com", tag: "a" });
    expect(Object.keys(format).some((name) => name.includes("re2"))).toBe(false);
  });
});
