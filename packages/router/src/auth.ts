import { sha256 } from "@noble/hashes/sha2.js";

/** One API key and the organization it belongs to, as configured. */
export interface ApiKey {
  readonly orgId: string;
  readonly key: string;
}

/** Who made a request: the organization its key belongs to. */
export interface Principal {
  readonly orgId: string;
}

/** Finds the organization of a request, or `null` when it carries no valid credentials. */
export type Authenticate = (request: Request) => Promise<Principal | null> | Principal | null;

const encoder = new TextEncoder();

/** SHA-256 of a text's UTF-8 bytes, computed synchronously. */
export type Sha256 = (text: string) => Uint8Array;

/** SHA-256 in JavaScript, on every runtime. */
export const portableSha256: Sha256 = (text) => sha256(encoder.encode(text));

interface NodeCrypto {
  hash?: (algorithm: string, data: string, encoding: "buffer") => Uint8Array;
  createHash?: (algorithm: string) => { update(data: string): { digest(): Uint8Array } };
}

/**
 * The runtime's native SHA-256 where it offers a synchronous one (Node, Bun and Deno through
 * `process.getBuiltinModule`), found by feature detection so the router still imports nothing
 * of Node's; else `null`. Web Crypto's digest is asynchronous and, on Node, a job on the thread
 * pool per call, which cost a third of a request's time; the native hash is about twice as fast
 * as the JavaScript one.
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
  if (typeof hash === "function") return (text) => hash("sha256", text, "buffer");
  if (typeof createHash === "function") return (text) => createHash("sha256").update(text).digest();
  return null;
}

const digest: Sha256 = nativeSha256() ?? portableSha256;

/** Compares two digests in time that depends only on their length. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

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
  const digests = keys.map(({ orgId, key }) => ({ orgId, digest: digest(key) }));
  return (request) => {
    const key = presentedKey(request);
    if (key === null) return null;
    const presented = digest(key);
    let found: string | null = null;
    for (const stored of digests) {
      if (constantTimeEqual(presented, stored.digest) && found === null) found = stored.orgId;
    }
    return found === null ? null : { orgId: found };
  };
}
