// Turns a call recipe into the `Request` it stands for, against the pools of the moment, and keeps
// what the checks need to know about it: who sent it, which ids it named, whether it was valid.
import type { Operation } from "./document.js";
import { INVALID_UTF8 } from "./hostile.js";
import { Absent, decoded, type PathId, PREFIXES, pathText } from "./path-ids.js";
import { type OrgPool, PoolResolver } from "./pool.js";
import { Entries, FormValues, Huge, jsonText, Pair, Pick, type Recipe, Special } from "./recipes.js";
import type { CallStep, PathStyle } from "./steps.js";
import { CLIENT_HEADER, FUZZ_HOST } from "./world.js";

/** A request as sent, with what the checks need. */
export interface Sent {
  readonly step: CallStep;
  readonly operation: Operation;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | null;
  /** The organization whose key authenticates the request, or `null` (none, a wrong one, a public route). */
  readonly org: "a" | "b" | null;
  /** Each path parameter: its URL text, its decoded value, and what it was meant to be. */
  readonly path: ReadonlyArray<{ readonly text: string; readonly value: string | null; readonly source: PathId }>;
  /** The path or the body names a real record of the organization that does not send it. */
  readonly crossOrg: boolean;
  build(): Request;
}

export interface Keys {
  readonly a: string;
  readonly b: string;
}

/** Form post text: the pairs of a recipe, a form's values expanded where the recipe asks for them. */
function formText(recipe: Recipe | string, resolver: PoolResolver): string {
  if (typeof recipe === "string") return recipe;
  const params = new URLSearchParams();
  const text = (value: Recipe): string => {
    if (typeof value === "string") return value;
    if (value instanceof Huge) return value.value();
    return value instanceof Special ? value.json(resolver) : JSON.stringify(value);
  };
  const pairs: ReadonlyArray<readonly [string, Recipe]> =
    recipe instanceof Entries ? recipe.pairs : recipe instanceof FormValues ? [["", recipe]] : Object.entries(recipe as Record<string, Recipe>);
  for (const [key, value] of pairs) {
    if (value instanceof FormValues)
      for (const [name, field] of Object.entries(resolver.formValues(value.variant, value.n))) params.append(name, field);
    else params.append(key, text(value));
  }
  return params.toString();
}

/** Resolves a call against the pools (the actor's as `own`) and returns the request to send. */
export function resolveCall(step: CallStep, operation: Operation, pools: { a: OrgPool; b: OrgPool }, keys: Keys): Sent {
  const own = pools[step.actor];
  const other = pools[step.actor === "a" ? "b" : "a"];
  const resolver = new PoolResolver(own, other);
  const path = step.path.map((source) => {
    const text = pathText(source, resolver);
    return { text, value: decoded(text), source };
  });
  resolver.pathIds = path.map((part) => part.value ?? "");
  resolver.target(path[0]?.value ?? null);
  let params = 0;
  const pathname = restyle(
    operation.template.replace(/\{\w+\}/g, () => path[params++]!.text),
    step.twist?.pathStyle,
  );
  const query = step.query
    .map(([name, value]) => `${name}=${value instanceof Special ? encodeURIComponent(JSON.parse(value.json(resolver)) as string) : value}`)
    .join("&");
  const url = `http://${step.twist?.host ?? FUZZ_HOST}${pathname}${query ? `?${query}` : ""}`;

  // As fetch normalizes it: the six standard methods in any case become upper case, others stay as written.
  const asked = step.twist?.method ?? operation.method;
  const method = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].includes(asked.toUpperCase()) ? asked.toUpperCase() : asked;
  let body: string | null = null;
  let bytes: Uint8Array<ArrayBuffer> | null = null;
  if (step.body && method !== "GET" && method !== "HEAD") {
    if ("bytes" in step.body) {
      bytes = Uint8Array.from(INVALID_UTF8[step.body.bytes % INVALID_UTF8.length]!);
      body = `bytes ${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ")}`;
    } else if ("form" in step.body) body = formText(step.body.form, resolver);
    else if ("json" in step.body) body = jsonText(step.body.json, resolver);
    else body = typeof step.body.text === "string" ? step.body.text : jsonText(step.body.text, resolver);
  }

  const headers: Record<string, string> = {};
  const key = keys[step.actor];
  const wrongKey = `${key}x`;
  if (!operation.public || step.auth !== "bearer") {
    if (step.auth === "bearer" || step.auth === "both") headers.authorization = `Bearer ${key}`;
    if (step.auth === "x-api-key") headers["x-api-key"] = key;
    if (step.auth === "both") headers["x-api-key"] = keys[step.actor === "a" ? "b" : "a"];
    if (step.auth === "wrong") headers.authorization = `Bearer ${wrongKey}`;
    if (step.auth === "malformed") headers.authorization = `Basic ${key}`;
  }
  const contentType =
    step.twist?.contentType !== undefined ? step.twist.contentType : body !== null ? (operation.body?.contentType ?? "application/json") : null;
  if (contentType !== null && body !== null) headers["content-type"] = contentType;
  if (step.idempotencyKey !== null) headers["idempotency-key"] = step.idempotencyKey;
  headers[CLIENT_HEADER] = step.actor === "a" ? "203.0.113.1" : "2001:db8::1";
  if (step.twist?.accept) headers.accept = step.twist.accept;

  const authenticated = step.auth === "bearer" || step.auth === "x-api-key" || step.auth === "both";
  const org = operation.public || !authenticated ? null : step.actor;
  const ofOther = (value: string | null) =>
    value !== null && (other.known.has(value) || other.formOfSlug.has(value)) && !own.known.has(value) && !own.formOfSlug.has(value);
  // Only a body that is sent can name another organization's record (a GET or HEAD sends none).
  const sentBody = body === null ? null : step.body;
  const crossOrg =
    org !== null && (path.some((part) => ofOther(part.value)) || otherReferences(sentBody).some((ref) => ofOther(ref.value(resolver))));
  const stream = step.twist?.stream === true;
  return {
    step,
    operation,
    method,
    url,
    headers,
    body,
    org,
    path,
    crossOrg,
    build() {
      if (body === null) return new Request(url, { method, headers });
      const payload = bytes ?? body;
      if (!stream) return new Request(url, { method, headers, body: payload });
      // No Content-Length: the router reads the body chunk by chunk.
      const all = bytes ?? new TextEncoder().encode(body);
      const half = Math.floor(all.length / 2);
      const chunks = [all.subarray(0, half), all.subarray(half)];
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      });
      return new Request(url, { method, headers, body: source, duplex: "half" } as RequestInit);
    },
  };
}

