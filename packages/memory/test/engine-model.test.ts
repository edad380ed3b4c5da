import { runEngineModel } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";

runEngineModel({ name: "memory", create: () => new MemoryStore(), runs: 1000 });
