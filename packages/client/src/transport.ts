import { AgentSessionsClientError, ApiError, apiErrorFrom, NetworkError, TimeoutError } from "./errors.js";

/** The `fetch` the client calls: the global one, or any with the same shape (a router's, a test's). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** How the client reaches a server and how hard it tries. */
export interface ClientOptions {
  /** Where the router is mounted, e.g. `http://127.0.0.1:3000` (a trailing slash is ignored). */
  readonly baseUrl: string;
  /** The API key, sent as `Authorization: Bearer <key>`. */
  readonly apiKey: string;
  /** Default: the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Milliseconds each attempt may take before it is abandoned (a long-poll gets its wait on top). Default: 30 000. */
  readonly timeoutMs?: number;
  /** Further attempts after a failed idempotent request (network error, timeout, 429, 5xx but 501). Default: 2. */
  readonly retries?: number;
  /** Delays between attempts: `baseMs` doubled each time, at most `maxMs`, half of it random. Default: 200 and 5 000. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Headers sent with every request, e.g. a tracing header. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Options of one call. */
export interface RequestOptions {
  /** Aborts the call at once, retries included; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** This call's per-attempt timeout, instead of the client's. */
  readonly timeoutMs?: number;
  /** This call's number of retries, instead of the client's. */
  readonly retries?: number;
  /** For creates: the `Idempotency-Key` to send instead of a random one (reuse it to repeat a call safely). */
  readonly idempotencyKey?: string;
}

/** One HTTP call as the resource modules describe it. */
export interface Call {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** The path below `baseUrl`, ids already encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  /** A create: sends an `Idempotency-Key`, which makes the POST safe to retry. */
  readonly creates?: boolean;
  /** Seconds the server may hold this request open (a long-poll): added to the timeout. */
  readonly holdSeconds?: number;
  /** The media type asked for (`Accept`). Default: `application/json`. */
  readonly accept?: string;
}

/** Sends calls to one server: authentication, JSON, timeouts, retries and idempotency keys. */
export interface Transport {
  readonly baseUrl: string;
  request<T>(call: Call, options?: RequestOptions): Promise<T>;
  /**
   * Sends a call as `request` does, retries included, but resolves with the answer as soon as its
   * headers arrive, body unread: the timeout covers the wait for the headers, not the body.
   */
  open(call: Call, options?: RequestOptions): Promise<Response>;
  /** Waits the client's backoff before attempt `attempt + 1`: `baseMs` doubled per attempt, at most `maxMs`, half of it random. */
  backoff(attempt: number, signal?: AbortSignal): Promise<void>;
}

const RETRYABLE_STATUS = (status: number) => status === 429 || (status >= 500 && status !== 501);

/** Creates the transport of `createClient`, checking its options by name. */
export function createTransport(options: ClientOptions): Transport {
  const baseUrl = checkBaseUrl(options.baseUrl);
  if (typeof options.apiKey !== "string" || options.apiKey.trim() === "") {
    throw new TypeError("apiKey: must be a non-empty string (the key the server was given, e.g. with --api-key)");
  }
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = checkCount("timeoutMs", options.timeoutMs ?? 30_000, 1);
  const retries = checkCount("retries", options.retries ?? 2, 0);
  const baseMs = checkCount("backoff.baseMs", options.backoff?.baseMs ?? 200, 0);
  const maxMs = checkCount("backoff.maxMs", options.backoff?.maxMs ?? 5_000, 0);
  const headers = { ...options.headers, authorization: `Bearer ${options.apiKey}`, accept: "application/json" };

  const backoffMs = (attempt: number) => {
    const backoff = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
    return backoff / 2 + Math.random() * (backoff / 2);
  };

  async function send<T>(call: Call, callOptions: RequestOptions, read: (response: Response) => Promise<T> | T): Promise<T> {
    const url = baseUrl + call.path + queryString(call.query);
    const label = `${call.method} ${call.path}`;
    const sent: Record<string, string> = { ...headers };
    if (call.accept !== undefined) sent.accept = call.accept;
    if (call.body !== undefined) sent["content-type"] = "application/json";
    if (call.creates) sent["idempotency-key"] = callOptions.idempotencyKey ?? globalThis.crypto.randomUUID();
    // GET and DELETE change nothing twice; a POST is safe to repeat only under its Idempotency-Key.
    const repeatable = call.method === "GET" || call.method === "DELETE" || sent["idempotency-key"] !== undefined;
    const attempts = 1 + (repeatable ? checkCount("retries", callOptions.retries ?? retries, 0) : 0);
    const perAttemptMs = checkCount("timeoutMs", callOptions.timeoutMs ?? timeoutMs, 1) + (call.holdSeconds ?? 0) * 1000;
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const signal = callOptions.signal;

    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw signal.reason;
      let outcome: { value: T } | { error: AgentSessionsClientError; retryAfter: number | null };
      try {
        outcome = { value: await attemptOnce(fetchFn, url, { method: call.method, headers: sent, body }, label, perAttemptMs, signal, read) };
      } catch (error) {
        if (signal?.aborted) throw signal.reason; // the caller's abort: no retry
        if (!(error instanceof AgentSessionsClientError)) throw error;
        if (attempt >= attempts || !retryable(error)) throw error;
        outcome = { error, retryAfter: error instanceof ApiError ? error.retryAfter : null };
      }
      if ("value" in outcome) return outcome.value;
      await sleep(Math.max(backoffMs(attempt), Math.min(outcome.retryAfter ?? 0, 60) * 1000), signal);
    }
  }

