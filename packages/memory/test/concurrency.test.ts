import { runEngineConcurrency } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";

await runEngineConcurrency({ name: "memory", create: () => new MemoryStore(), test: vitest });
