import { constantTimeEqual } from "@agent-sessions/core";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** One API key and the organization it belongs to, as configured. */
export interface ApiKey {
  readonly orgId: string;
  readonly key: string;
  /** A name for the key, recorded as who decided (`decided_by: "<org>/<label>"`). Default: `key_` and the start of the key's SHA-256. */
  readonly label?: string;
}

/** Who made a request: the organization its key belongs to. */
export interface Principal {
  readonly orgId: string;
  /** The bucket of the per-key rate limit this request counts in. Default: the organization's. */
  readonly rateLimitKey?: string;
  /** The key's name, recorded with the decisions it makes (`decided_by: "<org>/<label>"`). */
  readonly label?: string;
}

/** Finds the organization of a request, or `null` when it carries no valid credentials. */
export type Authenticate = (request: Request) => Promise<Principal | null> | Principal | null;

const encoder = new TextEncoder();

/** SHA-256 of a text's UTF-8 bytes as 64 lowercase hex digits, computed synchronously. */
export type Sha256 = (text: string) => string;

/** SHA-256 in JavaScript, on every runtime. */
export const portableSha256: Sha256 = (text) => bytesToHex(sha256(encoder.encode(text)));

interface NodeCrypto {
  hash?: (algorithm: string, data: string, encoding: "hex") => string;
  createHash?: (algorithm: string) => { update(data: string): { digest(encoding: "hex"): string } };
}

/**
 * The runtime's native SHA-256 where it offers a synchronous one (Node, Bun and Deno through
 * `process.getBuiltinModule`), found by feature detection so the router still imports nothing
 * of Node's; else `null`. Web Crypto's digest is asynchronous and, on Node, a job on the thread
 * pool per call, which cost a third of a request's time. The digest comes back as hex: asked for
 * a buffer, Node allocates an ArrayBuffer per call, which costs three times the hash.
 */
export function nativeSha256(): Sha256 | null {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof runtime?.getBuiltinModule !== "function") return null;
  let crypto: NodeCrypto | undefined;
  try {
    crypto = runtime.getBuiltinModule("node:crypto") as NodeCrypto | undefined;
  } catch {
    return null;
  }
  const { hash, createHash } = crypto ?? {};
  if (typeof hash === "function") return (text) => hash("sha256", text, "hex");
  if (typeof createHash === "function") return (text) => createHash("sha256").update(text).digest("hex");
  return null;
}

const digest: Sha256 = nativeSha256() ?? portableSha256;

/** The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(request: Request): string | null {
  const authorization = request.headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1]! : null;
  }
  const header = request.headers.get("x-api-key");
  return header ? header.trim() || null : null;
}

/**
 * Builds an `Authenticate` from configured keys. Only SHA-256 digests of the keys are kept; a
 * presented key is hashed and compared with every stored digest in constant time, so neither the
 * timing nor an early exit tells how close a guess came.
 */
export function apiKeyAuthenticator(keys: readonly ApiKey[]): Authenticate {
  // Each key's principal is made once. Its rate-limit bucket is named by the start of the key's
  // digest, which every instance given the same key computes alike, and which tells nothing of it.
  const digests = keys.map(({ orgId, key, label }) => {
    const keyDigest = digest(key);
    // A key without a label is named by the start of its digest: it tells keys apart, and nothing of them.
    return {
      digest: keyDigest,
      principal: Object.freeze({ orgId, rateLimitKey: keyDigest.slice(0, 16), label: label ?? `key_${keyDigest.slice(0, 8)}` }),
    };
  });
  return (request) => {
    const key = presentedKey(request);
    if (key === null) return null;
    const presented = digest(key);
    let found: Principal | null = null;
    for (const stored of digests) {
      if (constantTimeEqual(presented, stored.digest) && found === null) found = stored.principal;
    }
    return found;
  };
}
