import { runStoreConformance } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { openTestDatabase, rawDump } from "./servers.js";

// As `openSqlStore` runs it (each statement prepared once per connection), and as a Kysely of the
// user's own runs it unless wrapped (every statement unnamed, parsed and planned on each run).
for (const prepare of [true, false]) {
  const database = await openTestDatabase("postgres", { prepare });
  const name = prepare ? "sql on PostgreSQL" : "sql on PostgreSQL, statements unprepared";
  if (database) await runStoreConformance({ name, create: () => database.store(), destroy: () => {}, test: vitest, rawDump });
}
