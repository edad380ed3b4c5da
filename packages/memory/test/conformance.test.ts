import { runStoreConformance } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";

await runStoreConformance({ name: "memory", create: () => new MemoryStore(), test: vitest });
