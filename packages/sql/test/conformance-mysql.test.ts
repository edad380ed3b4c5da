import { runStoreConformance } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { openTestDatabase, rawDump } from "./servers.js";

const database = await openTestDatabase("mysql");
if (database) await runStoreConformance({ name: "sql on MariaDB", create: () => database.store(), destroy: () => {}, test: vitest, rawDump });
