import { IttyRouter } from "itty-router";

type Itty = ReturnType<typeof IttyRouter>;
type Handler = (request: Request & { params: Record<string, string> }) => Promise<Response>;

/**
 * Routes grouped by method and by the number of segments in their path, each group an itty-router
 * holding its routes in the order they were added. A request is matched only against the routes
 * that could match it, instead of testing every route's pattern in turn (itty reads the URL's
 * pathname again for each one).
 *
 * A path with a wildcard (`*`), a repeating (`:name+`) or an optional (`:name?`) parameter can
 * match any number of segments, so it joins every group of its method. A request whose path the
 * URL parser may rewrite (dot segments, backslashes, tabs) is matched against all the routes of
 * its method, as it would be without groups.
 */
export class RouteTable {
  readonly #entries: Array<{ method: string; path: string; handler: Handler; segments: number | null }> = [];
  #groups: Map<string, Itty> | null = null;
  #byMethod: Map<string, Itty> | null = null;

  add(method: string, path: string, handler: Handler): void {
    if (this.#groups) throw new Error("RouteTable: routes are added before the first request");
    this.#entries.push({ method, path, handler, segments: patternSegments(path) });
  }

  /** The answer of the first route that matches and answers, or `undefined`. */
  fetch(request: Request): Promise<Response | undefined> | undefined {
    const { groups, byMethod } = this.#build();
    const segments = requestSegments(request.url);
    const router =
      segments === null
        ? byMethod.get(request.method)
        : (groups.get(groupKey(request.method, segments)) ?? groups.get(groupKey(request.method, null)));
    return router?.fetch(request) as Promise<Response | undefined> | undefined;
  }

  #build(): { groups: Map<string, Itty>; byMethod: Map<string, Itty> } {
    if (this.#groups && this.#byMethod) return { groups: this.#groups, byMethod: this.#byMethod };
    const groups = new Map<string, Itty>();
    const byMethod = new Map<string, Itty>();
    const routerOf = (map: Map<string, Itty>, key: string) => {
      let router = map.get(key);
      if (!router) {
        router = IttyRouter();
        map.set(key, router);
      }
      return router;
    };
    // Every group of a method, made first, so a route of any length lands in all of them in order.
    // The `null` group of a method holds only its routes of any length.
    for (const { method, segments } of this.#entries) {
      routerOf(groups, groupKey(method, segments));
      routerOf(groups, groupKey(method, null));
    }
    for (const { method, path, handler, segments } of this.#entries) {
      const register = (router: Itty) => router[method.toLowerCase() as "get"](path, handler);
      register(routerOf(byMethod, method));
      if (segments !== null) {
        register(groups.get(groupKey(method, segments))!);
        continue;
      }
      for (const [key, router] of groups) if (key.startsWith(`${method} `)) register(router);
    }
    this.#groups = groups;
    this.#byMethod = byMethod;
    return { groups, byMethod };
  }
}

function groupKey(method: string, segments: number | null): string {
  return `${method} ${segments ?? "*"}`;
}

/** How many segments every path a pattern matches has, or `null` when that varies. */
export function patternSegments(path: string): number | null {
  if (/[*+?]/.test(path)) return null;
  return path.split("/").filter(Boolean).length;
}

/** Characters after which the URL parser may give a path other segments than its text shows. */
const REWRITTEN = /\/\.|\\|%2e|[\t\n\r]/i;

/**
 * How many segments the path of an absolute URL has once its trailing slashes are dropped (as
 * itty's patterns allow them), or `null` when the URL parser may rewrite the path.
 */
export function requestSegments(url: string): number | null {
  const scheme = url.indexOf("://");
  if (scheme < 0) return null;
  // The path starts at the first "/" after the host, unless a query or a fragment comes first.
  let start = -1;
  let end = url.length;
  for (let i = scheme + 3; i < url.length; i++) {
    const code = url.charCodeAt(i);
    if (code === 63 /* ? */ || code === 35 /* # */) {
      end = i;
      break;
    }
    if (code === 47 /* / */ && start < 0) start = i;
  }
  if (start < 0) return 0;
  const path = url.slice(start, end);
  if (REWRITTEN.test(path)) return null;
  let last = path.length;
  while (last > 0 && path.charCodeAt(last - 1) === 47 /* / */) last--;
  let segments = 0;
  for (let i = 0; i < last; i++) if (path.charCodeAt(i) === 47) segments++;
  return segments;
}
