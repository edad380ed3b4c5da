import { type Cluster, type Redis, ReplyError } from "ioredis";
import {
  CLAIM_DUE_SCRIPT,
  CLAIM_OUTBOX_SCRIPT,
  FINISH_OUTBOX_SCRIPT,
  OUTBOX_LEASES_SCRIPT,
  RENEW_OUTBOX_SCRIPT,
  SETTLE_OUTBOX_SCRIPT,
} from "./scripts/claims.js";
import { DELIVERY_LOG_SCRIPT, LOG_DELIVERIES_SCRIPT } from "./scripts/deliveries.js";
import { PURGE_SCRIPT } from "./scripts/purge.js";
import { COMPLETE_IDEMPOTENCY_SCRIPT, LIST_SCRIPT, RESERVE_IDEMPOTENCY_SCRIPT } from "./scripts/reads.js";
import { COMPARE_AND_SET_SCRIPT, INSERT_SCRIPT, INSERT_WITHIN_LIMIT_SCRIPT } from "./scripts/write.js";

/** A single Redis or a Redis Cluster client of ioredis. */
export type RedisClient = Redis | Cluster;

type ScriptCall = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** The store's scripts, each called as one EVALSHA (EVAL the first time on a connection). */
export interface Scripts {
  readonly insert: ScriptCall;
  readonly insertWithinLimit: ScriptCall;
  readonly compareAndSet: ScriptCall;
  readonly list: ScriptCall;
  readonly claimDue: ScriptCall;
  readonly claimOutbox: ScriptCall;
  readonly settleOutbox: ScriptCall;
  readonly finishOutbox: ScriptCall;
  readonly renewOutbox: ScriptCall;
  readonly outboxLeases: ScriptCall;
  readonly logDeliveries: ScriptCall;
  readonly deliveryLog: ScriptCall;
  readonly reserveIdempotency: ScriptCall;
  readonly completeIdempotency: ScriptCall;
  readonly purge: ScriptCall;
}

const DEFINITIONS: Record<keyof Scripts, { lua: string; numberOfKeys: number }> = {
  insert: { lua: INSERT_SCRIPT, numberOfKeys: 7 },
  insertWithinLimit: { lua: INSERT_WITHIN_LIMIT_SCRIPT, numberOfKeys: 8 },
  compareAndSet: { lua: COMPARE_AND_SET_SCRIPT, numberOfKeys: 7 },
  list: { lua: LIST_SCRIPT, numberOfKeys: 1 },
  claimDue: { lua: CLAIM_DUE_SCRIPT, numberOfKeys: 1 },
  claimOutbox: { lua: CLAIM_OUTBOX_SCRIPT, numberOfKeys: 1 },
  settleOutbox: { lua: SETTLE_OUTBOX_SCRIPT, numberOfKeys: 1 },
  finishOutbox: { lua: FINISH_OUTBOX_SCRIPT, numberOfKeys: 1 },
  renewOutbox: { lua: RENEW_OUTBOX_SCRIPT, numberOfKeys: 1 },
  outboxLeases: { lua: OUTBOX_LEASES_SCRIPT, numberOfKeys: 1 },
  logDeliveries: { lua: LOG_DELIVERIES_SCRIPT, numberOfKeys: 1 },
  deliveryLog: { lua: DELIVERY_LOG_SCRIPT, numberOfKeys: 2 },
  reserveIdempotency: { lua: RESERVE_IDEMPOTENCY_SCRIPT, numberOfKeys: 1 },
  completeIdempotency: { lua: COMPLETE_IDEMPOTENCY_SCRIPT, numberOfKeys: 1 },
  purge: { lua: PURGE_SCRIPT, numberOfKeys: 1 },
};

/**
 * Defines the scripts on the client with ioredis's `defineCommand`, which sends EVALSHA and falls
 * back to EVAL on NOSCRIPT (a restarted or failed-over server). The command names carry a digest
 * of the script, so two versions of this package can share one client.
 */
export function defineScripts(client: RedisClient): Scripts {
  const commands = client as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  const scripts = {} as Record<keyof Scripts, ScriptCall>;
  const coalesce = writeCoalescer(client);
  for (const [name, definition] of Object.entries(DEFINITIONS) as [keyof Scripts, (typeof DEFINITIONS)[keyof Scripts]][]) {
    const command = `agentSessions_${name}_${digest(definition.lua)}`;
    if (typeof commands[command] !== "function") client.defineCommand(command, definition);
    scripts[name] = (keys, args) => {
      coalesce();
      return commands[command]!(...keys, ...args);
    };
  }
  return scripts;
}

/**
 * Makes the scripts called within one turn of the event loop (the transitions of a claimed batch,
 * the settles after a delivery log write) leave in one write: the client's socket is corked at
 * the first and uncorked once the turn's callbacks ran. A busy worker spent more on one write
 * system call per command than on Redis itself. A cluster client has a socket per node, left as is.
 */
function writeCoalescer(client: RedisClient): () => void {
  let corked = false;
  return () => {
    const stream = (client as { stream?: { cork?: () => void; uncork?: () => void } }).stream;
    if (corked || client.status !== "ready" || typeof stream?.cork !== "function" || typeof stream.uncork !== "function") return;
    corked = true;
    stream.cork();
    process.nextTick(() => {
      corked = false;
      stream.uncork!();
    });
  };
}

/** A short, stable digest of a script's text (FNV-1a), to name its command. */
export function digest(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** Errors after which the same command may have run or not: the connection dropped, or the cluster was moving. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof ReplyError) return /^(TRYAGAIN|CLUSTERDOWN|LOADING|MASTERDOWN)/.test(error.message);
  return true;
}

/**
 * Runs an idempotent command, sending it again when the connection dropped before its answer came
 * (ioredis resends what it had in flight when it reconnects; this covers the cases where it gave
 * up instead). Only for commands that are safe to run twice: reads, and the transition scripts
 * with their write token.
 */
export async function withReconnect<T>(client: RedisClient, call: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || client.status === "end" || !isConnectionError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    }
  }
}
