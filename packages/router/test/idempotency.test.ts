// Where the router remembers Idempotency-Keys: the store's records when it declares the
// capability, else its own per-process default, or the `idempotency` option.
import { createEngine, type IdempotencyStore, MemoryIdempotencyStore, type Store } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { describe, expect, it } from "vitest";

const KEY = "key_of_org_a";
const ORG = "org_00000000000000000000000000000001";

/** A memory store that declares no idempotency, and counts calls of its idempotency methods anyway. */
class StoreWithoutIdempotency extends MemoryStore {
  override readonly capabilities = { unscopedReads: true, idempotency: false, notifier: false } as const;
  idempotencyCalls = 0;
  override reserveIdempotencyKey(...args: Parameters<MemoryStore["reserveIdempotencyKey"]>) {
    this.idempotencyCalls++;
    return super.reserveIdempotencyKey(...args);
  }
}

/** Two routers over engines sharing one store, as two instances behind a load balancer. */
function twoInstances(store: Store, idempotency?: IdempotencyStore) {
  return [1, 2].map(() => {
    const router = createRouter({
      engine: createEngine({ store }),
      apiKeys: [{ orgId: ORG, key: KEY }],
      ...(idempotency ? { idempotency } : {}),
    });
    return (name: string) =>
      router.fetch(
        new Request("http://localhost/api/v1/sessions", {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "idempotency-key": "retry-1" },
          body: JSON.stringify({ name }),
        }),
      );
  });
}

describe("Idempotency-Key storage", () => {
  it("uses the store's records when it declares capabilities.idempotency: every instance replays the first response", async () => {
    const store = new MemoryStore();
    expect(createEngine({ store }).idempotency).toBe(store);
    const [first, second] = twoInstances(store);
    const created = await first!("once");
    const replayed = await second!("once");
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(await replayed.json()).toEqual(await created.json());
    expect((await second!("another")).status).toBe(422);
  });

  it("falls back to one MemoryIdempotencyStore per router when the store lacks the capability, never asking the store", async () => {
    const store = new StoreWithoutIdempotency();
    expect(createEngine({ store }).idempotency).toBeNull();
    const [first, second] = twoInstances(store);
    const created = (await (await first!("once")).json()) as { id: string };
    const replayed = await first!("once");
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(await replayed.json()).toEqual(created);
    // Per process: another instance does not know the key, and creates again.
    const elsewhere = await second!("once");
    expect(elsewhere.headers.get("idempotent-replayed")).toBeNull();
    expect(((await elsewhere.json()) as { id: string }).id).not.toBe(created.id);
    expect(store.idempotencyCalls).toBe(0);
  });

  it("uses the idempotency option over both, shared by the instances given it", async () => {
    const store = new StoreWithoutIdempotency();
    const shared = new MemoryIdempotencyStore();
    const [first, second] = twoInstances(store, shared);
    const created = await first!("once");
    const replayed = await second!("once");
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(await replayed.json()).toEqual(await created.json());
    expect(shared.size).toBe(1);
    expect(store.idempotencyCalls).toBe(0);
  });
});
