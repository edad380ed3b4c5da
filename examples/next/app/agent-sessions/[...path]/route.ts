// Every agent-sessions endpoint and the hosted form page, under /agent-sessions, as the App Router
// route handlers of one catch-all route. The engine and its router live in lib/agent-sessions.ts.
import { nextRouteHandlers } from "@agent-sessions/router/next";
import { router } from "../../../lib/agent-sessions";

// Never cached, never prerendered: every answer is about the store as it is now.
export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = nextRouteHandlers(router);
