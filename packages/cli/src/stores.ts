import { AgentSessionsError, type Notifier, type RateLimiter, redactUrl, type Store, type StoreNotifier } from "@agent-sessions/core";
import { type DurabilityFinding, probeRedisDurability, probeSqlDurability } from "./durability.js";
import { UsageError } from "./errors.js";

/** Where `serve` keeps sessions: in this process, in an SQL database, or in Redis. */
export type StoreSpec =
  | { readonly kind: "memory" }
  | { readonly kind: "sql"; readonly url: string; readonly source: string }
  | { readonly kind: "redis"; readonly url: string; readonly source: string };

/** The SQLite file `serve` uses when no store is named: the first run needs no server. */
export const DEFAULT_STORE = "sqlite:./agent-sessions.db";

/** The environment variable naming the store, when `--store` is not given. */
export const STORE_ENV = "AGENT_SESSIONS_STORE";

/** What `--store` accepts, for help texts and messages. */
export const STORE_FORMS = [
  "memory",
  "sqlite:<file> (?synchronous=normal; or sqlite::memory:)",
  "postgres://user@host/db (?schema=…&table_prefix=…)",
  "mysql://user@host/db (MariaDB too)",
  "redis://host:port (?prefix=app)",
  "redis+cluster://host:port,host:port",
] as const;

const SQL_SCHEMES = new Set(["sqlite", "postgres", "postgresql", "mysql", "mariadb"]);
const REDIS_SCHEMES = new Set(["redis", "rediss", "redis+cluster", "rediss+cluster"]);

/**
 * Reads a store as given to `--store` (or `AGENT_SESSIONS_STORE`): `memory`, `sqlite` alone for
 * the default file, or a URL. Only the scheme is judged here; the adapter judges the rest and
 * names the part of the URL that is wrong.
 */
export function parseStoreSpec(text: string, source: string): StoreSpec {
  const value = text.trim();
  if (value === "memory") return { kind: "memory" };
  if (value === "sqlite") return { kind: "sql", url: DEFAULT_STORE, source };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined && SQL_SCHEMES.has(scheme)) return { kind: "sql", url: value, source };
  if (scheme !== undefined && REDIS_SCHEMES.has(scheme)) return { kind: "redis", url: value, source };
  throw new UsageError(`${source}: unknown store '${redactUrl(value)}'; give one of: ${STORE_FORMS.join(", ")}`);
}

/** The store `--store` names, else `AGENT_SESSIONS_STORE`, else the default file. */
export function storeSpecOf(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): StoreSpec {
  if (flag !== undefined) return parseStoreSpec(flag, "--store");
  return parseStoreSpec(env[STORE_ENV] ?? DEFAULT_STORE, env[STORE_ENV] === undefined ? "default store" : STORE_ENV);
}

/** The store as shown in the banner: a URL without its password. */
export function describeStore(spec: StoreSpec): string {
  return spec.kind === "memory" ? "memory" : redactUrl(spec.url);
}

/**
 * A store opened for `serve`, with what tells its other instances of a write: Redis pub/sub,
 * PostgreSQL LISTEN/NOTIFY, or for MySQL and SQLite a short poll of the store by long-polls.
 */
export interface OpenedStore {
  readonly store: Store;
  readonly notifier: Notifier | null;
  /** How often long-polls read the store again when there is no notifier; `null` when none is needed. */
  readonly pollIntervalMs: number | null;
  /** A rate limiter that every instance on the store shares (Redis); absent, limits are counted in memory. */
  readonly rateLimiter?: RateLimiter;
  /**
   * Resolves once the store answers and its schema is the one this release needs (`GET /readyz`);
   * rejects saying why not.
   */
  ready(): Promise<void>;
  /** The store's settings that let an acknowledged write be lost to an OS crash (see `durability.ts`); none for memory. */
  durability(): Promise<DurabilityFinding[]>;
  /** Closes the notifier, then the store. */
  close(): Promise<void>;
}

/** A read no record answers: it proves the store takes queries, and finds nothing. */
const PROBE = { orgId: "org_readyz", id: "readyz" } as const;

/** How often long-polls on MySQL and SQLite look for writes made by another instance. */
export const STORE_POLL_MS = 250;

/**
 * Opens the store a spec names. An SQL store is migrated first unless `migrate` is false: the
 * migrations are versioned and idempotent, and a schema newer than this release is refused with
 * a message saying so. Adapters are imported only when named, so `memory` loads no driver.
 */
