import { InvalidInputError, redactUrl } from "@agent-sessions/core";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { RedisStore } from "./redis-store.js";
import type { RetentionOptions } from "./retention.js";

/** Options of `openRedisStore`. */
export interface OpenRedisStoreOptions {
  /** Starts every key (inside its hash tag). Default: `"agent-sessions"`. */
  readonly prefix?: string;
  /** Gives terminal records a time to live, to reclaim space. Default: kept forever. */
  readonly retention?: RetentionOptions;
  /** Extra ioredis options for the client (or for each node's client in a cluster). */
  readonly redisOptions?: RedisOptions;
  /** Extra ioredis options for the `Cluster` client of a `redis+cluster://` URL. */
  readonly clusterOptions?: ClusterOptions;
}

/** Where a URL points: one server, or the seed nodes of a cluster. */
export type RedisTarget = (
  | { readonly mode: "single"; readonly options: RedisOptions }
  | { readonly mode: "cluster"; readonly nodes: { host: string; port: number }[]; readonly options: RedisOptions }
) & {
  /** The key prefix a `?prefix=` query names, if any. */
  readonly prefix?: string;
};

const DEFAULT_PREFIX = "agent-sessions";

/**
 * Opens a store on a new ioredis client, and quits that client on `store.close()`.
 *
 * - `redis://[user:password@]host[:port][/db]` — one server (port 6379 and db 0 by default)
 * - `rediss://…` — the same over TLS
 * - `redis+cluster://[user:password@]host:port,host:port,…` (or `rediss+cluster://`) — a Redis
 *   Cluster, from one or more seed nodes
 * - `?prefix=app` on any of them — the key prefix, when `options.prefix` does not give one
 *
 * @throws InvalidInputError naming the part of the URL or option that is wrong.
 */
export function openRedisStore(url: string, options: OpenRedisStoreOptions = {}): RedisStore {
  const target = parseRedisUrl(url);
  const prefix = options.prefix ?? target.prefix ?? DEFAULT_PREFIX;
  // Commands issued in one turn of the event loop (a batch of transitions, settles) leave in one
  // write: on a busy worker the write system calls, not Redis, were the cost.
  const redisOptions = { ...target.options, ...options.redisOptions };
  const client = target.mode === "cluster" ? new Cluster(target.nodes, { ...options.clusterOptions, redisOptions }) : new Redis(redisOptions);
  try {
    return new RedisStore({ client, prefix, closeClient: true, ...(options.retention ? { retention: options.retention } : {}) });
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/**
 * Reads a store URL into ioredis options.
 *
 * @throws InvalidInputError naming the part of the URL that is wrong.
 */
export function parseRedisUrl(url: string): RedisTarget {
  if (typeof url !== "string" || url.length === 0) throw new InvalidInputError("url", "must be a redis://, rediss:// or redis+cluster:// URL");
  const query = url.indexOf("?");
  if (query === -1) return parseTarget(url);
  const prefix = readPrefix(url.slice(query + 1), url);
  return { ...parseTarget(url.slice(0, query)), ...(prefix !== undefined ? { prefix } : {}) };
}

/** Reads the query of a store URL: `prefix` is the only parameter. */
function readPrefix(query: string, url: string): string | undefined {
  let prefix: string | undefined;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name !== "prefix")
      throw new InvalidInputError("url", `query parameter "${name}" is not known; the only one is prefix, as in redis://host:6379?prefix=app`);
    if (value === "" || /[{}]/.test(value))
      throw new InvalidInputError(
        "url",
        `prefix must be non-empty and without '{' or '}' (got ${JSON.stringify(value)} in ${JSON.stringify(redactUrl(url))})`,
      );
    prefix = value;
  }
  return prefix;
}

function parseTarget(url: string): RedisTarget {
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "redis+cluster" || scheme === "rediss+cluster") return parseClusterUrl(url, scheme === "rediss+cluster");
  if (scheme !== "redis" && scheme !== "rediss") {
    throw new InvalidInputError(
      "url",
      `scheme must be redis://, rediss://, redis+cluster:// or rediss+cluster:// (got ${JSON.stringify(redactUrl(url))})`,
    );
  }
  // Read the port before URL does, which refuses one out of range without saying so.
  const written = /^[a-z]+:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):([^/?#]*)/i.exec(url)?.[1];
  if (written !== undefined) port(written, url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError("url", `is not a valid URL: ${JSON.stringify(redactUrl(url))}`);
  }
  if (!parsed.hostname) throw new InvalidInputError("url", `has no host: ${JSON.stringify(redactUrl(url))}`);
  const options: RedisOptions = { host: stripBrackets(parsed.hostname), port: port(parsed.port, url), ...credentials(parsed) };
  const path = parsed.pathname.replace(/^\//, "");
  if (path !== "") {
    if (!/^\d+$/.test(path)) throw new InvalidInputError("url", `database must be a whole number, as in redis://host:6379/2 (got "/${path}")`);
    options.db = Number(path);
  }
  if (scheme === "rediss") options.tls = { servername: stripBrackets(parsed.hostname) };
  return { mode: "single", options };
}

function parseClusterUrl(url: string, tls: boolean): RedisTarget {
  const rest = url.slice(url.indexOf("://") + 3).replace(/\/$/, "");
  const at = rest.lastIndexOf("@");
  const hosts = at === -1 ? rest : rest.slice(at + 1);
  const options: RedisOptions = at === -1 ? {} : credentials(new URL(`redis://${rest.slice(0, at + 1)}localhost`));
  if (hosts.includes("/")) throw new InvalidInputError("url", "a cluster URL has no database: Redis Cluster only has db 0");
  const nodes = hosts.split(",").map((node) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(node.trim());
    if (!match) throw new InvalidInputError("url", `cluster node must be host:port (got ${JSON.stringify(node)})`);
    return { host: stripBrackets(match[1]!), port: port(match[2]!, url) };
  });
  if (tls) options.tls = {};
  return { mode: "cluster", nodes, options };
}

function port(text: string, url: string): number {
  if (text === "") return 6379;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidInputError("url", `port must be 1-65535 (got ${JSON.stringify(text)} in ${JSON.stringify(redactUrl(url))})`);
  }
  return value;
}

function credentials(parsed: URL): Pick<RedisOptions, "username" | "password"> {
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
