import { decodeNotification, encodeNotification, InvalidInputError, type NotificationListener, type Notifier } from "@agent-sessions/core";
import type { Notification, Pool, PoolClient } from "pg";
import { openPostgresPool, parseStoreUrl } from "./open.js";

/** Options of `createPostgresNotifier`. */
export interface PostgresNotifierOptions {
  /**
   * A `pg` pool on the store's database. Announcements use it one query at a time; listening
   * holds one of its connections for as long as there are listeners.
   */
  readonly pool: Pool;
  /** The LISTEN/NOTIFY channel every instance of one deployment shares. Default: `"agent_sessions"`. */
  readonly channel?: string;
  /** After a listening connection fails, how long before listening again. Default: 1000 ms. */
  readonly reconnectMs?: number;
  /** Told of a failed listening connection (it is replaced) and failed announcements. Default: ignored. */
  readonly onError?: (error: Error) => void;
}

/** A notifier over PostgreSQL LISTEN/NOTIFY. */
export interface PostgresNotifier extends Notifier {
  /** Stops listening and gives the listening connection back to the pool; the pool is the caller's. */
  close(): Promise<void>;
}

/**
 * Announces writes to every engine sharing a PostgreSQL store through LISTEN/NOTIFY, so a
 * long-poll or an event stream held on one instance wakes for a write made on another. A
 * payload is `[orgId, recordId, seq]` as JSON. A notification is a hint: the receiving engine
 * reads what changed from the store, so one lost while a listening connection is replaced costs
 * only a later wake-up.
 *
 * @example
 * const pool = new pg.Pool({ connectionString: "postgres://localhost/app", max: 2 });
 * const engine = createEngine({ store, notifier: createPostgresNotifier({ pool }) });
 */
export function createPostgresNotifier(options: PostgresNotifierOptions): PostgresNotifier {
  const channel = options.channel ?? "agent_sessions";
  if (typeof channel !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(channel)) {
    throw new InvalidInputError("channel", "must be an identifier of letters, digits and underscores, at most 63 characters");
  }
  const reconnectMs = options.reconnectMs ?? 1000;
  if (!Number.isFinite(reconnectMs) || reconnectMs < 0) throw new InvalidInputError("reconnectMs", "must be a number of milliseconds ≥ 0");
  const report = (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error)));
  const listeners = new Set<NotificationListener>();
  let connection: PoolClient | null = null;
  let connecting: Promise<void> | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const onNotification = (message: Notification) => {
    if (message.channel !== channel || message.payload === undefined) return;
    const parsed = decodeNotification(message.payload);
    if (!parsed) return;
    for (const listener of [...listeners]) listener(parsed[0], parsed[1], parsed[2]);
  };

  const onConnectionError = (error: Error) => {
    report(error);
    const failed = connection;
    connection = null;
    failed?.off("notification", onNotification);
    failed?.release(error); // a broken connection leaves the pool
    scheduleListen();
  };

  function scheduleListen(): void {
    if (closed || listeners.size === 0 || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void listen();
    }, reconnectMs);
    retry.unref?.();
  }

  function listen(): Promise<void> {
    if (closed || connection || connecting) return connecting ?? Promise.resolve();
    connecting = (async () => {
      let client: PoolClient | null = null;
      try {
        client = await options.pool.connect();
        client.on("notification", onNotification);
        client.on("error", onConnectionError);
        await client.query(`LISTEN "${channel}"`);
        if (closed) {
          client.release();
          return;
        }
        connection = client;
      } catch (error) {
        if (client) {
          client.off("notification", onNotification);
          client.off("error", onConnectionError);
          client.release(error instanceof Error ? error : true);
        }
        report(error);
        scheduleListen();
      } finally {
        connecting = null;
      }
    })();
    return connecting;
  }

  return {
    async publish(orgId, recordId, seq) {
      const payload = encodeNotification(orgId, recordId, seq);
      await options.pool.query("SELECT pg_notify($1, $2)", [channel, payload]);
    },
    subscribe(listener) {
      listeners.add(listener);
      void listen();
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      clearTimeout(retry);
      await connecting;
      const held = connection;
      connection = null;
      if (!held) return;
      held.off("notification", onNotification);
      held.off("error", onConnectionError);
      try {
        await held.query(`UNLISTEN "${channel}"`);
        held.release();
      } catch (error) {
        held.release(error instanceof Error ? error : true);
      }
    },
  };
}

/**
 * Opens a notifier on a pool of its own (two connections) to the database a `postgres://` URL
 * names; its `close()` ends that pool. For when the store was opened from a URL too.
 *
 * @example
 * const notifier = await openPostgresNotifier("postgres://localhost/app");
 */
export async function openPostgresNotifier(url: string, options: Omit<PostgresNotifierOptions, "pool"> = {}): Promise<PostgresNotifier> {
  // The store's own ?schema= and ?table_prefix= are not the driver's; they also name the channel,
  // so deployments sharing a database in different schemas do not wake each other.
  const { dialect, target, tables } = parseStoreUrl(url);
  if (dialect !== "postgres") throw new InvalidInputError("url", "must be a postgres:// or postgresql:// URL; LISTEN/NOTIFY is PostgreSQL's");
  const scope = [tables.schema, tables.tablePrefix]
    .filter(Boolean)
    .join("_")
    .replace(/[^A-Za-z0-9_]/g, "_");
  const channel = options.channel ?? (scope ? `agent_sessions_${scope}`.slice(0, 63) : undefined);
  const pool = await openPostgresPool(target, 2);
  const notifier = createPostgresNotifier({ ...options, ...(channel ? { channel } : {}), pool });
  return {
    publish: notifier.publish,
    subscribe: notifier.subscribe,
    async close() {
      await notifier.close();
      await pool.end();
    },
  };
}
