import { InvalidInputError } from "./errors.js";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+)(ms|s|m|h|d|w)$/;

/**
 * A duration in milliseconds from text such as `"30d"`, `"12h"`, `"90m"`, `"45s"`, `"500ms"` or
 * `"2w"` (a whole number and one unit), or from a number of milliseconds. The engine's options and
 * the CLI's flags read durations through it, so both accept the same forms; a value it cannot read
 * is an `InvalidInputError` naming `field`.
 */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw new InvalidInputError(field, `must be a positive whole number of milliseconds, got ${value}`);
  }
  const match = typeof value === "string" ? DURATION.exec(value.trim()) : null;
  const ms = match ? Number(match[1]) * UNITS[match[2]!]! : 0;
  if (!match || !Number.isSafeInteger(ms) || ms <= 0) {
    throw new InvalidInputError(field, `must be a duration such as "30d", "12h", "90m" or "45s", got ${JSON.stringify(value)}`);
  }
  return ms;
}
