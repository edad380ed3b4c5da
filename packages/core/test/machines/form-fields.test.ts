import { describe, expect, it } from "vitest";
import { coerceFieldValue, type FieldType, type FieldValue, type FormField, InvalidInputError } from "../../src/index.js";
import { thrown } from "./helpers.js";

function field(type: FieldType): FormField {
  return type === "select" ? { name: "f", type, options: ["free", "pro"] } : { name: "f", type };
}

const PATH = "values.f";

describe("coerceFieldValue accepts and converts", () => {
  const cases: [FieldType, FieldValue, FieldValue][] = [
    ["text", "  Ada  ", "Ada"],
    ["textarea", "  first line\nsecond  ", "  first line\nsecond  "],
    ["email", "ada@example.com", "ada@example.com"],
    ["email", " ada@example.com ", "ada@example.com"],
    ["email", "", ""],
    ["number", "42", 42],
    ["number", " 3.5 ", 3.5],
    ["number", "-7", -7],
    ["number", 12, 12],
    ["number", "", ""],
    ["number", "   ", ""],
    ["checkbox", "on", true],
    ["checkbox", "ON", true],
    ["checkbox", "true", true],
    ["checkbox", "1", true],
    ["checkbox", "yes", true],
    ["checkbox", true, true],
    ["checkbox", "off", false],
    ["checkbox", "false", false],
    ["checkbox", "0", false],
    ["checkbox", "no", false],
    ["checkbox", "", false],
    ["checkbox", false, false],
    ["select", "pro", "pro"],
    ["select", " free ", "free"],
    ["date", "2024-02-29", "2024-02-29"],
    ["date", "2023-12-31", "2023-12-31"],
    ["url", "https://example.com/path?q=1", "https://example.com/path?q=1"],
    ["url", "http://localhost:8080", "http://localhost:8080"],
    ["tel", "+1 (415) 555-0100", "+1 (415) 555-0100"],
    ["tel", "030 1234567", "030 1234567"],
    ["hidden", "crm-4711", "crm-4711"],
  ];

  it.each(cases)("%s %j → %j", (type, input, expected) => {
    expect(coerceFieldValue(field(type), input, PATH)).toStrictEqual(expected);
  });
});

describe("coerceFieldValue refuses, naming the path and the rule", () => {
  const cases: [FieldType, FieldValue, string][] = [
    ["text", 5, "must be text"],
    ["text", true, "must be text"],
    ["email", "ada@example", "must be an email address"],
    ["email", "ada example@x.com", "must be an email address"],
    ["email", "@example.com", "must be an email address"],
    ["email", `${"a".repeat(250)}@x.com`, "must be an email address"],
    ["number", "abc", "must be a number"],
    ["number", "12abc", "must be a number"],
    ["number", "Infinity", "must be a number"],
    ["number", Number.NaN, "must be a number"],
    ["number", true, "must be a number"],
    ["checkbox", "maybe", "must be true or false"],
    ["checkbox", 1, "must be true or false"],
    ["select", "enterprise", 'must be one of "free", "pro"'],
    ["select", "Pro", 'must be one of "free", "pro"'],
    ["date", "2024-02-30", "must be a date as YYYY-MM-DD"],
    ["date", "2023-02-29", "must be a date as YYYY-MM-DD"],
    ["date", "2024-13-01", "must be a date as YYYY-MM-DD"],
    ["date", "2024-04-31", "must be a date as YYYY-MM-DD"],
    ["date", "2024-1-05", "must be a date as YYYY-MM-DD"],
    ["date", "05/01/2024", "must be a date as YYYY-MM-DD"],
    ["url", "ftp://example.com/file", "must be an http or https URL"],
    ["url", "example.com", "must be an http or https URL"],
    ["url", "javascript:alert(1)", "must be an http or https URL"],
    ["tel", "12", "must be a telephone number"],
    ["tel", "call me", "must be a telephone number"],
    ["tel", "(--)", "must be a telephone number"],
  ];

  it.each(cases)("%s %j → %s", (type, input, rule) => {
    const error = thrown(() => coerceFieldValue(field(type), input, PATH));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe(PATH);
    expect(error.message).toBe(`${PATH}: ${rule}`);
  });
});
