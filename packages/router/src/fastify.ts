// The router as a Fastify plugin, in its own encapsulated scope: Fastify leaves the body unread
// and the router answers on the raw response, so nothing of the app's own parsers or hooks on
// replies applies to it. Written against the few members of Fastify it uses: no dependency.
import { type NodeRequest, type NodeResponse, toNodeHandler } from "./node.js";
import type { AgentSessionsRouter } from "./router.js";

/** The members of a Fastify instance the plugin uses. */
export interface FastifyScope {
  removeAllContentTypeParsers(): unknown;
  addContentTypeParser(contentType: string, parser: (request: unknown, payload: unknown, done: (error: Error | null) => void) => void): unknown;
  all(
    path: string,
    handler: (request: { readonly raw: NodeRequest }, reply: { readonly raw: NodeResponse; hijack(): unknown }) => Promise<void>,
  ): unknown;
}

/**
 * A Fastify 5 plugin serving the router under its `basePath`: `app.register(fastifyPlugin(router))`.
 * It registers a catch-all route for every method at `basePath` and below, and, in its own scope
 * only, a content-type parser for every type that reads nothing, so the router gets the body as
 * the client sent it (and applies its own size limit). The reply is hijacked and written by
 * `toNodeHandler`, which streams long-polls and event streams as the router answers them.
 */
export function fastifyPlugin(router: AgentSessionsRouter): (scope: FastifyScope, options: unknown, done: (error?: Error) => void) => void {
  const handler = toNodeHandler(router);
  return function agentSessions(scope, _options, done) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, parsed) => parsed(null));
    const serve = async (request: { readonly raw: NodeRequest }, reply: { readonly raw: NodeResponse; hijack(): unknown }) => {
      reply.hijack();
      await handler(request.raw, reply.raw);
    };
    scope.all(`${router.basePath}/*`, serve);
    if (router.basePath !== "") scope.all(router.basePath, serve);
    done();
  };
}
