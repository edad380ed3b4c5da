import { decodeNotification, encodeNotification, InvalidInputError, type NotificationListener, type Notifier } from "@agent-sessions/core";
import type { Cluster, Redis } from "ioredis";

/** Options of `createRedisNotifier`. */
export interface RedisNotifierOptions {
  /** Publishes with this client; a duplicate of it subscribes (a subscribed connection can do nothing else). */
  readonly client: Redis | Cluster;
  /** The pub/sub channel every instance of one deployment shares. Default: `"agent-sessions:notify"`. */
  readonly channel?: string;
  /** Told of a connection error of the subscriber; ioredis reconnects and subscribes again by itself. Default: ignored. */
  readonly onError?: (error: Error) => void;
}

/** A notifier over Redis pub/sub, with the connection it subscribes on. */
export interface RedisNotifier extends Notifier {
  /** Unsubscribes and closes the subscriber connection; the publishing client is the caller's. */
  close(): Promise<void>;
}

/**
 * Announces writes to every engine sharing a Redis store, so a long-poll or an event stream held
 * on one instance wakes for a write made on another. A message is `[orgId, recordId, seq]` as
 * JSON; a lost one costs only a wake-up, because the receiving engine reads what changed from
 * the store. On a Redis Cluster, PUBLISH reaches the subscribers of every node.
 *
 * @example
 * const notifier = createRedisNotifier({ client });
 * const engine = createEngine({ store: new RedisStore({ client, prefix: "app" }), notifier });
 */
export function createRedisNotifier(options: RedisNotifierOptions): RedisNotifier {
  const channel = options.channel ?? "agent-sessions:notify";
  if (typeof channel !== "string" || channel === "") throw new InvalidInputError("channel", "must be a non-empty string");
  const publisher = options.client;
  const listeners = new Set<NotificationListener>();
  let subscriber: Redis | Cluster | null = null;
  let subscribed: Promise<unknown> | null = null;

  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    const parsed = decodeNotification(message);
    if (!parsed) return; // not ours: someone else publishes on the channel
    for (const listener of [...listeners]) listener(parsed[0], parsed[1], parsed[2]);
  };

  function listen(): void {
    if (subscriber) return;
    subscriber = publisher.duplicate();
    subscriber.on("error", options.onError ?? (() => {}));
    subscriber.on("message", onMessage);
    subscribed = subscriber.subscribe(channel).catch((error: unknown) => {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
    });
  }

  return {
    async publish(orgId, recordId, seq) {
      await publisher.publish(channel, encodeNotification(orgId, recordId, seq));
    },
    subscribe(listener) {
      listeners.add(listener);
      listen();
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      const closing = subscriber;
      subscriber = null;
      if (!closing) return;
      await subscribed;
      await closing.quit().catch(() => closing.disconnect());
    },
  };
}
