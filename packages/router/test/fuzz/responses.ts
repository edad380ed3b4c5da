// The checks of one answer on its own: never a 5xx, the documented media type, every error in the
// one `{error, message}` shape without internals, every success in its documented schema.
import type { OpenApiDocument } from "@agent-sessions/router";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { Operation } from "./document.js";
import { RESERVED_TARGETS } from "./hints.js";
import type { Sent } from "./requests.js";
import { FUZZ_HOST } from "./world.js";

/** An answer as read: its status, media type and text (the first chunk of an event stream). */
export interface Observed {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The parsed JSON, or `undefined` when the text is not JSON. */
  readonly json: unknown;
  readonly retryAfter: string | null;
}

/** One broken rule: a class that groups failures of one cause, and what was seen. */
export interface Problem {
  readonly rule: string;
  readonly detail: string;
}

const STACK = /\n\s+at\s|node_modules|node:internal|\/work\/|\.ts:\d+|\.js:\d+/;
const RESERVED_HOSTS = new Set(RESERVED_TARGETS.map((target) => new URL(target).hostname));

/** Validators of each operation's documented success bodies, compiled once from the document. */
export class ResponseSchemas {
  readonly #validators = new Map<string, ValidateFunction | null>();
  readonly #ajv: Ajv2020;

