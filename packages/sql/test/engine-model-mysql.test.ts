import { runEngineModel } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("mysql");
if (database) await runEngineModel({ name: "sql on MariaDB", create: () => database.store(), destroy: () => {}, runs: 100, test: vitest });
