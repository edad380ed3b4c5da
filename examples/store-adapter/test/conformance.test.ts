import { runStoreConformance } from "@agent-sessions/core/testing";
import * as vitest from "vitest";
import { MapStore } from "../map-store.js";

await runStoreConformance({ name: "MapStore", create: () => new MapStore(), test: vitest });
