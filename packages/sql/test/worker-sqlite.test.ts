// Three engines on one sqlite store: expiries recorded once and delivered, leases taken over, actions run.
import { runWorkerConformance } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { httpReceiver } from "../../core/test/http-receiver.js";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("sqlite");
if (database)
  runWorkerConformance({ name: "sql on SQLite", create: () => database.store(), destroy: () => {}, receiver: httpReceiver, test: vitest });
