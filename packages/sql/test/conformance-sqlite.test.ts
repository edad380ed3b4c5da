import { runStoreConformance } from "@agent-sessions/core/testing";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("sqlite");
if (database) runStoreConformance({ name: "sql on SQLite", create: () => database.store(), destroy: () => {} });
