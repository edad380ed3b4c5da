import { isAgentSessionsError } from "@agent-sessions/core";
import { respond } from "../http.js";
import type { RouteResponse } from "../route.js";
import type { HostedRender, HostedView } from "./view.js";

/** The one body type the hosted pages take: what an HTML form posts. */
export const FORM_ENCODED = "application/x-www-form-urlencoded";

/** A documented HTML answer of a hosted page. */
export const htmlPage = (description: string): RouteResponse => ({ description, contentType: "text/html" });

/** Whether `error` is one of core's errors with one of `codes`, from whichever copy of the package raised it. */
export const hasCode = (error: unknown, ...codes: string[]): boolean => isAgentSessionsError(error) && codes.includes(error.code);

/** Whether a post is form-encoded (a post with no content type is taken as one, as browsers never send that). */
export function isFormEncoded(request: Request): boolean {
  const type = mediaType(request);
  return type === null || type === FORM_ENCODED;
}

/** The media type a request's body is sent as, lowercase and without parameters; `null` when it names none. */
export function mediaType(request: Request): string | null {
  const type = request.headers.get("content-type");
  return type === null ? null : type.split(";")[0]!.trim().toLowerCase();
}

/** What a page the embedder drew as text is sent with: HTML that no frame, cache or crawler keeps. */
const DRAWN_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "x-robots-tag": "noindex, nofollow",
});

/** Sends a view drawn by `render`, with `headers` (an error's `Retry-After`) beside the page's own. */
export async function send(render: HostedRender, view: HostedView, headers?: Record<string, string>): Promise<Response> {
  const drawn = await render(view);
  if (typeof drawn === "string") return respond(drawn, { status: view.status, headers: headers ? { ...headers, ...DRAWN_HEADERS } : DRAWN_HEADERS });
  if (!headers) return drawn;
  const merged = new Headers(headers);
  for (const [name, value] of drawn.headers) merged.set(name, value);
  return respond(drawn.body, { status: drawn.status, statusText: drawn.statusText, headers: merged });
}
