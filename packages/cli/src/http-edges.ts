import { type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { errorBody } from "@agent-sessions/router";

/** node:http's limits that serve runs with; each is answered in the router's JSON error shape. */
export interface HttpLimits {
  /** Time for a request line and headers to arrive, in milliseconds. Default: 20 000. */
  readonly headersTimeoutMs: number;
  /** Time for a whole request (body included) to arrive, in milliseconds. Default: 60 000. */
  readonly requestTimeoutMs: number;
  /** Largest request line plus headers, in bytes. Default: node's 16 KiB. */
  readonly maxHeaderBytes: number;
}

/** The limits of `agent-sessions serve`. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({ headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, maxHeaderBytes: 16 * 1024 });

/**
 * The options node:http is created with. A request without `Host` reaches `guardedRequests`
 * instead of node's own empty 400, and the timeouts are checked often enough to fire near their
 * time (node looks every 30 seconds by default, so a 20-second limit would fire at up to 50).
 */
export function nodeServerOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    requireHostHeader: false,
  };
}

/**
 * Makes every answer node:http (or srvx before the router) would give itself answer in the
 * router's `{"error", "message"}` shape with `content-type: application/json`: requests the
 * parser refuses (400), line and headers too large (431), a request that did not arrive in time
 * (408), a chunk extension too large (413), an `Expect` other than `100-continue` (417), CONNECT
 * (405; this is no proxy), an HTTP/1.1 request without `Host`, and a request target srvx refuses
 * (400). Call it on the server before it listens; `handler` is srvx's request listener.
 */
export function answerHttpEdges(server: Server, handler: RequestListener, limits: HttpLimits): void {
  server.removeListener("request", handler);
  server.on("request", guardedRequests(handler));
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Node's own rule: write only while no answer to an earlier request on this connection has started.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    const [status, message] = describeClientError(error, limits);
    endWith(socket, status, message);
  });
  server.on("checkExpectation", (request: IncomingMessage, response: ServerResponse) => {
    const body = errorBody(417, `Expect: only 100-continue is supported, not '${String(request.headers.expect).slice(0, 100)}'`);
    response.writeHead(417, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), connection: "close" });
    response.end(body);
  });
  server.on("connect", (_request: IncomingMessage, socket: Duplex) => endWith(socket, 405, "CONNECT is not supported: this server is no proxy"));
}

/**
 * srvx's listener with the checks it would answer with an empty body done first: an HTTP/1.1
 * request must name its `Host` (RFC 9112, 3.2), and a request target is a path, `*`, or an
 * absolute http(s) URL.
 */
function guardedRequests(handler: RequestListener): RequestListener {
  return (request, response) => {
    if (request.headers.host === undefined && request.httpVersion === "1.1") {
      return answer(response, 400, "the request has no Host header; HTTP/1.1 requires one");
    }
    const target = request.url ?? "/";
    if (target.charCodeAt(0) !== 47 /* / */ && target !== "*" && !isAbsoluteHttpUrl(target)) {
      return answer(response, 400, "the request target is not a path or an absolute http(s) URL");
    }
    return handler(request, response);
  };
}

function isAbsoluteHttpUrl(target: string): boolean {
  if (!URL.canParse(target)) return false;
  const url = new URL(target);
  return (url.protocol === "http:" || url.protocol === "https:") && url.host !== "";
}

function answer(response: ServerResponse, status: number, message: string): void {
  const body = errorBody(status, message);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), connection: "close" });
  response.end(body);
}

/** The status and message of a connection error node:http reports before any request reached a handler. */
export function describeClientError(error: NodeJS.ErrnoException & { reason?: string }, limits: HttpLimits): [number, string] {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, `the request line and headers must be at most ${limits.maxHeaderBytes} bytes together`];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [
        408,
        `the request did not arrive in time: its headers within ${limits.headersTimeoutMs / 1000} seconds, all of it within ${limits.requestTimeoutMs / 1000}`,
      ];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return [413, "a chunk extension of the request body is too large"];
    case "HPE_PAUSED_H2_UPGRADE":
      return [400, "HTTP/2 without TLS is not served here; send HTTP/1.1"];
    default: {
      // llhttp's reason names what it found ("Invalid method encountered"), nothing of the server.
      const reason = typeof error.reason === "string" && error.reason !== "" ? ` (${error.reason.replace(/\.$/, "")})` : "";
      return [400, `the request is not valid HTTP/1.1${reason}`];
    }
  }
}

/**
 * Writes a whole HTTP/1.1 error answer on a raw connection and closes it. The connection is cut
 * a second later if the peer has not closed its side: one that never reads must not keep it.
 */
function endWith(socket: Duplex, status: number, message: string): void {
  const body = errorBody(status, message);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}
