// The engine's invariants under concurrent callers on PostgreSQL: limits, commuting commands, one winner.
import { runEngineConcurrency } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("postgres");
if (database) await runEngineConcurrency({ name: "sql on PostgreSQL", create: () => database.store(), destroy: () => {}, test: vitest });
