// The engine model over a memory store behind a codec: every command of every kind, with clock
// moves and ticks, reads back through encryption as the reference model says.
import { createAesGcmCodec, encryptStore } from "@agent-sessions/core";
import { runEngineModel } from "@agent-sessions/core/testing";
import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";

const codec = createAesGcmCodec({ keys: [{ id: "model", key: globalThis.crypto.getRandomValues(new Uint8Array(32)) }] });
await runEngineModel({ name: "memory behind a codec", create: () => encryptStore(new MemoryStore(), codec), runs: 100, test: vitest });
