import { STORE_CAPABILITIES, type Store, type StoreCapabilities, storeCapabilities } from "../store.js";

/** The matchers the suites use, as vitest's (and jest's) `expect` offers them. */
export interface Assertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toBeNull(): void;
  toHaveLength(length: number): void;
  toContain(item: unknown): void;
  toBeInstanceOf(type: abstract new (...args: never[]) => unknown): void;
  toBeGreaterThan(value: number): void;
  toBeLessThanOrEqual(value: number): void;
  toThrow(expected?: string | RegExp): void;
  readonly rejects: {
    toThrow(expected?: string | RegExp): Promise<void>;
    toMatchObject(expected: object): Promise<void>;
  };
}

/** `expect(actual, message?)` with the one asymmetric matcher the suites use. */
export interface Expect {
  (actual: unknown, message?: string): Assertion;
  stringContaining(text: string): unknown;
}

/**
 * The test runner a suite registers its tests with, passed in rather than imported, so core
 * depends on no runner: `import * as vitest from "vitest"` and pass `test: vitest`.
 */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  it: {
    (name: string, body: () => unknown, timeoutMs?: number): void;
    skip(name: string, body: () => void): void;
  };
  beforeEach(hook: () => unknown): void;
  afterEach(hook: () => unknown): void;
  beforeAll(hook: () => unknown): void;
  afterAll(hook: () => unknown): void;
  expect: Expect;
}

/** What every suite over a store is given. */
export interface StoreSuiteOptions {
  /** Names the adapter in test titles. */
  readonly name: string;
  /** A fresh, empty store in its own namespace (database, schema or key prefix), once per test. */
  readonly create: () => Store | Promise<Store>;
  /** Removes what `create` made. Default: `store.close()`. */
  readonly destroy?: (store: Store) => void | Promise<void>;
  /** The test runner: `describe`, `it`, `expect`, `beforeEach`, `afterEach`, `beforeAll`, `afterAll`. */
  readonly test: TestRunner;
  /**
   * The capabilities to test, for stores that `create` cannot make before the runner's hooks ran
   * (a server started in `beforeAll`). Default: read from a store made for that. Either way each
   * test's store must declare exactly these.
   */
  readonly capabilities?: StoreCapabilities;
  /**
   * Every row or key the store holds, each as one string (a table's row as JSON with its table's
   * name, a Redis key with one member, field or item), read past the Store contract: the suites
   * that must prove something is gone from storage (the purge block) or never stored (plaintext
   * under a codec) search it. Without it the purge checks go through the Store's reads alone,
   * and the plaintext checks are skipped under a title saying so.
   */
  readonly rawDump?: (store: Store) => Promise<string[]>;
}

/** Removes a store as the options say. */
export async function destroyStore(options: Pick<StoreSuiteOptions, "destroy">, store: Store): Promise<void> {
  if (options.destroy) await options.destroy(store);
  else await store.close?.();
}

/**
 * The capabilities the adapter's stores declare: `options.capabilities`, or read from one store
 * made and removed for it before any test is registered (which is why the suites that read them
 * return a promise).
 */
export async function probeCapabilities(options: StoreSuiteOptions): Promise<Required<StoreCapabilities>> {
  if (options.capabilities) {
    const given = options.capabilities;
    return Object.fromEntries(STORE_CAPABILITIES.map((name) => [name, given[name] ?? false])) as Required<StoreCapabilities>;
  }
  const probe = await options.create();
  try {
    return storeCapabilities(probe);
  } finally {
    await destroyStore(options, probe);
  }
}

/** Throws unless `store` declares exactly the capabilities its tests were registered for. */
export function checkCapabilities(store: Store, expected: Required<StoreCapabilities>): void {
  const declared = storeCapabilities(store);
  const differ = STORE_CAPABILITIES.filter((name) => declared[name] !== expected[name]);
  if (differ.length > 0) {
    throw new Error(`the store declares ${JSON.stringify(declared)}, but the suite was registered for ${JSON.stringify(expected)}`);
  }
}

/**
 * Registers `block` under `title` when the store declares `capability`; otherwise one skipped
 * test there says which flag it lacks.
 */
export function describeCapability(
  test: TestRunner,
  capabilities: Required<StoreCapabilities>,
  capability: keyof StoreCapabilities,
  title: string,
  block: () => void,
): void {
  test.describe(`${title} (capabilities.${capability})`, () => {
    if (capabilities[capability]) block();
    else test.it.skip(`skipped: the store does not declare capabilities.${capability}`, () => {});
  });
}
