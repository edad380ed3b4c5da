// What the fuzz leaves out until the fix of its row of issue 16 lands on main: hostile classes it
// does not generate, and rules whose failures it does not count. Each entry names the row or item
// of the issue and the stores; the lead removes an entry once its fix is merged. FUZZ_STRICT=1
// ignores this file, to see whether a fix has landed.
import type { HostileClass, Skips } from "./hostile.js";

/** The stores the fuzz runs on. */
export type FuzzStoreName = "memory" | "sqlite" | "postgres" | "mysql" | "redis";

/** What a store's fuzz leaves out. */
export interface Known {
  readonly skips: Skips;
  /** Rules (see `responses.ts`, `checks.ts`, `run.ts`) whose failures are not counted. */
  readonly tolerated: ReadonlySet<string>;
}

const _ALL: readonly FuzzStoreName[] = ["memory", "sqlite", "postgres", "mysql", "redis"];

interface Entry {
  readonly todo: string;
  readonly stores: readonly FuzzStoreName[];
  readonly skip?: readonly HostileClass[];
  readonly tolerate?: readonly string[];
}

// Empty: every class the fuzz generates is judged on every store. The MariaDB JSON depth entry
// (JSON_VALID refused documents nested 32 levels or more) went with schema version 2.
const KNOWN: readonly Entry[] = [];

/** What the fuzz on `store` leaves out (nothing under FUZZ_STRICT=1). */
export function knownFor(store: FuzzStoreName): Known {
  const entries = process.env.FUZZ_STRICT ? [] : KNOWN.filter((entry) => entry.stores.includes(store));
  return {
    skips: new Set(entries.flatMap((entry) => entry.skip ?? [])),
    tolerated: new Set(entries.flatMap((entry) => entry.tolerate ?? [])),
  };
}
