// The engine's invariants under concurrent callers on SQLite: limits, commuting commands, one winner.
import { runEngineConcurrency } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("sqlite");
if (database) await runEngineConcurrency({ name: "sql on SQLite", create: () => database.store(), destroy: () => {}, test: vitest });
