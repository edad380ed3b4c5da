import type { IdempotencyStore } from "@agent-sessions/core";
import { errorResponse, respond } from "./http.js";

/** A response as remembered under an `Idempotency-Key`. */
interface RememberedResponse {
  readonly status: number;
  readonly body: string;
  readonly contentType: string | null;
}

const encoder = new TextEncoder();

async function fingerprint(request: Request, text: string): Promise<string> {
  const url = new URL(request.url);
  const digest = await globalThis.crypto.subtle.digest("SHA-256", encoder.encode(`${request.method} ${url.pathname}\n${text}`));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs a creating request at most once per `Idempotency-Key`: a retry with the same key and body
 * gets the first response again (with `Idempotent-Replayed: true`); the same key with another body
 * is refused (422); a retry while the first still runs is refused (409). A response of 500 or more
 * forgets the key, so the retry runs again.
 */
export async function withIdempotency(
  keys: IdempotencyStore,
  call: { orgId: string; key: string; request: Request; text: string; ttlMs: number; now: number },
  run: () => Promise<Response>,
): Promise<Response> {
  if (call.key.length === 0 || call.key.length > 255) {
    return errorResponse(400, "Idempotency-Key: must be 1 to 255 characters");
  }
  const { now } = call;
  const print = await fingerprint(call.request, call.text);
  const existing = await keys.reserveIdempotencyKey(call.orgId, call.key, { fingerprint: print, expiresAt: now + call.ttlMs, response: null }, now);
  if (existing) {
    if (existing.fingerprint !== print) {
      return errorResponse(422, "Idempotency-Key: this key was already used with a different request");
    }
    const remembered = existing.response as RememberedResponse | null;
    if (!remembered) return errorResponse(409, "Idempotency-Key: a request with this key is still in progress");
    const headers: Record<string, string> = { "idempotent-replayed": "true" };
    if (remembered.contentType) headers["content-type"] = remembered.contentType;
    return respond(remembered.body, { status: remembered.status, headers });
  }
  let response: Response;
  try {
    response = await run();
  } catch (error) {
    await keys.releaseIdempotencyKey(call.orgId, call.key);
    throw error;
  }
  if (response.status >= 500) {
    await keys.releaseIdempotencyKey(call.orgId, call.key);
    return response;
  }
  const body = await response.text();
  const remembered: RememberedResponse = { status: response.status, body, contentType: response.headers.get("content-type") };
  await keys.completeIdempotencyKey(call.orgId, call.key, remembered, createdId(response.status, body));
  return respond(body, { status: response.status, headers: response.headers });
}

/**
 * The id of the record a successful request created, read from its JSON body (`{ "id": … }`),
 * so the store removes the key's entry when it purges that record; `undefined` otherwise.
 */
function createdId(status: number, body: string): string | undefined {
  if (status < 200 || status > 299) return undefined;
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === "string" && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
