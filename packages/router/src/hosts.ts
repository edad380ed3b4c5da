import { HttpError } from "./http.js";
import type { RouteContext } from "./route.js";

/**
 * The hosts a request may name hosted form URLs after when the router has no `publicUrl` and no
 * `allowedHosts`: this machine's loopback names, on any port. A hosted URL names a host that a
 * person will trust with their answers, so the `Host` of a request (which its sender chooses) is
 * used only for a host the operator listed.
 */
export const LOOPBACK_HOSTS: readonly string[] = Object.freeze(["localhost", ".localhost", "127.0.0.1", "[::1]"]);

/** One entry of an allow-list of hosts. */
interface HostPattern {
  /** The host name as the URL parser writes it: lowercase, IPv6 in brackets. */
  readonly name: string;
  /** Matches the name's subdomains too (written with a leading dot, `.example.com`). */
  readonly subdomains: boolean;
  /** The port as digits, or `null` for any port. */
  readonly port: string | null;
}

/**
 * Reads one allowed host: `name`, `name:port`, `.domain` (the domain and its subdomains, on any
 * port, or `.domain:port`), an IPv4 address, or an IPv6 address in brackets; throws a TypeError
 * naming `source` for anything else (a scheme, a path, a wildcard).
 */
export function parseHostPattern(text: string, source = "allowedHosts"): HostPattern {
  const value = String(text).trim().toLowerCase();
  const subdomains = value.startsWith(".");
  const host = subdomains ? value.slice(1) : value;
  const port = /^(?:\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(host)?.[1] ?? null;
  let url: URL | null = null;
  try {
    if (host !== "" && !/[/?#@\\\s*]/.test(host)) url = new URL(`http://${host}`);
  } catch {
    url = null;
  }
  if (
    url === null ||
    url.hostname === "" ||
    (port !== null && (Number(port) < 1 || Number(port) > 65_535)) ||
    (port === null && host.endsWith(":"))
  ) {
    throw new TypeError(`${source}: '${text}' is not a host; give a name, name:port, .domain for its subdomains too, or [IPv6]:port`);
  }
  return { name: url.hostname, subdomains, port: port === null ? null : String(Number(port)) };
}

/** Whether a URL's host and port are among `patterns` (see `parseHostPattern`). */
export function hostMatcher(patterns: readonly string[], source = "allowedHosts"): (url: URL) => boolean {
  const parsed = patterns.map((pattern) => parseHostPattern(pattern, source));
  return (url) => {
    const name = url.hostname;
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    for (const pattern of parsed) {
      if (pattern.port !== null && pattern.port !== port) continue;
      if (name === pattern.name || (pattern.subdomains && name.endsWith(`.${pattern.name}`))) return true;
    }
    return false;
  };
}

/** Where hosted form URLs point: a fixed origin, or one chosen per request. */
export type PublicUrl = string | ((request: Request) => string);

/**
 * How a router finds the origin of a request's hosted form URLs: `publicUrl` when given (its
 * trailing slashes dropped), else the request's own origin followed by the router's `basePath`
 * when its host is allowed, else a 400 that names the host, raised before a route writes anything.
 */
export function hostedOriginResolver(
  publicUrl: PublicUrl | undefined,
  allowedHosts: readonly string[] | undefined,
  basePath = "",
): (context: RouteContext) => string {
  if (typeof publicUrl === "string") {
    const origin = publicUrl.replace(/\/+$/, "");
    return () => origin;
  }
  if (typeof publicUrl === "function") return (context) => String(publicUrl(context.request)).replace(/\/+$/, "");
  const allowed = hostMatcher(allowedHosts ?? LOOPBACK_HOSTS);
  return (context) => {
    const url = context.url;
    if (allowed(url)) return url.origin + basePath;
    throw new HttpError(
      400,
      `Host: '${url.host}' is not a host that hosted form URLs may name; the server lists them in its publicUrl or allowedHosts`,
    );
  };
}