export async function openStore(spec: StoreSpec, options: { readonly migrate?: boolean } = {}): Promise<OpenedStore> {
  try {
    return await open(spec, options.migrate ?? true);
  } catch (error) {
    // The adapter judged the URL itself (a missing host, a bad port): a usage mistake, exit code 2.
    if (error instanceof AgentSessionsError && error.code === "invalid_input" && spec.kind !== "memory") {
      throw new UsageError(`${spec.source}: ${error.message}`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not open the store ${describeStore(spec)}: ${reason}`, { cause: error });
  }
}

/** How long `openStore` waits for a Redis server to answer before giving up. */
const REDIS_PROBE_MS = 5000;

async function open(spec: StoreSpec, migrate: boolean): Promise<OpenedStore> {
  switch (spec.kind) {
    case "memory": {
      const { MemoryStore } = await import("@agent-sessions/memory");
      const store = new MemoryStore();
      return { store, notifier: null, pollIntervalMs: null, ready: async () => {}, durability: async () => [], close: async () => {} };
    }
    case "sql":
      return openSql(spec.url, migrate);
    case "redis":
      return openRedis(spec.url);
  }
}

async function openSql(url: string, migrate: boolean): Promise<OpenedStore> {
  const { LATEST_SCHEMA_VERSION, openPostgresNotifier, openSqlStore } = await import("@agent-sessions/sql");
  const store = await openSqlStore(url);
  try {
    if (migrate) await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  // Each probe asks the database again: the schema version (migrations applied), then a read.
  const ready = async () => {
    const version = await store.schemaVersion();
    if (version !== LATEST_SCHEMA_VERSION) {
      throw new Error(`the schema is at version ${version}; this release needs ${LATEST_SCHEMA_VERSION} (run agent-sessions migrate)`);
    }
    await store.get(PROBE.orgId, PROBE.id);
  };
  const durability = () => probeSqlDurability(store);
  if (store.dialect !== "postgres") {
    return { store, notifier: null, pollIntervalMs: STORE_POLL_MS, ready, durability, close: () => store.close() };
  }
  // Announcements and the LISTEN connection get a small pool of their own, beside the store's.
  const notifier = await openPostgresNotifier(url, {
    onError: (error) => console.error(`agent-sessions: LISTEN connection: ${error.message}`),
  });
  return { ...notified(store, notifier), ready, durability };
}

async function openRedis(url: string): Promise<OpenedStore> {
  const { createRedisRateLimiter, openRedisStore } = await import("@agent-sessions/redis");
  const store = openRedisStore(url);
  // ioredis reports each failed (re)connection as an "error" event; unheard, it prints a stack.
  let probing = true;
  let lastError: Error | null = null;
  let lastReport = 0;
  store.client.on("error", (error: Error) => {
    lastError = error;
    if (probing || Date.now() - lastReport < 10_000) return; // one line per 10 s while Redis is away
    lastReport = Date.now();
    console.error(`agent-sessions: redis: ${error.message} (reconnecting)`);
  });
  // ioredis connects in the background and retries for ever; a server that is not there
  // should stop the start, not hang the first request.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const probe = Promise.race([
    store.get("probe", "probe"),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${REDIS_PROBE_MS / 1000} s${lastError ? ` (${lastError.message})` : ""}`)),
        REDIS_PROBE_MS,
      );
    }),
  ]);
  try {
    await probe;
  } catch (error) {
    store.client.disconnect();
    await store.close().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
    probing = false;
  }
  return {
    ...notified(store, store.createNotifier()),
    rateLimiter: createRedisRateLimiter({ client: store.client, prefix: store.prefix }),
    // ioredis queues commands while it reconnects: a probe that waits for that is not ready.
    ready: async () => {
      if (store.client.status !== "ready")
        throw new Error(`the Redis connection is ${store.client.status}${lastError ? ` (${lastError.message})` : ""}`);
      await store.get(PROBE.orgId, PROBE.id);
    },
    durability: () => probeRedisDurability(store.client),
  };
}

/** A store with the notifier that wakes its other instances; closing closes the notifier first. */
function notified(store: Store & { close(): Promise<void> }, notifier: StoreNotifier): Omit<OpenedStore, "ready" | "durability"> {
  return {
    store,
    notifier,
    pollIntervalMs: null,
    async close() {
      await notifier.close();
      await store.close();
    },
  };
}
