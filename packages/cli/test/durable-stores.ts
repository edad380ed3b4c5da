// The durable stores `serve` runs on in the crash tests, each in a place of its own: an SQLite file
// in a fresh directory, a fresh PostgreSQL schema, a fresh MariaDB database, a random Redis prefix.
// A server that does not answer fails the run when CI=true, and otherwise skips loudly.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One store for one test: the URL `serve --store` takes, and how to remove what it left. */
export interface DurableStore {
  readonly name: string;
  readonly url: string;
  /** Why its server cannot be used, or `null` when it answers. */
  readonly unreachable: () => Promise<string | null>;
  readonly cleanup: () => Promise<void>;
}

/** The durable stores by name, each a fresh place named after `label` and a random tag. */
export const DURABLE_STORES = {
  SQLite: sqliteStore,
  PostgreSQL: postgresStore,
  MariaDB: mariadbStore,
  Redis: redisStore,
} as const;

/** The name of a durable store. */
export type DurableStoreName = keyof typeof DURABLE_STORES;

function freshName(label: string): string {
  return `${label}_${randomBytes(4).toString("hex")}`;
}

function sqliteStore(label: string): DurableStore {
  const dir = mkdtempSync(join(tmpdir(), `agent-sessions-${label}-`));
  return {
    name: "SQLite",
    url: `sqlite:${join(dir, "store.db")}`,
    unreachable: async () => null,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresStore(label: string): DurableStore {
  const schema = freshName(label);
  const connect = async () => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test", connectionTimeoutMillis: 3000 });
    client.on("error", () => {});
    await client.connect();
    return client;
  };
  return {
    name: "PostgreSQL",
    url: `postgres://postgres@127.0.0.1:5432/test?schema=${schema}`,
    unreachable: () => failure(async () => (await connect()).end()),
    cleanup: async () => {
      const client = await connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

function mariadbStore(label: string): DurableStore {
  const database = freshName(label);
  const connect = async () => {
    const { default: mysql } = await import("mysql2/promise");
    return mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", connectTimeout: 3000 });
  };
  return {
    name: "MariaDB",
    url: `mysql://root@127.0.0.1:3306/test?schema=${database}`,
    unreachable: () => failure(async () => (await connect()).end()),
    cleanup: async () => {
      const connection = await connect();
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    },
  };
}

function redisStore(label: string): DurableStore {
  const prefix = freshName(label).replace(/_/g, "-");
  const connect = async () => {
    const { Redis } = await import("ioredis");
    const client = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    await client.connect();
    return client;
  };
  return {
    name: "Redis",
    url: `redis://127.0.0.1:6379?prefix=${prefix}`,
    unreachable: () => failure(async () => (await connect()).disconnect()),
    cleanup: async () => {
      const client = await connect();
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `*${prefix}*`, "COUNT", 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      client.disconnect();
    },
  };
}

/** What `attempt` threw, as text, or `null` when it succeeded. */
async function failure(attempt: () => Promise<unknown>): Promise<string | null> {
  try {
    await attempt();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Whether the test may run on `store`: its server answers. Under CI=true a store that does not
 * answer throws; otherwise the test is to be skipped, after a warning naming the store.
 */
export async function usable(store: DurableStore, what: string): Promise<boolean> {
  const why = await store.unreachable();
  if (why === null) return true;
  if (process.env.CI === "true") throw new Error(`${store.name} is unreachable (CI=true: ${what} needs it): ${why}`);
  console.warn(`\n!!! ${store.name} is unreachable (${why}): SKIPPING ${what} on it !!!\n`);
  return false;
}
