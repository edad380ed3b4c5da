import { runEngineConcurrency } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";

runEngineConcurrency({ name: "memory", create: () => new MemoryStore() });
