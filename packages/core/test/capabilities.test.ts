// A store's capability flags: checked when the engine is made, and read by the engine instead of
// the presence of a method.
import { MemoryStore } from "@agent-sessions/memory";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { createEngine, MemoryIdempotencyStore, type Store, storeCapabilities } from "../src/index.js";
import { runIdempotencyConformance } from "../src/testing.js";

const ORG = "org_00000000000000000000000000000001";

runIdempotencyConformance({ name: "MemoryIdempotencyStore (the router's default)", create: () => new MemoryIdempotencyStore(), test: vitest });

/** A memory store declaring `capabilities` instead of its own. */
function declaring(capabilities: object): Store {
  const store = new MemoryStore();
  Object.defineProperty(store, "capabilities", { value: capabilities });
  return store;
}

describe("store capabilities", () => {
  it("reads every flag, an absent one as false", () => {
    expect(storeCapabilities(declaring({ unscopedReads: true }))).toEqual({ unscopedReads: true, idempotency: false, notifier: false });
    expect(storeCapabilities(new MemoryStore())).toEqual({ unscopedReads: true, idempotency: true, notifier: true });
  });

  it("refuses a store that declares a capability without its methods, or declares nothing", () => {
    const store = declaring({ idempotency: true });
    Object.defineProperty(store, "completeIdempotencyKey", { value: undefined });
    expect(() => createEngine({ store })).toThrow("store: declares capabilities.idempotency but has no completeIdempotencyKey()");
    expect(() => createEngine({ store: declaring({ notifier: "yes" }) })).toThrow("store: capabilities.notifier must be a boolean");
    const bare = new MemoryStore();
    Object.defineProperty(bare, "capabilities", { value: undefined });
    expect(() => createEngine({ store: bare })).toThrow("store: must declare its capabilities");
  });

  it("offers the store's idempotency records only when it declares them", () => {
    const store = new MemoryStore();
    expect(createEngine({ store }).idempotency).toBe(store);
    expect(createEngine({ store: declaring({ unscopedReads: true }) }).idempotency).toBeNull();
  });

  it("finds no form session by id alone on a store without unscopedReads, even though it has getUnscoped", async () => {
    const store = declaring({ idempotency: true });
    const engine = createEngine({ store });
    const form = await engine.forms.create(ORG, { name: "Intake", fields: [{ name: "email", type: "email" }] });
    const session = await engine.formSessions.create(ORG, form.id, {});
    await expect(engine.formSessions.hosted(session.id)).rejects.toThrow("capabilities.unscopedReads");
    await expect(engine.formSessions.hostedSubmit(session.id, { email: "ada@example.com" })).rejects.toThrow("capabilities.unscopedReads");
    expect((await engine.formSessions.get(ORG, session.id)).id).toBe(session.id);
  });
});

describe("MemoryIdempotencyStore", () => {
  it("reclaims expired keys as new ones arrive, so a steady stream of keys stays bounded", async () => {
    const keys = new MemoryIdempotencyStore();
    const T0 = 1_750_000_000_000;
    for (let i = 0; i < 10_000; i++) {
      await keys.reserveIdempotencyKey(ORG, `key-${i}`, { fingerprint: "f", expiresAt: T0 + i + 100, response: null }, T0 + i);
    }
    expect(keys.size).toBeLessThanOrEqual(101);
  });
});
