import { runEngineModel } from "@agent-sessions/core/testing";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("mysql");
if (database) runEngineModel({ name: "sql on MariaDB", create: () => database.store(), destroy: () => {}, runs: 100 });
