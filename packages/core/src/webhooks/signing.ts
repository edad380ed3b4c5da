/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com) with Web Crypto only, so they
 * run on Node, Bun, Deno and in workers alike.
 */

import { fromBase64, toBase64 } from "../bytes.js";
import { type HmacKey, hmacKey, hmacSha256 } from "./hmac-sha256.js";

/** The prefix of every endpoint secret. */
export const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

/** A new endpoint secret: `whsec_` and the base64 of 32 random bytes. */
export function createWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(globalThis.crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** Prepared keys by secret: preparing one hashes two blocks, more than signing a small body. */
const keys = new Map<string, HmacKey>();
const KEY_CACHE_SIZE = 1000;

function keyOf(secret: string): HmacKey {
  let key = keys.get(secret);
  if (!key) {
    key = hmacKey(fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret));
    if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value!);
    keys.set(secret, key);
  }
  return key;
}

const encoder = new TextEncoder();

/**
 * The `webhook-signature` header of one delivery: `v1,` and the base64 HMAC-SHA256, keyed with
 * the base64-decoded part of the secret after `whsec_`, of `${id}.${timestamp}.${body}`. Computed
 * synchronously (see `hmac-sha256.ts`); a promise for the callers that awaited Web Crypto's.
 */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  return signatureOf(secret, id, timestampSeconds, body);
}

function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${toBase64(hmacSha256(keyOf(secret), encoder.encode(`${id}.${timestampSeconds}.${body}`)))}`;
}

/** The three Standard Webhooks headers and the body of one event's delivery. */
export async function webhookRequest(
  secret: string,
  event: { id: string; type: string; timestamp: string; data: unknown },
  nowMs: number,
): Promise<{ headers: Record<string, string>; body: string }> {
  const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
  const timestamp = Math.floor(nowMs / 1000);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": event.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatureOf(secret, event.id, timestamp, body),
    },
  };
}
