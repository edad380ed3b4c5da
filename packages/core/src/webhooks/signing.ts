/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com) with Web Crypto only, so they
 * run on Node, Bun, Deno and in workers alike.
 */

import { fromBase64, toBase64 } from "../bytes.js";

/** The prefix of every endpoint secret. */
export const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

/** A new endpoint secret: `whsec_` and the base64 of 32 random bytes. */
export function createWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(globalThis.crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** Imported keys by secret: importing costs more than signing one small body. */
const keys = new Map<string, Promise<CryptoKey>>();
const KEY_CACHE_SIZE = 1000;

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    const raw = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
    key = globalThis.crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value!);
    keys.set(secret, key);
  }
  return key;
}

const encoder = new TextEncoder();

/**
 * The `webhook-signature` header of one delivery: `v1,` and the base64 HMAC-SHA256, keyed with
 * the base64-decoded part of the secret after `whsec_`, of `${id}.${timestamp}.${body}`.
 */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const mac = await globalThis.crypto.subtle.sign("HMAC", await keyOf(secret), encoder.encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
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
      "webhook-signature": await signWebhook(secret, event.id, timestamp, body),
    },
  };
}
