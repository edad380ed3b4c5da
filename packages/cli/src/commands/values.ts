import { readFileSync } from "node:fs";
import { UsageError } from "../errors.js";

/** A whole number from a flag, at least `minimum`; the message names the flag and the rule. */
export function wholeNumber(flag: string, text: string, minimum: number, unit = ""): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < minimum) {
    throw new UsageError(`${flag}: '${text}' is not a whole number${unit ? ` of ${unit}` : ""} (${minimum} or more)`);
  }
  return Number(text);
}

/** Whole numbers of seconds, comma-separated (`600,60`), each 1 or more: a `remind_before` list. The server judges the rest (count, repeats, range). */
export function secondsList(flag: string, text: string): number[] {
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.some((entry) => !/^\d+$/.test(entry) || Number(entry) < 1)) {
    throw new UsageError(`${flag}: '${text}' is not a comma-separated list of whole numbers of seconds (e.g. ${flag} 600,60)`);
  }
  return entries.map(Number);
}

/** A number of seconds (fractions allowed) from a flag, more than 0. */
export function seconds(flag: string, text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || Number(text) <= 0) throw new UsageError(`${flag}: '${text}' is not a number of seconds (more than 0)`);
  return Number(text);
}

/**
 * Repeated `name=value` flags as an object: the value is everything after the first `=`. An entry
 * without `=`, with an empty name, or a name given twice is refused by name.
 */
export function pairs(flag: string, entries: readonly string[], example: string, what = "name"): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf("=");
    const name = at < 0 ? "" : entry.slice(0, at).trim();
    if (at < 0 || name === "") throw new UsageError(`${flag}: '${entry}' is not <${what}>=<value> (e.g. ${flag} ${example})`);
    if (Object.hasOwn(result, name)) throw new UsageError(`${flag}: ${name} is given twice`);
    result[name] = entry.slice(at + 1);
  }
  return result;
}

/**
 * Context variables from `KEY=text` (a string) and `KEY:=json` (any JSON value, e.g. `COUNT:=3`,
 * `FLAGS:=["a"]`); `--unset KEY` sends `null`, which removes the key.
 */
export function contextVariables(entries: readonly string[], unset: readonly string[]): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  const give = (name: string, value: unknown, entry: string) => {
    if (name === "") throw new UsageError(`'${entry}' is not KEY=VALUE or KEY:=JSON (e.g. USER_PLAN=enterprise)`);
    if (Object.hasOwn(variables, name)) throw new UsageError(`${name} is given twice`);
    variables[name] = value;
  };
  for (const entry of entries) {
    const at = entry.indexOf("=");
    if (at < 0) throw new UsageError(`'${entry}' is not KEY=VALUE or KEY:=JSON (e.g. USER_PLAN=enterprise)`);
    if (entry[at - 1] === ":") {
      const name = entry.slice(0, at - 1).trim();
      const text = entry.slice(at + 1);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new UsageError(`${name}: '${text}' is not JSON (KEY:=JSON takes a JSON value; use KEY=VALUE for text)`);
      }
      give(name, value, entry);
    } else {
      give(entry.slice(0, at).trim(), entry.slice(at + 1), entry);
    }
  }
  for (const name of unset) give(name.trim(), null, `--unset ${name}`);
  return variables;
}

/** Reads and parses a JSON file (`-` for standard input), naming the flag and the file on failure. */
export function jsonFile(flag: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : String(error);
    throw new UsageError(`${flag}: cannot read ${path}: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${flag}: ${path === "-" ? "standard input" : path} is not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The strings of a repeatable string flag. */
export function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : typeof value === "string" ? [value] : [];
}