/** Every place of a body that names a record of the other organization (an `agent_id`, an `inboxId`). */
export function otherReferences(body: CallStep["body"]): Array<Pick | Pair> {
  const found: Array<Pick | Pair> = [];
  const stack: Recipe[] =
    body === null || "bytes" in body
      ? []
      : ["json" in body ? body.json : "form" in body ? body.form : typeof body.text === "string" ? null : body.text];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if ((node instanceof Pick || node instanceof Pair) && node.org === "other") found.push(node);
    else if (node instanceof Entries) stack.push(...node.pairs.map(([, value]) => value));
    else if (Array.isArray(node)) stack.push(...node);
    else if (node !== null && typeof node === "object" && !(node instanceof Special)) stack.push(...Object.values(node));
  }
  return found;
}

/** The body with each reference to the other organization's records made a well-formed id no one created. */
export function withoutOtherReferences(body: CallStep["body"]): CallStep["body"] {
  const swap = (node: Recipe): Recipe => {
    if ((node instanceof Pick || node instanceof Pair) && node.org === "other") {
      const kind = node instanceof Pick ? node.kinds[0]! : node.role === "child" ? node.child : node.child === "action" ? "thread" : "workflow";
      return new Absent(PREFIXES[kind], node.n);
    }
    if (node instanceof Entries) return new Entries(node.pairs.map(([key, value]) => [key, swap(value)] as const));
    if (Array.isArray(node)) return node.map(swap);
    if (node !== null && typeof node === "object" && !(node instanceof Special)) {
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, swap(value)]));
    }
    return node;
  };
  if (body === null || "bytes" in body || ("text" in body && typeof body.text === "string")) return body;
  if ("json" in body) return { json: swap(body.json) };
  if ("form" in body) return { form: swap(body.form) };
  return { text: swap(body.text as Recipe) };
}

/** A path written another way; its ids keep their case, only the fixed segments change. */
function restyle(pathname: string, style: PathStyle | undefined): string {
  switch (style) {
    case "trailingSlash":
      return `${pathname}/`;
    case "doubleSlash":
      return pathname.replace(/\//g, "//");
    case "upperCase":
      return pathname.replace(/\/(v1|api|forms|sessions|agents|threads|inboxes|waits|webhooks|actions|f)(?=\/|$)/g, (segment) =>
        segment.toUpperCase(),
      );
    case "encodedSlash":
      return pathname.replace(/^(\/[^/]+)\//, "$1%2F");
    case "dotSegments":
      return pathname.replace(/^(\/[^/]+)\//, "$1/./x/../");
    default:
      return pathname;
  }
}

/** A request in a few lines, as a failure shows it: method, URL, headers and the start of the body. */
export function describeSent(sent: Sent, bodyChars = 600): string {
  const url = sent.url.length > 400 ? `${sent.url.slice(0, 400)}…(${sent.url.length} chars)` : sent.url;
  const headers = Object.entries(sent.headers)
    .map(([name, value]) => `${name}: ${value.length > 80 ? `${value.slice(0, 80)}…` : value}`)
    .join("; ");
  const body =
    sent.body === null
      ? "(no body)"
      : sent.body.length > bodyChars
        ? `${JSON.stringify(sent.body.slice(0, bodyChars))}…(${sent.body.length} chars)`
        : JSON.stringify(sent.body);
  return `${sent.method} ${url}\n    as org ${sent.step.actor} (${sent.step.auth}); ${headers}\n    body ${body}`;
}
