import { type ErrorCode, isAgentSessionsError } from "@agent-sessions/core";

/** An HTTP status with the reason phrase the error bodies carry, as seed 001 writes them. */
const REASONS: Record<number, string> = {
  400: "Invalid request",
  401: "Unauthorized",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict",
  410: "Gone",
  413: "Payload too large",
  408: "Request timeout",
  415: "Unsupported media type",
  417: "Expectation failed",
  422: "Unprocessable content",
  429: "Too many requests",
  431: "Request header fields too large",
  500: "Internal server error",
};

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  not_found: 404,
  illegal_transition: 409,
  version_conflict: 409,
  conflict: 409,
  expired: 410,
  payload_too_large: 413,
  internal: 500,
};

const encoder = new TextEncoder();

// Shared by every JSON answer without headers of its own; frozen, as responses only read it.
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json; charset=utf-8" });

/** A constructor of responses: the global `Response`, or a faster one a server adapter offers. */
export type ResponseConstructor = new (body?: BodyInit | null, init?: ResponseInit) => Response;

let ResponseImpl: ResponseConstructor = globalThis.Response;

/**
 * Chooses the constructor the router builds its answers with (see `RouterOptions.Response`).
 * Set by the router as it dispatches; every choice is a valid Response, so routers that choose
 * differently in one process still answer correctly.
 */
export function useResponseConstructor(chosen: ResponseConstructor): void {
  ResponseImpl = chosen;
}

/** A response built with the chosen constructor. */
export function respond(body: BodyInit | null, init: ResponseInit): Response {
  return new ResponseImpl(body, init);
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return respond(JSON.stringify(body), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

/** An error response in the one shape every endpoint uses: `{ error, message }`. */
export function errorResponse(status: number, message: string, headers?: Record<string, string>): Response {
  return respond(errorBody(status, message), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

/** The JSON text of an error body, `{"error":"<reason>","message":"…"}`, for servers that answer before the router (serve's own edges). */
export function errorBody(status: number, message: string): string {
  return JSON.stringify({ error: REASONS[status] ?? "Error", message });
}

/** An error the router raises itself, with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What an error answers: its status, a message fit to show, and any headers (`Allow`). */
export interface ErrorAnswer {
  readonly status: number;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

/**
 * What anything thrown by a handler answers. Errors raised on purpose keep their message; anything
 * else is reported and answers 500 with the route's generic message and no internals.
 */
export function describeError(error: unknown, failure: string, report: (error: unknown) => void): ErrorAnswer {
  if (error instanceof HttpError) return { status: error.status, message: error.message, headers: error.headers };
  if (isAgentSessionsError(error) && error.code !== "internal") {
    return { status: STATUS_BY_CODE[error.code] ?? 500, message: error.message };
  }
  report(error);
  return { status: 500, message: failure };
}

/** Reads a request body as text, refusing more than `limit` bytes without reading past it. */
export function readBody(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  if (declared !== null && /^\d+$/.test(declared)) {
    // A declared length within the limit: the runtime reads at most that many bytes, in one go.
    // `request.body` is not touched first: on node:http adapters (srvx) that getter alone wraps
    // the socket in a web stream, which costs more than the rest of a create.
    return request.text().then((text) => {
      if (text.length * 3 > limit && encoder.encode(text).length > limit) throw tooLarge(limit);
      return text;
    });
  }
  return readStream(request, limit);
}

/** Reads a body of undeclared length chunk by chunk, stopping once it passes `limit`. */
async function readStream(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `the request body must be at most ${limit} bytes`);
}

/** Parses a JSON body; an empty body is `{}`. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Only a body that is not JSON is looked at twice: blank is `{}`, anything else is refused.
    if (text.trim() === "") return {};
    throw new HttpError(400, "the body is not valid JSON");
  }
}
