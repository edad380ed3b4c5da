import { MemoryStore } from "@agent-sessions/memory";
import { expect, it } from "vitest";
import { runRouterFuzz } from "./harness.js";
import { knownFor } from "./known.js";

it("answers 5,000 generated and hostile requests on memory: no 5xx, one error shape, no write behind a refusal", async () => {
  const stats = await runRouterFuzz({ name: "memory", store: new MemoryStore(), requests: 5000, known: knownFor("memory") });
  console.info(`router fuzz on memory: ${JSON.stringify(stats)}`);
  expect(stats.fiveHundreds).toBe(0);
}, 180_000);
