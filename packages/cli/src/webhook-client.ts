import { isIP, type LookupFunction, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/**
 * A minimal HTTP/1.1 client for webhook POSTs, over keep-alive sockets of its own. A delivery
 * needs only the answer's status, so the client writes the request in one piece, reads the status
 * line and headers, and skips the body; it costs a fraction of node:http's CPU per request (a
 * quarter on this project's benchmark), which is most of a webhook's cost once it is signed.
 * A connection is reused only when its answer's end is known (`Content-Length`, or no body) and
 * neither side asked to close; anything else (chunked or unframed bodies, bodies over 64 KiB,
 * HTTP/1.0) is answered from its headers and the socket is closed.
 */

/** How much of an answer's status line and headers is read before the receiver is given up on. */
const MAX_ANSWER_HEAD_BYTES = 64 * 1024;
/** The largest answer body skipped to keep a connection; a larger one closes it instead. */
const MAX_SKIPPED_BODY_BYTES = 64 * 1024;
/** Idle sockets are closed after this long: below Node's default keep-alive timeout (5 s), so a server rarely closes one under a request. */
const IDLE_MS = 4_000;

/** What the client is configured with. */
export interface WebhookClientOptions {
  /** The lookup each new connection resolves its host with (the address check lives there). */
  readonly lookup: LookupFunction;
}

/** One request in flight on a connection. */
interface Pending {
  resolve(status: number): void;
  reject(error: Error): void;
  /** Whether any byte of the answer arrived: a reused socket closed before one is retried. */
  answered: boolean;
  /** When the request is given up (`performance.now()` time), or `Infinity`. */
  deadline: number;
  timeoutMs: number;
}

/** How one POST is bounded: an AbortSignal, a time limit kept on the socket itself (cheaper), or both. */
export interface PostLimits {
  readonly signal?: AbortSignal;
  /** Milliseconds from the call until the request is given up with a `TimeoutError`. */
  readonly timeoutMs?: number;
}

function timeoutError(timeoutMs: number): Error {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: "TimeoutError" });
}

const HEAD_END = Buffer.from("\r\n\r\n");
const FORBIDDEN_IN_HEADER = /[\r\n\0]/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** One keep-alive socket and the parser of the answers it receives. */
class Connection {
  pending: Pending | null = null;
  /** Bytes of the current answer's head received so far. */
  private head: Buffer[] = [];
  private headBytes = 0;
  /** Body bytes still to skip before the socket is free again. */
  private bodyLeft = 0;
  private keep = true;
  /** Requests this socket carried; the first one on a fresh socket is never retried. */
  uses = 0;

  constructor(
    readonly socket: Socket,
    private readonly release: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.received(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(Object.assign(new Error("the receiver closed the connection"), { code: "ECONNRESET" })));
    // Armed while the socket is idle in the pool (see `park`), and to a request's deadline.
    socket.on("timeout", () => this.timedOut());
  }

  /** Writes one request; the pending promise settles with the answer's status. */
  send(request: string, pending: Pending): void {
    this.pending = pending;
    this.uses++;
    this.head = [];
    this.headBytes = 0;
    this.keep = true;
    this.socket.write(request);
  }

  /** The socket's timer ran out: an idle socket is closed, a request past its deadline given up. */
  private timedOut(): void {
    const pending = this.pending;
    if (!pending) {
      this.socket.destroy();
      return;
    }
    const left = pending.deadline - performance.now();
    if (left > 0)
      this.socket.setTimeout(Math.ceil(left)); // woken early: wait out the rest
    else this.abandon(timeoutError(pending.timeoutMs));
  }

  private received(chunk: Buffer): void {
    if (this.bodyLeft > 0) {
      // The rest of an answer whose status was handed on already.
      const skipped = Math.min(this.bodyLeft, chunk.length);
      this.bodyLeft -= skipped;
      if (chunk.length > skipped) this.keep = false; // bytes nobody asked for: the stream is out of step
      if (this.bodyLeft === 0) this.done();
      return;
    }
    const pending = this.pending;
    if (!pending) {
      this.socket.destroy(); // an answer to no request
      return;
    }
    pending.answered = true;
    // Bytes keep the socket's timer from running out: a receiver trickling its answer meets the deadline here.
    if (pending.deadline !== Number.POSITIVE_INFINITY && performance.now() > pending.deadline) {
      this.abandon(timeoutError(pending.timeoutMs));
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    for (;;) {
      const buffered = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
      this.head = [buffered];
      const end = buffered.indexOf(HEAD_END);
      if (end === -1) {
        if (this.headBytes > MAX_ANSWER_HEAD_BYTES) this.abandon(new Error(`the receiver's answer headers exceed ${MAX_ANSWER_HEAD_BYTES} bytes`));
        return;
      }
      const answer = parseHead(buffered.toString("latin1", 0, end));
      const rest = buffered.subarray(end + HEAD_END.length);
      if (answer === null) {
        this.abandon(new Error("the receiver's answer is not HTTP/1.1"));
        return;
      }
      if (answer.status >= 100 && answer.status < 200 && answer.status !== 101) {
        // An interim answer (100 Continue, 103 Early Hints): the final one follows.
        this.head = rest.length > 0 ? [rest] : [];
        this.headBytes = rest.length;
        if (rest.length === 0) return;
        continue;
      }
      this.pending = null;
      const bodyless = answer.status === 204 || answer.status === 304 || answer.status === 101;
      const length = bodyless ? 0 : answer.contentLength;
      this.keep = answer.keepAlive && !answer.chunked && length !== null && length <= MAX_SKIPPED_BODY_BYTES && answer.status !== 101;
      pending.resolve(answer.status);
      if (!this.keep) {
        this.socket.destroy();
        return;
      }
      this.bodyLeft = length! - rest.length;
      if (this.bodyLeft < 0) {
        this.keep = false;
        this.bodyLeft = 0;
      }
      if (this.bodyLeft === 0) this.done();
      return;
    }
  }

  /** The answer is over: the socket goes back to the pool, or is closed. */
  private done(): void {
    if (this.keep) this.release(this);
    else this.socket.destroy();
  }

  private abandon(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.socket.destroy();
    pending?.reject(error);
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.bodyLeft = 0;
    pending?.reject(error);
  }
}

/** The status and framing of an answer's head, or `null` when it is not an HTTP/1.x answer. */
function parseHead(head: string): { status: number; contentLength: number | null; chunked: boolean; keepAlive: boolean } | null {
  const lines = head.split("\r\n");
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
  if (!statusLine) return null;
  let contentLength: number | null = null;
  let chunked = false;
  let keepAlive = statusLine[1] === "1";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === "content-length") {
      const parsed = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
      // Two different lengths, or one that is no number: the framing cannot be trusted.
      contentLength = Number.isNaN(parsed) || (contentLength !== null && contentLength !== parsed) ? -1 : parsed;
    } else if (name === "transfer-encoding") {
      chunked = true;
    } else if (name === "connection") {
      if (value.includes("close")) keepAlive = false;
      else if (value.includes("keep-alive")) keepAlive = true;
    }
  }
  return { status: Number(statusLine[2]), contentLength: contentLength === -1 ? null : contentLength, chunked, keepAlive };
}

