import { runStoreConformance } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";
import { rawDump } from "./raw-dump.js";

await runStoreConformance({ name: "memory", create: () => new MemoryStore(), rawDump, test: vitest });
