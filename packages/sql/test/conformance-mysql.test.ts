import { runStoreConformance } from "@agent-sessions/core/testing";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("mysql");
if (database) runStoreConformance({ name: "sql on MariaDB", create: () => database.store(), destroy: () => {} });