  constructor(readonly document: OpenApiDocument) {
    this.#ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
    addFormats(this.#ajv);
  }

  /** The validator of `operation`'s answer with `status`, or `null` when none is documented as JSON. */
  validator(operation: Operation, status: number): ValidateFunction | null {
    const key = `${operation.name} ${status}`;
    if (!this.#validators.has(key)) {
      const response = operation.responses.get(status);
      const schema = response?.contentType?.startsWith("application/json") ? response.schema : null;
      // The component schemas travel with each response schema, so its `#/components/...` refs resolve.
      this.#validators.set(key, schema ? this.#ajv.compile({ ...schema, components: this.document.components }) : null);
    }
    return this.#validators.get(key)!;
  }
}

/** Whether a request reaches a hosted page (the form page, a review page), which answers a person in HTML. */
export function isHostedPage(sent: Sent): boolean {
  const { pathname } = new URL(sent.url);
  return /^\/[fr]\/[^/]+\/?$/.test(pathname) && (sent.method === "GET" || sent.method === "POST");
}

/** Whether a request is a program's JSON decision on a review link (answered with JSON, as the API answers). */
function isProgramDecision(sent: Sent): boolean {
  const type = Object.entries(sent.headers).find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
  return (
    sent.method === "POST" && /^\/r\/[^/]+\/?$/.test(new URL(sent.url).pathname) && type.split(";")[0]!.trim().toLowerCase() === "application/json"
  );
}

/** The problems of one answer judged alone. */
export function answerProblems(sent: Sent, observed: Observed, schemas: ResponseSchemas, count: (check: string) => void = () => {}): Problem[] {
  const problems: Problem[] = [];
  const { status, contentType, json } = observed;
  if (status >= 500) problems.push({ rule: "5xx", detail: `answered ${status}` });
  if (status === 429 && !/^[1-9]\d*$/.test(observed.retryAfter ?? ""))
    problems.push({ rule: "429 without Retry-After", detail: `Retry-After: ${observed.retryAfter}` });
  if (status === 429 && sent.org !== null)
    problems.push({ rule: "valid key rate-limited", detail: "a request with a valid key answered 429 far below the per-key limit" });
  if (isProgramDecision(sent)) {
    // A program's decision on a review link is answered as the API answers: JSON, never a page.
    if (!contentType.startsWith("application/json"))
      problems.push({ rule: "review link's JSON answer", detail: `a JSON decision was answered ${status} as ${contentType || "nothing"}` });
    return problems;
  }
  if (isHostedPage(sent)) {
    if (!contentType.startsWith("text/html"))
      problems.push({ rule: "hosted page media type", detail: `the hosted page answered ${status} as ${contentType || "nothing"}` });
    if (/\[native code\]|function Object\(\)/.test(observed.text))
      problems.push({ rule: "hosted page shows prototype members", detail: "the page shows a function of Object.prototype" });
    return problems;
  }
  const stream = status === 200 && contentType.startsWith("text/event-stream");
  if (stream) {
    if (!sent.operation.template.endsWith("/events")) problems.push({ rule: "media type", detail: `an event stream from ${sent.operation.name}` });
    return problems;
  }
  if (!contentType.startsWith("application/json")) {
    problems.push({ rule: "media type", detail: `answered ${status} as ${contentType || "nothing"}, not application/json` });
    return problems;
  }
  if (json === undefined) {
    problems.push({ rule: "body is not JSON", detail: `answered ${status} with a body that does not parse` });
    return problems;
  }
  if (status >= 400) {
    const keys = json !== null && typeof json === "object" && !Array.isArray(json) ? Object.keys(json).sort().join(",") : typeof json;
    const body = json as { error?: unknown; message?: unknown };
    if (keys !== "error,message" || typeof body.error !== "string" || typeof body.message !== "string" || body.message === "") {
      problems.push({ rule: "error shape", detail: `an error body with ${keys}` });
    } else if (STACK.test(body.message)) {
      problems.push({ rule: "error shows internals", detail: body.message.slice(0, 300) });
    }
    return problems;
  }
  if (sameRoute(sent)) {
    const validate = schemas.validator(sent.operation, status);
    if (validate) count("success in its documented schema");
    if (validate && !validate(json)) {
      const error = validate.errors?.[0];
      problems.push({ rule: "response schema", detail: `${status} body at ${error?.instancePath || "/"} ${error?.message ?? "is invalid"}` });
    }
    problems.push(...semanticProblems(sent, json));
  }
  return problems;
}

/** A request sent with its operation's own method (not a twisted one), so its documented answers apply. */
function sameRoute(sent: Sent): boolean {
  return sent.method === sent.operation.method;
}

/** Rules the schemas cannot say: usage counters are safe integers, a page is as long as its numbers say, reserved webhook targets are refused. */
function semanticProblems(sent: Sent, json: unknown): Problem[] {
  const problems: Problem[] = [];
  const body = json as Record<string, unknown>;
  const usage = body?.usage as Record<string, unknown> | null | undefined;
  if (usage && typeof usage === "object") {
    for (const [name, value] of Object.entries(usage)) {
      if (!Number.isSafeInteger(value) || (value as number) < 0)
        problems.push({ rule: "usage not a safe integer", detail: `usage.${name} is ${JSON.stringify(value)}` });
    }
  }
  const page = body?.pagination as { limit: number; offset: number; total: number } | undefined;
  if (page && Array.isArray(body.data)) {
    const query = new URL(sent.url).searchParams;
    const offset = query.getAll("offset");
    if (offset.length === 1 && !query.has("cursor") && (String(page.offset) !== String(Number(offset[0])) || !Number.isSafeInteger(page.offset))) {
      problems.push({ rule: "pagination echo", detail: `asked offset=${offset[0]}, answered offset ${page.offset}` });
    }
    if (
      !query.has("cursor") &&
      Number.isSafeInteger(page.offset) &&
      body.data.length !== Math.max(0, Math.min(page.limit, page.total - page.offset))
    ) {
      problems.push({
        rule: "pagination count",
        detail: `${body.data.length} items for limit ${page.limit}, offset ${page.offset}, total ${page.total}`,
      });
    }
  }
  for (const link of hostedLinks(body)) {
    if (!link.startsWith(`http://${FUZZ_HOST}/`))
      problems.push({ rule: "hosted URL on another host", detail: `${link} (the request went to ${new URL(sent.url).host})` });
  }
  if (sent.operation.name === "POST /v1/webhooks" && typeof body?.url === "string") {
    const host = new URL(body.url).hostname;
    if (RESERVED_HOSTS.has(host)) problems.push({ rule: "webhook target on a reserved range", detail: `created an endpoint for ${body.url}` });
  }
  return problems;
}

/** The hosted form URLs an answer gives: `url` of form sessions, and any `review_url`. */
function hostedLinks(body: unknown): string[] {
  const links: string[] = [];
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== "object") continue;
    if (Array.isArray(node)) stack.push(...node);
    else {
      const record = node as Record<string, unknown>;
      if (typeof record.url === "string" && typeof record.form_id === "string") links.push(record.url);
      if (typeof record.review_url === "string") links.push(record.review_url);
      stack.push(...Object.values(record));
    }
  }
  return links;
}
