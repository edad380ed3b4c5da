import { InvalidInputError } from "./errors.js";
import type { FieldValue, FormField } from "./kinds/form.js";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TEL = /^\+?[0-9 ().-]{3,32}$/;
const TRUE_TEXT = new Set(["on", "true", "1", "yes"]);
const FALSE_TEXT = new Set(["off", "false", "0", "no", ""]);

/** The value a record holds under `key` itself, never one its prototype lends (`constructor`). */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Checks a form definition's rules beyond its schema: unique names, options only on selects, and
 * no name every JavaScript object already has (`constructor`, `toString`, `__proto__`): values are
 * kept keyed by field name, in the engine and in every client that reads them.
 */
export function checkFormFields(fields: readonly FormField[]): void {
  const seen = new Set<string>();
  fields.forEach((field, index) => {
    const path = `fields[${index}]`;
    if (field.name in Object.prototype) {
      throw new InvalidInputError(`${path}.name`, `"${field.name}" is reserved: every JavaScript object has a member of that name`);
    }
    if (seen.has(field.name)) throw new InvalidInputError(`${path}.name`, `"${field.name}" is used by another field`);
    seen.add(field.name);
    if (field.type === "select" && !field.options?.length) {
      throw new InvalidInputError(`${path}.options`, "a select field needs at least one option");
    }
    if (field.type !== "select" && field.options !== undefined) {
      throw new InvalidInputError(`${path}.options`, "only select fields take options");
    }
    if (field.options && new Set(field.options).size !== field.options.length) {
      throw new InvalidInputError(`${path}.options`, "must not repeat an option");
    }
  });
}

/** True when a value counts as not given: absent, or blank text as an empty HTML input sends. */
export function isBlank(value: FieldValue | undefined): boolean {
  return value === undefined || (typeof value === "string" && value.trim() === "");
}

/**
 * Checks one value against its field and returns it in stored form (numbers as numbers, checkboxes
 * as booleans). Text from an HTML form is accepted for every type. Throws naming `path`.
 */
export function coerceFieldValue(field: FormField, value: FieldValue, path: string): FieldValue {
  if (field.type === "checkbox") {
    if (typeof value === "boolean") return value;
    if (typeof value === "string" && TRUE_TEXT.has(value.toLowerCase())) return true;
    if (typeof value === "string" && FALSE_TEXT.has(value.toLowerCase())) return false;
    throw new InvalidInputError(path, "must be true or false");
  }
  if (field.type === "number") {
    // An empty number input posts "": blank, so not given, as for every other type.
    if (typeof value === "string" && value.trim() === "") return "";
    const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof number !== "number" || !Number.isFinite(number)) throw new InvalidInputError(path, "must be a number");
    return number;
  }
  if (typeof value !== "string") throw new InvalidInputError(path, "must be text");
  const text = field.type === "textarea" ? value : value.trim();
  if (text === "") return text;
  switch (field.type) {
    case "email":
      if (text.length > 254 || !EMAIL.test(text)) throw new InvalidInputError(path, "must be an email address");
      return text;
    case "select":
      if (!field.options?.includes(text)) {
        throw new InvalidInputError(path, `must be one of ${field.options?.map((o) => JSON.stringify(o)).join(", ")}`);
      }
      return text;
    case "date":
      if (!isCalendarDate(text)) throw new InvalidInputError(path, "must be a date as YYYY-MM-DD");
      return text;
    case "url":
      if (!isHttpUrl(text)) throw new InvalidInputError(path, "must be an http or https URL");
      return text;
    case "tel":
      if (!TEL.test(text) || text.replace(/\D/g, "").length < 3) {
        throw new InvalidInputError(path, "must be a telephone number");
      }
      return text;
    default:
      return text;
  }
}

function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}