/** Keep-alive pools of connections per origin, and POSTs over them. */
export class WebhookClient {
  private readonly idle = new Map<string, Connection[]>();

  constructor(private readonly options: WebhookClientOptions) {}

  /**
   * POSTs `body` to `url` with `headers` and resolves the answer's status; rejects when the
   * connection fails, the answer is no HTTP, or `signal` aborts. A request on a reused socket that
   * the receiver closed before answering a byte is sent once more on a new socket: the server
   * closed an idle connection as the request left.
   */
  async post(url: URL, headers: Iterable<[string, string]>, body: string, limits: PostLimits = {}): Promise<number> {
    limits.signal?.throwIfAborted();
    const request = serialize(url, headers, body);
    const origin = `${url.protocol}//${url.host}`;
    const deadline = limits.timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + limits.timeoutMs;
    const reused = this.take(origin);
    if (reused) {
      try {
        return await this.exchange(reused, request, limits, deadline);
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
      }
    }
    return this.exchange(this.open(url, origin), request, limits, deadline);
  }

  /** Closes every idle connection. */
  close(): void {
    for (const connections of this.idle.values()) for (const connection of connections) connection.socket.destroy();
    this.idle.clear();
  }

  private exchange(connection: Connection, request: string, limits: PostLimits, deadline: number): Promise<number> {
    const signal = limits.signal;
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        connection.socket.destroy();
        reject(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
      };
      const pending: Pending = {
        answered: false,
        deadline,
        timeoutMs: limits.timeoutMs ?? 0,
        resolve: (status) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(status);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          // A reused socket that ended before any answer: the receiver closed it while idle.
          reject(connection.uses > 1 && !pending.answered ? new RetryableError(error) : error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      connection.socket.ref();
      // The socket's own timer keeps the time limit: no timer or listener of its own per request.
      const left = deadline - performance.now();
      if (left <= 0) {
        reject(timeoutError(pending.timeoutMs));
        return;
      }
      connection.socket.setTimeout(Number.isFinite(left) ? Math.ceil(left) : 0);
      connection.send(request, pending);
    });
  }

  private take(origin: string): Connection | null {
    const connections = this.idle.get(origin);
    while (connections && connections.length > 0) {
      const connection = connections.pop()!;
      if (!connection.socket.destroyed) return connection;
    }
    return null;
  }

  private open(url: URL, origin: string): Connection {
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const secure = url.protocol === "https:";
    const port = Number(url.port || (secure ? 443 : 80));
    const socket = secure
      ? tlsConnect({ host, port, lookup: this.options.lookup, ALPNProtocols: ["http/1.1"], ...(isIP(host) === 0 ? { servername: host } : {}) })
      : netConnect({ host, port, lookup: this.options.lookup });
    const connection = new Connection(socket, (free) => this.park(origin, free));
    socket.on("close", () => this.forget(origin, connection));
    return connection;
  }

  /** A connection whose answer is over waits for the next request to its origin, for a while. */
  private park(origin: string, connection: Connection): void {
    let connections = this.idle.get(origin);
    if (!connections) {
      connections = [];
      this.idle.set(origin, connections);
    }
    connections.push(connection);
    connection.socket.unref(); // an idle pool never keeps the process alive
    connection.socket.setTimeout(IDLE_MS);
  }

  private forget(origin: string, connection: Connection): void {
    const connections = this.idle.get(origin);
    if (!connections) return;
    const at = connections.indexOf(connection);
    if (at !== -1) connections.splice(at, 1);
    if (connections.length === 0) this.idle.delete(origin);
  }
}

/** A failure on a reused connection before any answer: the request may be sent again on a new one. */
class RetryableError extends Error {
  constructor(original: Error) {
    super(original.message, { cause: original });
  }
}

/** The request's bytes as one string: request line, headers, `Content-Length`, body. */
function serialize(url: URL, headers: Iterable<[string, string]>, body: string): string {
  let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "host" || lower === "content-length" || lower === "connection" || lower === "transfer-encoding") continue;
    if (!TOKEN.test(name) || FORBIDDEN_IN_HEADER.test(value))
      throw new TypeError(`webhook header ${JSON.stringify(name)} is not a valid HTTP header`);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
