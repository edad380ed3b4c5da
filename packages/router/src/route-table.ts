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
  /** Per method: a router per segment count, one for the other counts, and one with every route. */
  #methods: Map<string, MethodRoutes> | null = null;

  add(method: string, path: string, handler: Handler): void {
    if (this.#methods) throw new Error("RouteTable: routes are added before the first request");
    this.#entries.push({ method, path, handler, segments: patternSegments(path) });
  }

  /** The answer of the first route that matches and answers, or `undefined`. */
  fetch(request: Request): Promise<Response | undefined> | undefined {
    const routes = (this.#methods ??= this.#build()).get(request.method);
    if (!routes) return undefined;
    const segments = requestSegments(request.url);
    const router = segments === null ? routes.all : (routes.bySegments.get(segments) ?? routes.anyLength);
    return router.fetch(request) as Promise<Response | undefined>;
  }

  #build(): Map<string, MethodRoutes> {
    const methods = new Map<string, MethodRoutes>();
    // Every group of a method is made first, so a route of any length lands in all of them in order.
    for (const { method, segments } of this.#entries) {
      let routes = methods.get(method);
      if (!routes) {
        routes = { bySegments: new Map(), anyLength: IttyRouter(), all: IttyRouter() };
        methods.set(method, routes);
      }
      if (segments !== null && !routes.bySegments.has(segments)) routes.bySegments.set(segments, IttyRouter());
    }
    for (const { method, path, handler, segments } of this.#entries) {
      const routes = methods.get(method)!;
      const targets = segments === null ? [...routes.bySegments.values(), routes.anyLength] : [routes.bySegments.get(segments)!];
      for (const router of [...targets, routes.all]) router[method.toLowerCase() as "get"](path, handler);
    }
    return methods;
  }
}

interface MethodRoutes {
  /** The routes of one segment count, with the routes of any length among them. */
  readonly bySegments: Map<number, Itty>;
  /** Only the routes of any length: for a count no fixed route has. */
  readonly anyLength: Itty;
  /** Every route of the method: for a path the URL parser may rewrite. */
  readonly all: Itty;
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
