import { runEngineModel } from "@agent-sessions/core/testing";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("sqlite");
if (database) runEngineModel({ name: "sql on SQLite", create: () => database.store(), destroy: () => {}, runs: 200 });
