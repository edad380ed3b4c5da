/**
 * Encryption at rest: a `Codec` turns each JSON value the engine stores (a record's state, an
 * event's payload, an outbox message's payload, an idempotency response) into a JSON value a
 * store keeps without reading, and back. `createAesGcmCodec` is the built-in one, on Web Crypto
 * alone, so it runs on Node, Bun, Deno and in workers alike.
 */

import { fromBase64, fromBase64Url, toBase64Url } from "./bytes.js";
import { AgentSessionsError } from "./errors.js";

/**
 * Encrypts and decrypts the JSON values the engine stores. `context` names where a value lives
 * (its organization, its record, its place there); a codec binds the ciphertext to it, so a value
 * copied to another place fails to decrypt. `decode` hands back a value `encode` did not make
 * unchanged: records written before a codec was added stay readable. Implement it to keep keys in
 * a KMS; `createAesGcmCodec` is the built-in one.
 */
export interface Codec {
  /** The stored form of `value` (a JSON value), bound to `context`. */
  encode(value: unknown, context: string): Promise<unknown>;
  /** The value `encode` was given for this `context`; any other value unchanged. */
  decode(stored: unknown, context: string): Promise<unknown>;
}

/** One key of a key ring: a name stored beside each ciphertext, and 32 bytes (or their standard base64). */
export interface EncryptionKey {
  /** 1 to 64 of `A-Z a-z 0-9 _ . -`, e.g. `"2026-12"`; unique in the ring. */
  readonly id: string;
  /** The AES-256 key: 32 bytes, or the standard base64 of 32 bytes. */
  readonly key: Uint8Array | string;
}

/** `createAesGcmCodec`'s key ring. */
export interface AesGcmCodecOptions {
  /** The current key first (every value is written with it), then older ones, still read by their id. */
  readonly keys: readonly EncryptionKey[];
}

/**
 * A value as an AES-GCM codec stores it: `$enc` (the format, 1), the id of the key that encrypted
 * it, the 96-bit IV and the ciphertext with its 128-bit tag, both URL-safe base64.
 */
export interface EncryptedValue {
  readonly $enc: 1;
  readonly kid: string;
  readonly iv: string;
  readonly ct: string;
}

/** Whether `value` is what an AES-GCM codec stores (anything else was written without one). */
export function isEncryptedValue(value: unknown): value is EncryptedValue {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<EncryptedValue>;
  return candidate.$enc === 1 && typeof candidate.kid === "string" && typeof candidate.iv === "string" && typeof candidate.ct === "string";
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function keyBytes(key: unknown, at: string): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>;
  if (typeof key === "string") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(key.trim()) || key.trim().length % 4 !== 0) throw new TypeError(`${at}: is not standard base64`);
    bytes = fromBase64(key.trim());
  } else if (key instanceof Uint8Array) {
    bytes = new Uint8Array(key);
  } else {
    throw new TypeError(`${at}: must be 32 bytes (a Uint8Array) or their base64`);
  }
  if (bytes.length !== KEY_BYTES) throw new TypeError(`${at}: must be ${KEY_BYTES} bytes (AES-256), not ${bytes.length}`);
  return bytes;
}

/** What a failed decryption throws: the store holds a value this codec cannot read (the router answers 500). */
function unreadable(message: string, cause?: unknown): AgentSessionsError {
  return new AgentSessionsError("internal", `encryption: ${message}`, cause === undefined ? undefined : { cause });
}

/**
 * The built-in codec: AES-256-GCM through Web Crypto, with a random 96-bit IV per value and the
 * value's `context` as additional authenticated data. The first key of `keys` encrypts; every key
 * decrypts the values stored with its id, so rotating is putting a new key first and keeping the
 * old ones until every record was written again (each write of a record encrypts it with the
 * current key; events are never rewritten, so keep a key while timelines written with it matter).
 * A value stored with an id the ring lacks is refused with an error naming the id. Keys are
 * imported once, on first use. Rotate before a key encrypted some 2^32 values (the bound for
 * random IVs).
 */
export function createAesGcmCodec(options: AesGcmCodecOptions): Codec {
  const given = (options as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(given) || given.length === 0) throw new TypeError("createAesGcmCodec: keys must list at least one key, the current one first");
  const raw = new Map<string, Uint8Array<ArrayBuffer>>();
  given.forEach((entry: Partial<EncryptionKey>, index) => {
    const at = `createAesGcmCodec: keys[${index}]`;
    if (typeof entry?.id !== "string" || !KEY_ID.test(entry.id)) throw new TypeError(`${at}.id: must be 1 to 64 of A-Z a-z 0-9 _ . -`);
    if (raw.has(entry.id)) throw new TypeError(`${at}.id: "${entry.id}" is in the ring twice`);
    raw.set(entry.id, keyBytes(entry.key, `${at}.key`));
  });
  const current = (given[0] as EncryptionKey).id;
  const imported = new Map<string, Promise<CryptoKey>>();
  const cryptoKey = (id: string): Promise<CryptoKey> => {
    let key = imported.get(id);
    if (!key) {
      key = globalThis.crypto.subtle.importKey("raw", raw.get(id)!, "AES-GCM", false, ["encrypt", "decrypt"]);
      imported.set(id, key);
    }
    return key;
  };

  return {
    async encode(value, context) {
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`encryption: the value at ${context} is not JSON`);
      const sealed = await globalThis.crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
        await cryptoKey(current),
        encoder.encode(text),
      );
      return { $enc: 1, kid: current, iv: toBase64Url(iv), ct: toBase64Url(new Uint8Array(sealed)) } satisfies EncryptedValue;
    },

    async decode(stored, context) {
      if (!isEncryptedValue(stored)) return stored;
      if (!raw.has(stored.kid)) {
        throw unreadable(
          `the value at ${context} was encrypted with key "${stored.kid}", which is not in the key ring (${[...raw.keys()].join(", ")})`,
        );
      }
      let opened: ArrayBuffer;
      try {
        opened = await globalThis.crypto.subtle.decrypt(
          { name: "AES-GCM", iv: fromBase64Url(stored.iv), additionalData: encoder.encode(context) },
          await cryptoKey(stored.kid),
          fromBase64Url(stored.ct),
        );
      } catch (error) {
        throw unreadable(`the value at ${context} does not decrypt with key "${stored.kid}": altered, or copied from elsewhere`, error);
      }
      return JSON.parse(decoder.decode(opened));
    },
  };
}
