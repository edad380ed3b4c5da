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

  it("ties a key to the record its request created, so purging the record removes the key with it", async () => {
    const store = new MemoryStore();
    const [first] = twoInstances(store);
    const created = (await (await first!("once")).json()) as { id: string };
    const other = createEngine({ store });
    const keyOfNothing = await store.reserveIdempotencyKey(
      ORG,
      "unrelated",
      { fingerprint: "f", expiresAt: Date.now() + 60_000, response: null },
      Date.now(),
    );
    expect(keyOfNothing).toBeNull();
    await other.workflows.complete(ORG, created.id);
    // Completed a moment ago: a purge of what ended before now + 1 s takes it, and its key.
    const removed = await createEngine({ store, clock: () => Date.now() + 1000 }).purge({ olderThan: 1 });
    expect(removed.removed).toMatchObject({ records: 1, idempotency: 1 });
    const again = await first!("once");
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(((await again.json()) as { id: string }).id).not.toBe(created.id);
    // The key of no record stays.
    expect(
      await store.reserveIdempotencyKey(ORG, "unrelated", { fingerprint: "g", expiresAt: Date.now() + 60_000, response: null }, Date.now()),
    ).toMatchObject({
      fingerprint: "f",
    });
  });
});
