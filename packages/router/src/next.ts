// The router as the route handlers of a Next.js App Router catch-all route.
import type { AgentSessionsRouter } from "./router.js";

/** A route handler of the App Router: Next.js passes its `NextRequest`, a web Request. */
export type NextRouteHandler = (request: Request) => Promise<Response>;

/** The methods an App Router route file exports, each answered by the router. */
export interface NextRouteHandlers {
  readonly GET: NextRouteHandler;
  readonly HEAD: NextRouteHandler;
  readonly POST: NextRouteHandler;
  readonly PUT: NextRouteHandler;
  readonly PATCH: NextRouteHandler;
  readonly DELETE: NextRouteHandler;
  readonly OPTIONS: NextRouteHandler;
}

/**
 * The exports of a catch-all route file such as `app/agent-sessions/[...path]/route.ts`:
 * `export const { GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD } = nextRouteHandlers(router)`.
 * Next.js hands each handler the whole URL, so give `createRouter` the folder as its `basePath`
 * (`/agent-sessions`). The body reaches the router unread (Next.js parses none for route
 * handlers), and a long-poll or an event stream is answered as it goes. Export
 * `dynamic = "force-dynamic"` beside them so no answer is ever cached at build time.
 *
 * `next start` names every request's URL after its own hostname (`localhost`), not after the
 * `Host` the client asked for; the handlers put that `Host` back, so hosted form URLs without a
 * `publicUrl` name the host the client used, when the router's `allowedHosts` allow it.
 */
export function nextRouteHandlers(router: AgentSessionsRouter): NextRouteHandlers {
  const handle: NextRouteHandler = (request) => router.fetch(withClientHost(request));
  return { GET: handle, HEAD: handle, POST: handle, PUT: handle, PATCH: handle, DELETE: handle, OPTIONS: handle };
}

/** The request with its URL's host replaced by its `Host` header, when they differ. */
function withClientHost(request: Request): Request {
  const host = request.headers.get("host");
  const url = new URL(request.url);
  if (!host || host === url.host) return request;
  url.host = host;
  if (url.host !== host) return request; // a Host the URL cannot hold is left for the router to judge on the URL as it was
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers: request.headers, body: request.body, signal: request.signal };
  if (request.body) init.duplex = "half";
  return new Request(url, init);
}