  return {
    baseUrl,
    request: <T>(call: Call, callOptions: RequestOptions = {}) => send<T>(call, callOptions, readJson),
    open: (call, callOptions = {}) => send(call, callOptions, (response) => response),
    backoff: (attempt, signal) => sleep(backoffMs(attempt), signal),
  };
}

async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text === "" ? null : JSON.parse(text)) as T;
}

/** Whether a failed attempt may be repeated: no answer, or an answer that says "try again". */
function retryable(error: AgentSessionsClientError): boolean {
  if (error instanceof NetworkError || error instanceof TimeoutError) return true;
  if (!(error instanceof ApiError)) return false;
  // The first attempt under this Idempotency-Key is still running on the server: ask again.
  if (error.status === 409 && error.message.startsWith("Idempotency-Key:") && /in progress/.test(error.message)) return true;
  return RETRYABLE_STATUS(error.status);
}

/** One attempt: the timeout and the caller's signal cover the fetch and `read`, and end with them. */
async function attemptOnce<T>(
  fetchFn: FetchLike,
  url: string,
  init: { method: string; headers: Record<string, string>; body: string | undefined },
  label: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  read: (response: Response) => Promise<T> | T,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new TimeoutError(label, timeoutMs));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const response = await fetchFn(url, { ...init, signal: controller.signal });
    if (response.status >= 400) throw await apiErrorFrom(response, label);
    return await read(response);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut) throw new TimeoutError(label, timeoutMs);
    if (error instanceof AgentSessionsClientError) throw error;
    if (error instanceof SyntaxError) {
      throw new AgentSessionsClientError(`${label}: the answer is not JSON (${error.message})`, label, { cause: error });
    }
    throw new NetworkError(`${label}: ${describeNetworkError(error)}`, label, { cause: error });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The useful part of a fetch failure: undici hides the reason (ECONNREFUSED…) in `cause`. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const detail = cause?.code ?? cause?.message;
  const message = error instanceof Error ? error.message : String(error);
  return detail && !message.includes(detail) ? `${message} (${detail})` : message;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function queryString(query: Call["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

function checkBaseUrl(value: unknown): string {
  if (typeof value !== "string") throw new TypeError("baseUrl: must be a string such as http://127.0.0.1:3000");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`baseUrl: '${value}' is not a URL; give one such as http://127.0.0.1:3000`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`baseUrl: '${value}' must start with http:// or https://`);
  if (url.search || url.hash) throw new TypeError(`baseUrl: '${value}' must not have a query or a fragment`);
  return value.replace(/\/+$/, "");
}

function checkCount(name: string, value: number, minimum: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < minimum) {
    throw new TypeError(`${name}: must be a number of at least ${minimum}`);
  }
  return value;
}

/** Encodes one path segment (an id or a slug). */
export const segment = (value: string): string => {
  if (typeof value !== "string" || value === "") throw new TypeError("id: must be a non-empty string");
  return encodeURIComponent(value);
};
