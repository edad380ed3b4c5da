// The fuzz on one SQL dialect, in a fresh schema, database or file of its own (dropped after the
// file) from the SQL store's own test support.
import type { SqlDialect } from "@agent-sessions/sql";
import { expect, it } from "vitest";
import { openTestDatabase } from "../../../sql/test/servers.js";
import { runRouterFuzz } from "./harness.js";
import { knownFor } from "./known.js";

/** Registers the fuzz of `dialect` with at least `requests` requests. */
export async function fuzzSql(dialect: SqlDialect, requests: number): Promise<void> {
  const database = await openTestDatabase(dialect);
  if (!database) return;
  const name = dialect;
  it(`answers ${requests} generated and hostile requests on ${name}: no 5xx, one error shape, no write behind a refusal`, async () => {
    const store = await database.store();
    const stats = await runRouterFuzz({ name, store, requests, known: knownFor(name) });
    console.info(`router fuzz on ${name}: ${JSON.stringify(stats)}`);
    expect(stats.fiveHundreds).toBe(0);
  }, 240_000);
}
