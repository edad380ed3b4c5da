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

let styleHash: Promise<string> | null = null;

/** The CSP source of the one inline stylesheet, hashed once with Web Crypto. */
function styleSource(): Promise<string> {
  styleHash ??= globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(HOSTED_CSS)).then((digest) => {
    let binary = "";
    for (const byte of new Uint8Array(digest)) binary += String.fromCharCode(byte);
    return `'sha256-${btoa(binary)}'`;
  });
  return styleHash;
}

/**
 * The headers of every hosted page. The CSP allows nothing but the page's own stylesheet (by
 * hash) and posting back to this origin: no script, image, font, frame or base URL at all.
 */
export async function hostedHeaders(): Promise<Record<string, string>> {
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": [
      "default-src 'none'",
      `style-src ${await styleSource()}`,
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

/** A whole hosted page: the document shell around `body`, with the security headers. */
export async function pageResponse(status: number, title: string, body: SafeHtml, headers?: Record<string, string>): Promise<Response> {
  const document = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<style>${new SafeHtml(HOSTED_CSS)}</style>
</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>
`;
  const security = await hostedHeaders();
  return respond(document.value, { status, headers: headers ? { ...headers, ...security } : security });
}
