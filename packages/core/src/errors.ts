/**
 * Stable codes of every error agent-sessions raises. They carry a meaning, not an HTTP status:
 * only the router maps them to statuses and bodies.
 */
export type ErrorCode =
  | "not_found"
  | "invalid_input"
  | "illegal_transition"
  | "version_conflict"
  | "conflict"
  | "expired"
  | "unauthorized"
  | "payload_too_large"
  | "internal";

/** The one base class of every error agent-sessions raises on purpose. */
export class AgentSessionsError extends Error {
  override readonly name: string = "AgentSessionsError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A record that does not exist, or that belongs to another organization. */
export class NotFoundError extends AgentSessionsError {
  override readonly name = "NotFoundError";
  constructor(message: string) {
    super("not_found", message);
  }
}

/** Input that breaks a schema or a rule; `field` is the dotted path of the offending field. */
export class InvalidInputError extends AgentSessionsError {
  override readonly name = "InvalidInputError";
  readonly field: string | undefined;
  constructor(field: string | undefined, rule: string) {
    // "name is required" reads as seed 001 shows it; other rules follow "field: rule".
    super("invalid_input", field ? (rule.startsWith("is ") ? `${field} ${rule}` : `${field}: ${rule}`) : rule);
    this.field = field;
  }
}

/** A command the machine refuses in the state it is in. */
export class IllegalTransitionError extends AgentSessionsError {
  override readonly name = "IllegalTransitionError";
  readonly state: string;
  readonly command: string;
  constructor(state: string, command: string, message?: string) {
    super("illegal_transition", message ?? `cannot ${command} a session that is ${state}`);
    this.state = state;
    this.command = command;
  }
}

/** A compare-and-set write lost to a concurrent one more times than the engine retries. */
export class VersionConflictError extends AgentSessionsError {
  override readonly name = "VersionConflictError";
  constructor(message: string) {
    super("version_conflict", message);
  }
}

/** A unique name already taken, or an idempotency key reused with another request. */
export class ConflictError extends AgentSessionsError {
  override readonly name = "ConflictError";
  constructor(message: string) {
    super("conflict", message);
  }
}

/** The session, wait, inbox or action passed its deadline. The record stays readable. */
export class ExpiredError extends AgentSessionsError {
  override readonly name = "ExpiredError";
  constructor(message: string) {
    super("expired", message);
  }
}

/** Missing or wrong credentials. */
export class UnauthorizedError extends AgentSessionsError {
  override readonly name = "UnauthorizedError";
  constructor(message = "Invalid or missing API key") {
    super("unauthorized", message);
  }
}

/** A value larger than its limit. */
export class PayloadTooLargeError extends AgentSessionsError {
  override readonly name = "PayloadTooLargeError";
  constructor(message: string) {
    super("payload_too_large", message);
  }
}

/** True for any error agent-sessions raised on purpose, whichever copy of the package made it. */
export function isAgentSessionsError(error: unknown): error is AgentSessionsError {
  if (error instanceof AgentSessionsError) return true;
  return error instanceof Error && ERROR_CODES.has(String((error as { code?: unknown }).code));
}

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "not_found",
  "invalid_input",
  "illegal_transition",
  "version_conflict",
  "conflict",
  "expired",
  "unauthorized",
  "payload_too_large",
  "internal",
]);

/** A connection URL with its password replaced by `***`, for messages that name it. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}
