import { runStoreConformance } from "@agent-sessions/core/testing";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("postgres");
if (database) runStoreConformance({ name: "sql on PostgreSQL", create: () => database.store(), destroy: () => {} });
