import { runEngineModel } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";

await runEngineModel({ name: "memory", create: () => new MemoryStore(), runs: 1000, test: vitest });
