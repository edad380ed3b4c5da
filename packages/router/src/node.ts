// The router in a Node server that speaks (req, res): node:http, Express, and Fastify through
// `@agent-sessions/router/fastify`. Written against the few members of IncomingMessage and
// ServerResponse it uses, so this package imports nothing from `node:`.
import { errorResponse } from "./http.js";
import type { AgentSessionsRouter } from "./router.js";

/** The members of a `node:http` IncomingMessage (or Express's request) that the handler reads. */
export interface NodeRequest extends AsyncIterable<Uint8Array | string> {
  readonly method?: string | undefined;
  /** The path and query; Express cuts its mount path off it. */
  readonly url?: string | undefined;
  /** Express: the path and query as the client sent them, mount path included. */
  readonly originalUrl?: string | undefined;
  /** Express: the path the handler is mounted at (`app.use(path, handler)`). */
  readonly baseUrl?: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly socket?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean } | null;
  /** What a body parser mounted before the handler made of the body (`express.json()`, `express.urlencoded()`). */
  readonly body?: unknown;
  /** True once something read the whole body (a body parser). */
  readonly readableEnded?: boolean;
}

/** The members of a `node:http` ServerResponse that the handler writes with. */
export interface NodeResponse {
  statusCode: number;
  setHeader(name: string, value: string | readonly string[]): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
  readonly headersSent?: boolean;
  readonly writableFinished?: boolean;
}

/** A `(req, res, next?)` handler: a `node:http` listener and an Express middleware at once. */
export type NodeHandler = (request: NodeRequest, response: NodeResponse, next?: (error?: unknown) => void) => Promise<void>;

/**
 * Turns the router into a `(req, res, next?)` handler for `node:http`'s `createServer` and for
 * Express 5's `app.use(router.basePath, handler)`. The router gets the whole URL the client sent
 * (Express's `originalUrl`), so give `createRouter` the same `basePath` as the mount path; a mount
 * path that differs is reported through `next` (or a 500) on the first request, not a silent 404.
 * Mount it before any body parser: the body is streamed to the router as sent. When a parser ran
 * first anyway, its `req.body` is sent on again (a string or bytes as they are, an object as JSON,
 * or as a form when the request was one), which keeps the meaning but not the exact bytes.
 * Each request's socket address becomes its `ip`, for the router's per-address limits; a client
 * that hangs up aborts its request's signal, which ends a long-poll or an event stream.
 */
export function toNodeHandler(router: AgentSessionsRouter): NodeHandler {
  return async (req, res, next) => {
    let request: Request;
    let response: Response;
    const abort = new AbortController();
    const hungUp = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once("close", hungUp);
    try {
      if (typeof req.baseUrl === "string" && req.baseUrl !== router.basePath) {
        throw new Error(
          `agent-sessions: mounted at '${req.baseUrl}' but the router's basePath is '${router.basePath}'; give createRouter({ basePath: '${req.baseUrl}' })`,
        );
      }
      request = toRequest(req, abort.signal);
      response = await router.fetch(request);
    } catch (error) {
      res.off("close", hungUp);
      if (next) return next(error);
      console.error("agent-sessions: internal error", error);
      await writeResponse(errorResponse(500, "Internal server error"), res);
      return;
    }
    await writeResponse(response, res, req.method === "HEAD", abort.signal);
    res.off("close", hungUp);
  };
}

/** The web Request of a Node request: the client's URL, its headers, and its body as a stream. */
export function toRequest(req: NodeRequest, signal?: AbortSignal): Request {
  const method = req.method ?? "GET";
  const headers = new Headers();
  for (const name in req.headers) {
    if (name.charCodeAt(0) === 58 /* : */) continue; // HTTP/2 pseudo-headers
    const value = req.headers[name];
    if (typeof value === "string") headers.set(name, value);
    else if (value) for (const each of value) headers.append(name, each);
  }
  const host = headers.get("host") ?? "localhost";
  const url = `${req.socket?.encrypted ? "https" : "http"}://${host}${req.originalUrl ?? req.url ?? "/"}`;
  let body: BodyInit | null = null;
  if (method !== "GET" && method !== "HEAD") {
    if (req.readableEnded && req.body !== undefined) {
      body = parsedBody(req.body, headers);
      headers.delete("content-length");
    } else {
      body = streamOf(req);
    }
  }
  const init: RequestInit & { duplex?: "half" } = { method, headers, body, signal };
  if (body instanceof ReadableStream) init.duplex = "half";
  const request = new Request(url, init);
  const ip = req.socket?.remoteAddress;
  if (ip) Object.defineProperty(request, "ip", { value: ip, enumerable: true });
  return request;
}

/** A body a parser already read, sent on in the form the request's media type calls for. */
function parsedBody(parsed: unknown, headers: Headers): BodyInit {
  if (typeof parsed === "string" || parsed instanceof Uint8Array) return parsed as BodyInit;
  const type = headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded") && parsed !== null && typeof parsed === "object") {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(parsed)) {
      for (const each of Array.isArray(value) ? value : [value]) form.append(name, String(each));
    }
    return form.toString();
  }
  return JSON.stringify(parsed);
}

/** The request's body as a web stream, read from the socket only as the router asks for it. */
function streamOf(req: NodeRequest): ReadableStream<Uint8Array> {
  const chunks = req[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(typeof value === "string" ? encoder.encode(value) : value);
    },
    async cancel() {
      await chunks.return?.();
    },
  });
}

/** Writes a web Response to a Node response, waiting for the socket to drain between chunks. */
export async function writeResponse(response: Response, res: NodeResponse, head = false, signal?: AbortSignal): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (!response.body || head) {
    await response.body?.cancel();
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const stop = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal?.aborted) break;
      if (!res.write(value)) await drained(res);
    }
  } catch {
    // The client hung up or the body failed mid-way: nothing more can be sent.
  } finally {
    signal?.removeEventListener("abort", stop);
    res.end();
  }
}

/** Resolves once the response can take more, or its connection closed. */
function drained(res: NodeResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
