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

/**
 * SHA-256 computed synchronously in JavaScript: Web Crypto's digest is asynchronous and, on Node,
 * a job on the thread pool per call, which cost a third of a request's time.
 */
function digest(text: string): Uint8Array {
  return sha256(encoder.encode(text));
}

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
