import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";
import { runWorkerConformance } from "../src/testing.js";
import { httpReceiver } from "./http-receiver.js";

runWorkerConformance({ name: "memory store, node:http receiver", create: () => new MemoryStore(), receiver: httpReceiver, test: vitest });
