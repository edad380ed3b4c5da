// Three engines on one mysql store: expiries recorded once and delivered, leases taken over, actions run.
import { runWorkerConformance } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { httpReceiver } from "../../core/test/http-receiver.js";
import { openTestDatabase } from "./servers.js";

const database = await openTestDatabase("mysql");
if (database)
  runWorkerConformance({ name: "sql on MariaDB", create: () => database.store(), destroy: () => {}, receiver: httpReceiver, test: vitest });
