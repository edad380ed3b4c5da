// The engine's invariants under concurrent callers on MariaDB: limits, commuting commands, one winner.
import { runEngineConcurrency } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("mysql");
if (database) await runEngineConcurrency({ name: "sql on MariaDB", create: () => database.store(), destroy: () => {}, test: vitest });
