import type { IdempotencyStore } from "../store.js";
import { concurrently, orgId, T0 } from "./fixtures.js";
import type { TestRunner } from "./runner.js";

/** How a test file hands the idempotency block a bare `IdempotencyStore` (the router's default, or one of your own). */
export interface IdempotencyConformanceOptions {
  /** Names the implementation in test titles. */
  readonly name: string;
  /** A fresh, empty `IdempotencyStore`, once per test. */
  readonly create: () => IdempotencyStore | Promise<IdempotencyStore>;
  /** Removes what `create` made. Default: nothing. */
  readonly destroy?: (keys: IdempotencyStore) => void | Promise<void>;
  readonly test: TestRunner;
  /** How many callers race for one key. Default: 20. */
  readonly concurrency?: number;
}

/** What a test of the block runs on: the keys, and an organization of its own. */
export interface IdempotencyContext {
  readonly keys: IdempotencyStore;
  readonly org: string;
}

/**
 * The one block every `IdempotencyStore` passes, whether a store's capability or standalone:
 * the first request is stored and handed to the next until it expires, a response recorded once
 * is handed back, keys are kept apart per organization, a released key is free again (and a
 * completion after the release stores nothing), and exactly one of concurrent callers reserves
 * a key.
 */
export function describeIdempotency(test: TestRunner, context: () => IdempotencyContext, racers: number): void {
  const { it, expect } = test;
  const entry = (fingerprint: string, expiresAt = T0 + 60_000) => ({ fingerprint, expiresAt, response: null });

  it("stores the first request, returns it to the next, and expires it", async () => {
    const { keys, org } = context();
    expect(await keys.reserveIdempotencyKey(org, "key-1", entry("a"), T0)).toBeNull();
    expect(await keys.reserveIdempotencyKey(org, "key-1", entry("b"), T0 + 1)).toEqual(entry("a"));
    await keys.completeIdempotencyKey(org, "key-1", { status: 201, body: { id: "sess_1" } });
    expect(await keys.reserveIdempotencyKey(org, "key-1", entry("b"), T0 + 2)).toEqual({
      ...entry("a"),
      response: { status: 201, body: { id: "sess_1" } },
    });
    expect(await keys.reserveIdempotencyKey(org, "key-1", entry("c", T0 + 120_000), T0 + 60_000)).toBeNull();
    expect(await keys.reserveIdempotencyKey(org, "key-1", entry("d"), T0 + 60_001)).toMatchObject({ fingerprint: "c" });
  });

  it("keeps keys apart per organization, and forgets a released key", async () => {
    const { keys, org } = context();
    expect(await keys.reserveIdempotencyKey(org, "key-2", entry("a"), T0)).toBeNull();
    expect(await keys.reserveIdempotencyKey(orgId(), "key-2", entry("b"), T0)).toBeNull();
    await keys.releaseIdempotencyKey(org, "key-2");
    expect(await keys.reserveIdempotencyKey(org, "key-2", entry("c"), T0)).toBeNull();
    expect(await keys.reserveIdempotencyKey(org, "key-2", entry("d"), T0)).toEqual(entry("c"));
  });

  it("stores nothing for a completion that comes after its key was released", async () => {
    const { keys, org } = context();
    expect(await keys.reserveIdempotencyKey(org, "key-4", entry("a"), T0)).toBeNull();
    await keys.releaseIdempotencyKey(org, "key-4");
    await keys.completeIdempotencyKey(org, "key-4", { status: 201 });
    expect(await keys.reserveIdempotencyKey(org, "key-4", entry("b"), T0)).toBeNull();
    expect(await keys.reserveIdempotencyKey(org, "key-4", entry("c"), T0)).toEqual(entry("b"));
  });

  it(`lets exactly one of ${racers} concurrent requests reserve a key`, async () => {
    const { keys, org } = context();
    const results = await concurrently(racers, (index) => keys.reserveIdempotencyKey(org, "key-3", entry(`f${index}`), T0));
    const winners = results.flatMap((result, index) => (result === null ? [index] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => result !== null)).toEqual(Array(racers - 1).fill(entry(`f${winners[0]}`)));
  });
}

/** Runs the idempotency block over a standalone `IdempotencyStore`, such as the router's default `MemoryIdempotencyStore`. */
export function runIdempotencyConformance(options: IdempotencyConformanceOptions): void {
  const { test } = options;
  test.describe(`IdempotencyStore conformance: ${options.name}`, () => {
    let keys: IdempotencyStore;
    let org: string;
    test.beforeEach(async () => {
      keys = await options.create();
      org = orgId();
    });
    test.afterEach(async () => {
      await options.destroy?.(keys);
    });
    describeIdempotency(test, () => ({ keys, org }), options.concurrency ?? 20);
  });
}
