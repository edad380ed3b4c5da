import { respond } from "../http.js";
import { HOSTED_CSS } from "./style.js";

/** Escapes text for HTML element content and for double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Markup that is already escaped: `html` templates insert it as is and escape everything else. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(value);
}

/**
 * A template tag that escapes every interpolated value unless it is `SafeHtml` (another `html`
 * result), so a value can only reach the page as markup by going through this tag.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1]!;
  });
  return new SafeHtml(out);
}

const momentFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** A moment as pages show it: `15 Jan 2025, 10:31 UTC`. */
export function utcMoment(isoTime: string): string {
  return `${momentFormat.format(Date.parse(isoTime))} UTC`;
}

const styleHashes = new Map<string, Promise<string>>();

/** The CSP source of an inline stylesheet, hashed once per stylesheet with Web Crypto. */
function styleSource(css: string): Promise<string> {
  let hash = styleHashes.get(css);
  if (!hash) {
    hash = globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(css)).then((digest) => {
      let binary = "";
      for (const byte of new Uint8Array(digest)) binary += String.fromCharCode(byte);
      return `'sha256-${btoa(binary)}'`;
    });
    styleHashes.set(css, hash);
  }
  return hash;
}

/**
 * The headers of a server-rendered page whose one stylesheet is `css`. The CSP allows that
 * stylesheet (by hash), posting back to this origin and, given a `scriptNonce`, the inline scripts
 * carrying it and connections back to this origin (an event stream): no image, font, frame or base URL.
 */
export async function pageHeaders(css: string, scriptNonce?: string): Promise<Record<string, string>> {
  const scripts = scriptNonce === undefined ? [] : [`script-src 'nonce-${scriptNonce}'`, "connect-src 'self'"];
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": [
      "default-src 'none'",
      `style-src ${await styleSource(css)}`,
      ...scripts,
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
  };
}

/**
 * The headers of every hosted page. The CSP allows nothing but the page's own stylesheet (by
 * hash) and posting back to this origin: no script, image, font, frame or base URL at all.
 */
export function hostedHeaders(): Promise<Record<string, string>> {
  return pageHeaders(HOSTED_CSS);
}

/** An HTML document: the head every server-rendered page shares (title, viewport, its one stylesheet), then `body`. */
export function htmlDocument(title: string, css: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<style>${new SafeHtml(css)}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** A whole hosted page: the document shell around `body`, with the security headers. */
export async function pageResponse(status: number, title: string, body: SafeHtml, headers?: Record<string, string>): Promise<Response> {
  const document = htmlDocument(
    title,
    HOSTED_CSS,
    html`<main class="card">
${body}
</main>`,
  );
  const security = await hostedHeaders();
  return respond(document.value, { status, headers: headers ? { ...headers, ...security } : security });
}
