import { IttyRouter } from "itty-router";

type Handler = (request: Request & { params: Record<string, string> }) => Promise<Response>;

/**
 * Routes grouped by method and by the number of segments in their path. itty-router compiles each
 * path into its pattern, and each group holds its routes in the order they were added. A request
 * is matched only against the routes that could match it, on the path this table already read
 * from its URL: itty's own `fetch` parses the whole URL again with `new URL` (about a microsecond
 * a request under load) and tests each route in turn.
 *
 * A path with a wildcard (`*`), a repeating (`:name+`) or an optional (`:name?`) parameter can
 * match any number of segments, so it joins every group of its method. A request whose path the
 * URL parser may rewrite (dot segments, backslashes, tabs, characters it percent-encodes) is
 * matched against all the routes of its method on the pathname that parser gives, as itty does.
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
    const url = request.url;
    const path = plainPath(url);
    if (path === null) return answer(routes.all, request, new URL(url).pathname);
    return answer(routes.bySegments.get(countSegments(path)) ?? routes.anyLength, request, path);
  }

  /** The methods with a route whose pattern matches `pathname`, in the order they were added. */
  methodsMatching(pathname: string): string[] {
    const methods: string[] = [];
    for (const [method, routes] of (this.#methods ??= this.#build())) {
      if (routes.all.some((route) => route.pattern.test(pathname))) methods.push(method);
    }
    return methods;
  }

  #build(): Map<string, MethodRoutes> {
    const methods = new Map<string, MethodRoutes>();
    // Every group of a method is made first, so a route of any length lands in all of them in order.
    for (const { method, segments } of this.#entries) {
      let routes = methods.get(method);
      if (!routes) {
        routes = { bySegments: new Map(), anyLength: [], all: [] };
        methods.set(method, routes);
      }
      if (segments !== null && !routes.bySegments.has(segments)) routes.bySegments.set(segments, []);
    }
    for (const { method, path, handler, segments } of this.#entries) {
      const routes = methods.get(method)!;
      const compiled = compile(method, path, handler);
      const targets = segments === null ? [...routes.bySegments.values(), routes.anyLength] : [routes.bySegments.get(segments)!];
      for (const group of [...targets, routes.all]) group.push(compiled);
    }
    return methods;
  }
}

/** One route as itty-router keeps it: its pattern, its handlers and the path it was added with. */
interface CompiledRoute {
  readonly pattern: RegExp;
  readonly handlers: readonly Handler[];
  readonly path: string;
}

/** The route as itty-router compiles it, read back from a router holding only that route. */
function compile(method: string, path: string, handler: Handler): CompiledRoute {
  const router = IttyRouter();
  router[method.toLowerCase() as "get"](path, handler);
  const [, pattern, handlers, compiledPath] = (router.routes as unknown as Array<[string, RegExp, Handler[], string]>)[0]!;
  return { pattern, handlers, path: compiledPath };
}

/**
 * What itty's `fetch` does with its routes, on a pathname already known: the first route whose
 * pattern matches gets the request, with `params` and `route` set as itty sets them, and its
 * handlers are called in turn until one answers. itty's `request.query` is not built: routes read
 * their query from `RouteContext.url`, parsed only when asked for.
 */
async function answer(group: readonly CompiledRoute[], request: Request, pathname: string): Promise<Response | undefined> {
  for (const route of group) {
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    const target = request as Request & { params: Record<string, string>; route: string };
    target.params = match.groups ?? {};
    target.route = route.path;
    for (const handler of route.handlers) {
      const response = await handler(target);
      if (response != null) return response;
    }
  }
  return undefined;
}

interface MethodRoutes {
  /** The routes of one segment count, with the routes of any length among them. */
  readonly bySegments: Map<number, CompiledRoute[]>;
  /** Only the routes of any length: for a count no fixed route has. */
  readonly anyLength: CompiledRoute[];
  /** Every route of the method: for a path the URL parser may rewrite. */
  readonly all: CompiledRoute[];
}

/** How many segments every path a pattern matches has, or `null` when that varies. */
export function patternSegments(path: string): number | null {
  if (/[*+?]/.test(path)) return null;
  return path.split("/").filter(Boolean).length;
}

/**
 * Characters the URL parser keeps as they are in a path: letters, digits, `/`, `%` and the
 * punctuation RFC 3986 allows in a segment. Others (space, quotes, `<`, `>`, `^`, `{`, `}`,
 * backslash, controls, anything past `~`) it may percent-encode or rewrite.
 */
const KEPT = new Uint8Array(128);
for (const char of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%/") KEPT[char.charCodeAt(0)] = 1;

/**
 * The path of an absolute URL as the URL parser would give it (`/` for none), found without
 * parsing the URL, or `null` when that parser may give another one: a character it may encode,
 * or a segment that may be a dot segment, which it resolves (`/a/./b`, `/a/%2e%2e/b`).
 */
export function plainPath(url: string): string | null {
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
    if (start < 0) {
      if (code === 47 /* / */) start = i;
      continue;
    }
    if (code >= 128 || KEPT[code] === 0) return null;
    if (code === 46 /* . */ && url.charCodeAt(i - 1) === 47) return null;
    if (code === 37 /* % */ && url.charCodeAt(i + 1) === 50 /* 2 */ && (url.charCodeAt(i + 2) | 0x20) === 101 /* e */) return null;
  }
  return start < 0 ? "/" : url.slice(start, end);
}

/** How many segments a path has once its trailing slashes are dropped (itty's patterns allow them). */
export function countSegments(path: string): number {
  let last = path.length;
  while (last > 0 && path.charCodeAt(last - 1) === 47 /* / */) last--;
  let segments = 0;
  for (let i = 0; i < last; i++) if (path.charCodeAt(i) === 47) segments++;
  return segments;
}
