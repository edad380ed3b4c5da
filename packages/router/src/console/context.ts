import type { Engine } from "@agent-sessions/core";
import { html, type SafeHtml, utcMoment } from "../hosted/html.js";
import type { RouteContext, RouterSettings } from "../route.js";
import { type ConsolePage, consolePage, type Section } from "./layout.js";
import type { ConsoleSession } from "./sessions.js";

/** What a console handler gets: the request, the signed-in session and the engine. */
export interface ConsoleCall {
  readonly request: Request;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly session: ConsoleSession;
  readonly engine: Engine;
  /** The console's root path: the router's base path and `/console`. */
  readonly root: string;
  /** The posted form (POST only; empty otherwise). */
  readonly form: URLSearchParams;
  readonly settings: RouterSettings;
  /** Tells the router's `onError` of a failure the handler handles itself. */
  report(error: unknown): void;
}

/** Who the signed-in key is, as decisions record it: `<org>/<label>`, as the API records it. */
export function deciderOf(session: ConsoleSession): string {
  return session.label === undefined ? session.orgId : `${session.orgId}/${session.label}`;
}

/** The API's view of this call (for the routes the console reuses: the event stream, the hosted origin). */
export function routeContext(call: ConsoleCall, params: Readonly<Record<string, string>> = call.params): RouteContext {
  let origin: string | undefined;
  const context: RouteContext = {
    request: call.request,
    url: call.url,
    params,
    orgId: call.session.orgId,
    caller: deciderOf(call.session),
    body: "",
    engine: call.engine,
    settings: call.settings,
    get hostedOrigin() {
      origin ??= call.settings.hostedOrigin(context);
      return origin;
    },
    report: (error) => call.report(error),
  };
  return context;
}

/** A signed-in page of the console. */
export function page(call: ConsoleCall, title: string, section: Section | undefined, body: SafeHtml, status = 200): Promise<Response> {
  const shown: ConsolePage = { title, body, status, root: call.root, session: call.session, ...(section ? { section } : {}) };
  return consolePage(shown);
}

/** A moment, or a dash. */
export function moment(at: number | null | undefined): SafeHtml | string {
  return at == null ? "—" : html`<time datetime="${new Date(at).toISOString()}">${utcMoment(new Date(at).toISOString())}</time>`;
}

/** A deadline that counts down in the browser, and reads as a moment without script. */
export function countdown(at: number): SafeHtml {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${utcMoment(iso)}</time> <span class="muted" data-deadline="${iso}"></span>`;
}

const GOOD = new Set(["submitted", "completed", "succeeded", "active", "open", "idle", "created", "started"]);
const BAD = new Set(["expired", "failed", "cancelled", "deleted", "unknown"]);

/** A status as a badge: green for a good end or a live state, red for a bad end. */
export function badge(status: string): SafeHtml {
  const tone = BAD.has(status)
    ? "bad"
    : status === "pending" || status === "processing" || status === "retrying"
      ? "live"
      : GOOD.has(status)
        ? "ok"
        : "";
  return html`<span class="badge ${tone}">${status}</span>`;
}

/** JSON as a page shows it: indented, in a `<pre>`. */
export function jsonBlock(value: unknown): SafeHtml {
  return html`<pre>${JSON.stringify(value ?? null, null, 2)}</pre>`;
}

/** A link to a record's page. */
export function recordLink(root: string, id: string): SafeHtml {
  return html`<a class="mono" href="${root}/s/${encodeURIComponent(id)}">${id}</a>`;
}

/** Notices a redirect may ask a page to show, by a fixed key: no posted text is reflected. */
export const NOTICES: Readonly<Record<string, string>> = Object.freeze({
  approved: "The action was approved.",
  denied: "The action was denied.",
  tested: "A test event was queued for delivery.",
});

/** The notice a `?notice=` names, if any. */
export function notice(url: URL): SafeHtml | null {
  const key = url.searchParams.get("notice");
  const text = key !== null && Object.hasOwn(NOTICES, key) ? NOTICES[key] : undefined;
  return text === undefined ? null : html`<p class="notice" role="status">${text}</p>`;
}

/** A problem shown at the top of a page. */
export function problem(message: string | null): SafeHtml | null {
  return message === null ? null : html`<div class="problem" role="alert">${message}</div>`;
}
