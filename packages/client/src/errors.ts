/**
 * What a call can fail with. The server's refusals are `ApiError`s carrying its JSON error body
 * (`{"error": "<HTTP reason>", "message": "<sentence>"}`); a request that never got an answer is a
 * `NetworkError` or a `TimeoutError`. A caller's own `AbortSignal` rejects with the signal's reason.
 */

/** The base of every error this client throws on purpose. */
export class AgentSessionsClientError extends Error {
  override name = "AgentSessionsClientError";
  /** The request that failed, e.g. `POST /v1/forms/support-intake/sessions`. */
  readonly request: string;

  constructor(message: string, request: string, options?: { cause?: unknown }) {
    super(message, options);
    this.request = request;
  }
}

/** The server answered with an error status; `error` and `message` are its error body. */
export class ApiError extends AgentSessionsClientError {
  override name = "ApiError";
  /** The HTTP status, e.g. 404. */
  readonly status: number;
  /** The HTTP reason of the body, e.g. `"Not found"`. */
  readonly error: string;
  /** The `X-Request-Id` header of the answer, when the server (or a proxy) sent one. */
  readonly requestId: string | null;
  /** Seconds the server asked to wait (`Retry-After`), when it sent them. */
  readonly retryAfter: number | null;
  /** The parsed body as received (the error body, or the text of a body that was not JSON). */
  readonly body: unknown;

  constructor(init: {
    status: number;
    error: string;
    message: string;
    request: string;
    requestId?: string | null;
    retryAfter?: number | null;
    body?: unknown;
  }) {
    super(init.message, init.request);
    this.status = init.status;
    this.error = init.error;
    this.requestId = init.requestId ?? null;
    this.retryAfter = init.retryAfter ?? null;
    this.body = init.body ?? null;
  }
}

/** The request got no answer: the connection was refused, reset or dropped (after any retries). */
export class NetworkError extends AgentSessionsClientError {
  override name = "NetworkError";
}

/** No answer came within the per-request timeout (after any retries). */
export class TimeoutError extends AgentSessionsClientError {
  override name = "TimeoutError";
  /** The timeout of each attempt, in milliseconds. */
  readonly timeoutMs: number;

  constructor(request: string, timeoutMs: number) {
    super(`${request}: no answer within ${timeoutMs} ms`, request);
    this.timeoutMs = timeoutMs;
  }
}

/** Builds the `ApiError` of an answer whose status is 400 or more. */
export async function apiErrorFrom(response: Response, request: string): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // not JSON: a proxy's HTML page, say; keep the text
  }
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const error = typeof fields.error === "string" ? fields.error : response.statusText || `HTTP ${response.status}`;
  const message =
    typeof fields.message === "string"
      ? fields.message
      : `${request} answered ${response.status}${typeof body === "string" && body !== "" ? `: ${body.slice(0, 200)}` : ""}`;
  return new ApiError({
    status: response.status,
    error,
    message,
    request,
    requestId: response.headers.get("x-request-id"),
    retryAfter: parseRetryAfter(response.headers.get("retry-after")),
    body,
  });
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date; `null` when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}
