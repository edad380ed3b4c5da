import { runEngineModel } from "@agent-sessions/core/testing";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("postgres");
if (database) runEngineModel({ name: "sql on PostgreSQL", create: () => database.store(), destroy: () => {}, runs: 100 });
