import { expect } from "vitest";
import { createIdGenerator, type ErrorCode, isAgentSessionsError, type Transition } from "../../src/index.js";

/** The moment every fixture starts from. */
export const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** Ids of the real shape (`prefix_` + 32 lowercase hex digits). */
export const newId = createIdGenerator(() => T0);

/** What a (state, command) pair is expected to do. */
export type Outcome =
  | { readonly kind: "accepted"; readonly status: string; readonly events: readonly string[] }
  | { readonly kind: "noop" }
  | { readonly kind: "refused"; readonly code: ErrorCode };

/** Accepted: the next status and the exact list of event types, in order. */
export function accepted(status: string, ...events: string[]): Outcome {
  return { kind: "accepted", status, events };
}

/** Accepted as an idempotent repeat: the same state object and no events. */
export const noop: Outcome = { kind: "noop" };

/** Refused with this error code. */
export function refused(code: ErrorCode): Outcome {
  return { kind: "refused", code };
}

export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case "accepted":
      return `→ ${outcome.status} [${outcome.events.join(", ")}]`;
    case "noop":
      return "→ idempotent no-op";
    case "refused":
      return `→ refused ${outcome.code}`;
  }
}

/** Asserts that `result`, the answer to a command on `before`, is `expected`. */
export function expectOutcome<S>(result: Transition<S>, before: S, statusOf: (state: S) => string, expected: Outcome): void {
  switch (expected.kind) {
    case "accepted":
      if (!result.ok) throw new Error(`expected acceptance, got ${result.error.code}: ${result.error.message}`);
      expect(statusOf(result.state)).toBe(expected.status);
      expect(result.events.map((event) => event.type)).toEqual(expected.events);
      expect(result.state).not.toBe(before);
      break;
    case "noop":
      if (!result.ok) throw new Error(`expected a no-op, got ${result.error.code}: ${result.error.message}`);
      expect(result.state).toBe(before);
      expect(result.events).toEqual([]);
      break;
    case "refused":
      if (result.ok) {
        throw new Error(`expected ${expected.code}, got acceptance with [${result.events.map((e) => e.type).join(", ")}]`);
      }
      expect(isAgentSessionsError(result.error)).toBe(true);
      expect(result.error.code).toBe(expected.code);
      break;
  }
}

/** One named row of a transition table. */
export type Row<C> = readonly [title: string, status: string, command: string, input: C, expected: Outcome];

/**
 * Flattens a `status → command → outcome` matrix into table rows. The matrix type names every
 * status and every command, so a missing pair is a type error, and `rows` checks it again at run time.
 */
export function tableRows<St extends string, Cn extends string, C>(
  matrix: Readonly<Record<St, Readonly<Record<Cn, Outcome>>>>,
  commands: Readonly<Record<Cn, C>>,
  label = "",
): Row<C>[] {
  const rows: Row<C>[] = [];
  const commandNames = Object.keys(commands) as Cn[];
  for (const status of Object.keys(matrix) as St[]) {
    const byCommand = matrix[status];
    const missing = commandNames.filter((name) => !(name in byCommand));
    if (missing.length > 0) throw new Error(`table has no row for ${status} + ${missing.join(", ")}`);
    for (const name of commandNames) {
      const expected = byCommand[name];
      rows.push([`${status} + ${name}${label} ${describeOutcome(expected)}`, status, name, commands[name], expected]);
    }
  }
  return rows;
}

/** Freezes a fixture all the way down, so a machine that mutates its input throws. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** The state of an accepted transition; fails the test on a refusal. */
export function ok<S>(result: Transition<S>): S {
  if (!result.ok) throw new Error(`expected acceptance, got ${result.error.code}: ${result.error.message}`);
  return result.state;
}

/** The error of a refused transition; fails the test on an acceptance. */
export function refusal<S>(result: Transition<S>) {
  if (result.ok) throw new Error(`expected a refusal, got [${result.events.map((e) => e.type).join(", ")}]`);
  return result.error;
}

/** The error a function throws; fails the test when it returns. */
export function thrown(run: () => unknown): Error & { code?: string; field?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string; field?: string };
  }
  throw new Error("expected the call to throw");
}
