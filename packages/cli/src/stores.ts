import { AgentSessionsError, type Store } from "@agent-sessions/core";
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
  "sqlite:<file> (or sqlite::memory:)",
  "postgres://user@host/db",
  "mysql://user@host/db (MariaDB too)",
  "redis://host:port",
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
  throw new UsageError(`${source}: unknown store '${redact(value)}'; give one of: ${STORE_FORMS.join(", ")}`);
}

/** The store as shown in the banner: a URL without its password. */
export function describeStore(spec: StoreSpec): string {
  return spec.kind === "memory" ? "memory" : redact(spec.url);
}

/**
 * Opens the store a spec names. An SQL store is migrated first unless `migrate` is false: the
 * migrations are versioned and idempotent, and a schema newer than this release is refused with
 * a message saying so. Adapters are imported only when named, so `memory` loads no driver.
 */
export async function openStore(spec: StoreSpec, options: { readonly migrate?: boolean } = {}): Promise<Store> {
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

async function open(spec: StoreSpec, migrate: boolean): Promise<Store> {
  switch (spec.kind) {
    case "memory": {
      const { MemoryStore } = await import("@agent-sessions/memory");
      return new MemoryStore();
    }
    case "sql": {
      const { openSqlStore } = await import("@agent-sessions/sql");
      const store = await openSqlStore(spec.url);
      try {
        if (migrate) await store.migrate();
        return store;
      } catch (error) {
        await store.close().catch(() => {});
        throw error;
      }
    }
    case "redis": {
      const { openRedisStore } = await import("@agent-sessions/redis");
      const store = openRedisStore(spec.url);
      // ioredis connects in the background and retries for ever; a server that is not there
      // should stop the start, not hang the first request.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const probe = Promise.race([
        store.get("probe", "probe"),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_PROBE_MS / 1000} s`)), REDIS_PROBE_MS);
        }),
      ]);
      try {
        await probe;
        return store;
      } catch (error) {
        await store.close().catch(() => {});
        throw error;
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** A URL with its password replaced, for messages and banners. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}
