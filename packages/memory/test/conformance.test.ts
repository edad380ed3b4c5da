import { runStoreConformance } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";

runStoreConformance({ name: "memory", create: () => new MemoryStore() });
