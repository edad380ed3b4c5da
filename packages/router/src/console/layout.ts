import { html, htmlDocument, pageHeaders, SafeHtml } from "../hosted/html.js";
import { respond } from "../http.js";
import { CONSOLE_JS } from "./script.js";
import { type ConsoleSession, CSRF_FIELD, randomToken } from "./sessions.js";
import { CONSOLE_CSS } from "./style.js";

/** The sections of the console's navigation. */
export const SECTIONS = [
  { key: "overview", path: "", label: "Overview" },
  { key: "forms", path: "/forms", label: "Form sessions" },
  { key: "workflows", path: "/workflows", label: "Workflows" },
  { key: "threads", path: "/threads", label: "Threads" },
  { key: "agents", path: "/agents", label: "Agent sessions" },
  { key: "actions", path: "/actions", label: "Pending actions" },
  { key: "webhooks", path: "/webhooks", label: "Webhooks" },
] as const;

/** A section of the navigation. */
export type Section = (typeof SECTIONS)[number]["key"];

/** A console page to send: its title, body, the section it belongs to and who is signed in. */
export interface ConsolePage {
  readonly status?: number;
  readonly title: string;
  readonly body: SafeHtml;
  /** The console's root path: the router's base path and `/console`. */
  readonly root: string;
  readonly session: ConsoleSession | null;
  readonly section?: Section;
  readonly headers?: Record<string, string>;
}

/** The hidden field with the session's CSRF token, which every console form posts. */
export function csrfInput(session: ConsoleSession): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${session.csrf}">`;
}

/** The header: the console's name, the navigation, the organization signed in and Sign out. */
function header(page: ConsolePage): SafeHtml {
  const { session, root } = page;
  if (session === null) {
    return html`<header class="top"><div class="bar"><span class="brand">agent-sessions console</span></div></header>`;
  }
  const links = SECTIONS.map(
    (section) =>
      html`<li><a href="${root}${section.path}"${section.key === page.section ? new SafeHtml(' aria-current="page"') : null}>${section.label}</a></li>`,
  );
  return html`<header class="top"><div class="bar">
<a class="brand" href="${root}">agent-sessions console</a>
<nav aria-label="Console"><ul>${links}</ul></nav>
<div class="who"><span>Signed in to <strong>${session.orgId}</strong>${session.label ? html` as <span class="mono">${session.label}</span>` : null}</span>
<form class="inline" method="post" action="${root}/logout">${csrfInput(session)}<button type="submit" class="secondary">Sign out</button></form></div>
</div></header>`;
}

/**
 * A whole console page with its security headers: the CSP allows the one stylesheet by hash and
 * the one inline script by a nonce made for this response, and nothing else.
 */
export async function consolePage(page: ConsolePage): Promise<Response> {
  const nonce = randomToken(16);
  const script = page.session === null ? null : html`<script nonce="${nonce}">${new SafeHtml(CONSOLE_JS)}</script>`;
  const document = htmlDocument(
    `${page.title} · agent-sessions console`,
    CONSOLE_CSS,
    html`<a class="skip" href="#main">Skip to content</a>
${header(page)}
<main id="main">
${page.body}
</main>
${script}`,
  );
  const security = await pageHeaders(CONSOLE_CSS, nonce);
  return respond(document.value, { status: page.status ?? 200, headers: page.headers ? { ...page.headers, ...security } : security });
}

/** A `303 See Other` to `location`, with any cookies to set. */
export function seeOther(location: string, cookies: readonly string[] = []): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  for (const value of cookies) headers.append("set-cookie", value);
  return respond(null, { status: 303, headers });
}
