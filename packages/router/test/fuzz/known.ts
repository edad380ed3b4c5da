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

const ALL: readonly FuzzStoreName[] = ["memory", "sqlite", "postgres", "mysql", "redis"];

interface Entry {
  readonly todo: string;
  readonly stores: readonly FuzzStoreName[];
  readonly skip?: readonly HostileClass[];
  readonly tolerate?: readonly string[];
}

const KNOWN: readonly Entry[] = [
  // TODO(issue 16 rows 1-2, item 1): JSON nested thousands deep overflows the recursive copy (500), and memory keeps the record.
  { todo: "rows 1-2", stores: ALL, skip: ["deep"] },
  // TODO(issue 16 row 3, item 1): NUL and lone surrogates reach PostgreSQL (500); lone surrogates fail MariaDB's JSON check (500).
  { todo: "row 3", stores: ["postgres"], skip: ["nul", "surrogate"] },
  { todo: "row 3 (MariaDB)", stores: ["mysql"], skip: ["surrogate"] },
  // TODO(new, MariaDB): a stored record nested 32 levels fails the JSON_VALID check of the data column (500), so free-form
  // values nested ~30 levels (inside the limit of 32 that item 1 sets) cannot be stored there.
  { todo: "MariaDB JSON depth", stores: ["mysql"], skip: ["deepAtLimit"] },
  // TODO(issue 16 item 1): ids that cannot be ids reach the store instead of a 404 before it; on MariaDB a trailing space finds the record.
  { todo: "item 1 (ids)", stores: ALL, tolerate: ["store asked for an impossible id"] },
  { todo: "item 1 (ids, MariaDB)", stores: ["mysql"], skip: ["paddedId"] },
  // TODO(issue 16 rows 6 and 10, item 5): offsets and usage counters past 2^53 are accepted and echoed rounded, or summed to null;
  // and (new) usage takes keys outside ^[a-z][a-z0-9_]*$ with any value (-1, text), which sums concatenate.
  { todo: "rows 6, 10", stores: ALL, skip: ["hugeNumber"], tolerate: ["usage not a safe integer"] },
  // TODO(issue 16 row 7, item 6): form fields named after Object.prototype members break the hosted page.
  { todo: "row 7", stores: ALL, skip: ["protoField"] },
  // TODO(issue 16 row 8, item 7): webhook targets on special-purpose ranges are accepted (and then delivered to).
  { todo: "row 8", stores: ALL, skip: ["reservedTarget"] },
];

/** What the fuzz on `store` leaves out (nothing under FUZZ_STRICT=1). */
export function knownFor(store: FuzzStoreName): Known {
  const entries = process.env.FUZZ_STRICT ? [] : KNOWN.filter((entry) => entry.stores.includes(store));
  return {
    skips: new Set(entries.flatMap((entry) => entry.skip ?? [])),
    tolerated: new Set(entries.flatMap((entry) => entry.tolerate ?? [])),
  };
}
