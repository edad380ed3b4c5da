import { UsageError } from "./errors.js";

/** How much `serve` logs, quietest last: each level logs itself and the levels after it. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/** A level of `--log-level`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The environment variable that sets the log level, as `--log-level` does. */
export const LOG_LEVEL_ENV = "AGENT_SESSIONS_LOG_LEVEL";

/** The level `serve` logs at unless told otherwise. */
export const DEFAULT_LOG_LEVEL: LogLevel = "info";

/** Reads a log level from a flag or the environment; anything else is a usage error naming `source`. */
export function parseLogLevel(text: string, source: string): LogLevel {
  const level = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new UsageError(`${source}: '${text}' is not a log level; give one of: ${LOG_LEVELS.join(", ")}`);
}

/** What one log line holds beside its time, level and message: plain JSON values. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * Writes structured logs: one JSON object a line, `{ time, level, msg, ...fields }`, for a log
 * collector to parse. A line below the logger's level is neither built nor written.
 */
export class Logger {
  private readonly threshold: number;

  constructor(
    readonly level: LogLevel,
    private readonly write: (line: string) => void,
    private readonly clock: () => number = Date.now,
  ) {
    this.threshold = LOG_LEVELS.indexOf(level);
  }

  /** Whether a line at `level` is written. */
  enabled(level: Exclude<LogLevel, "silent">): boolean {
    return LOG_LEVELS.indexOf(level) >= this.threshold;
  }

  /** A line at debug. Detail for finding a problem: health-probe requests. */
  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }

  /** A line at info. What a healthy server does: requests, start and stop. */
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }

  /** A line at warn. Something odd that needs no one yet. */
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }

  /** A line at error. A failure someone should look at: background work, a 500, a store not ready. */
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }

  private log(level: Exclude<LogLevel, "silent">, msg: string, fields: LogFields | undefined): void {
    if (!this.enabled(level)) return;
    this.write(`${JSON.stringify({ time: new Date(this.clock()).toISOString(), level, msg, ...fields })}\n`);
  }
}

/** The fields of a failure: its kind, message, code and stack (escaped within the one line), never its data. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { error: error.name, message: error.message, ...(typeof code === "string" ? { code } : {}), stack: error.stack };
  }
  return { error: typeof error, message: String(error) };
}

/**
 * The path of a request as a log may show it: without its query (which may hold a secret), and
 * with the capability in a hosted form page's URL (`/f/<session id>`) or a review link
 * (`/r/<token>`) replaced, since whoever reads the log could otherwise open them.
 */
export function loggedPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  let end = url.length;
  for (const mark of ["?", "#"]) {
    const at = url.indexOf(mark, start);
    if (at >= 0 && at < end) end = at;
  }
  const path = start < 0 ? "/" : url.slice(start, end);
  if (path.startsWith("/f/")) return "/f/:id";
  if (path.startsWith("/r/")) return "/r/:token";
  return path.length > 512 ? `${path.slice(0, 511)}…` : path;
}

/** What a proxy's `X-Request-Id` may look like to be logged: a short run of plain characters. */
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * Logs every request answered by `handle` at info (the health probes at debug): method, path (see `loggedPath`), status,
 * duration in milliseconds, the proxy's `X-Request-Id` when it sent one, and the organization
 * when `orgOf` knows it. Headers, bodies and keys are never logged. With info off, `handle` is
 * returned as it is.
 */
export function logRequests(
  logger: Logger,
  handle: (request: Request) => Promise<Response>,
  orgOf: (request: Request) => string | undefined,
): (request: Request) => Promise<Response> {
  if (!logger.enabled("info")) return handle;
  const line = (request: Request, started: number, status: number) => {
    const path = loggedPath(request.url);
    // A load balancer probes every few seconds: those lines are debug, not info.
    const level = path === "/healthz" || path === "/readyz" ? "debug" : "info";
    if (!logger.enabled(level)) return;
    const requestId = request.headers.get("x-request-id");
    logger[level]("request", {
      method: request.method,
      path,
      status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      ...(requestId !== null && REQUEST_ID.test(requestId) ? { request_id: requestId } : {}),
      org: orgOf(request),
    });
  };
  return (request) => {
    const started = performance.now();
    return handle(request).then(
      (response) => {
        line(request, started, response.status);
        return response;
      },
      (error: unknown) => {
        line(request, started, 500);
        throw error;
      },
    );
  };
}
