import { constantTimeEqual, type Engine } from "@agent-sessions/core";
import type { Authenticate, Principal } from "../auth.js";
import { html, type SafeHtml } from "../hosted/html.js";
import { hasCode, isFormEncoded } from "../hosted/send.js";
import { HttpError, readBody } from "../http.js";
import type { RateLimits } from "../rate-limit.js";
import type { RouterSettings } from "../route.js";
import { eventsRoute } from "../routes/events.js";
import { decide } from "./actions.js";
import { type ConsoleCall, routeContext } from "./context.js";
import { consolePage, seeOther } from "./layout.js";
import { findRecord, recordPage } from "./record.js";
import {
  type ConsoleSession,
  type ConsoleSessionOptions,
  ConsoleSessions,
  CSRF_FIELD,
  cookie,
  csrfMatches,
  LOGIN_COOKIE,
  randomToken,
  readCookie,
  SESSION_COOKIE,
} from "./sessions.js";
import { actionsPage, KIND_OF_SECTION, listPage, overview, sendTestEvent, webhookPage, webhooksPage } from "./views.js";

/** The console's options (`RouterOptions.console`). */
export interface ConsoleOptions extends ConsoleSessionOptions {
  /** The clock of sign-in sessions' inactivity, in milliseconds. Default: `Date.now`. */
  readonly clock?: () => number;
}

/** What the console needs from the router that mounts it. */
export interface ConsoleDependencies {
  readonly engine: Engine;
  readonly authenticate: Authenticate;
  readonly limits: RateLimits | null;
  readonly settings: RouterSettings;
  /** The router's base path; the console answers below it, at `/console`. */
  readonly basePath: string;
  readonly maxBodyBytes: number;
  report(error: unknown, request: Request): void;
}

/** One of the console's handlers, for the router's table. */
export interface ConsoleHandler {
  readonly method: "GET" | "POST";
  readonly path: string;
  handle(request: Request & { params?: Record<string, string> }): Promise<Response>;
}

type Handle = (call: ConsoleCall) => Promise<Response>;

/** The login form's fields. */
const KEY_FIELD = "api_key";
const LOGIN_TOKEN_FIELD = "login_token";

/** The sign-in page, with the token its post must carry (also set in a cookie: a login form no other site can post). */
function loginPage(root: string, request: Request, status = 200, message: string | null = null): Promise<Response> {
  const token = randomToken();
  const body = html`<div class="login card">
<h1>Sign in</h1>
<p>Sign in with an API key. The console shows only its organization's sessions; the key is not kept, only a session id in a cookie.</p>
${message === null ? null : html`<div class="problem" role="alert">${message}</div>`}
<form method="post" action="${root}/login">
<input type="hidden" name="${LOGIN_TOKEN_FIELD}" value="${token}">
<div class="field"><label for="api-key">API key</label><input type="password" id="api-key" name="${KEY_FIELD}" autocomplete="current-password" required spellcheck="false"></div>
<button type="submit">Sign in</button>
</form></div>`;
  return consolePage({
    title: "Sign in",
    body,
    root,
    session: null,
    status,
    headers: { "set-cookie": cookie(request, LOGIN_COOKIE, token, root, 600) },
  });
}

/** A page of an error, for a person. */
function errorPage(
  root: string,
  session: ConsoleSession | null,
  status: number,
  title: string,
  message: string | SafeHtml,
  headers?: Record<string, string>,
) {
  const body = html`<h1>${title}</h1><p>${message}</p><p><a href="${root}">Back to the overview</a></p>`;
  return consolePage({ title, body, root, session, status, ...(headers ? { headers } : {}) });
}

/** The console's handlers, mounted under `<basePath>/console` by `createRouter({ console: true })`. */
export function consoleHandlers(deps: ConsoleDependencies, options: ConsoleOptions = {}): ConsoleHandler[] {
  const root = `${deps.basePath}/console`;
  const sessions = new ConsoleSessions(options);
  const clock = options.clock ?? Date.now;
  const { limits } = deps;

  /** Counts a request against a limit; a limiter's 429 comes back as an HttpError. */
  async function count(check: (() => void | Promise<void>) | undefined): Promise<void> {
    const counted = check?.();
    if (counted) await counted;
  }

  /** The posted form of a request, read within the router's body limit. */
  async function formOf(request: Request): Promise<URLSearchParams> {
    if (!isFormEncoded(request)) throw new HttpError(415, "the console takes form posts (application/x-www-form-urlencoded)");
    return new URLSearchParams(await readBody(request, deps.maxBodyBytes));
  }

  /** Answers a failure as a page: a limit, an absent record (404), a refusal, or a 500 without internals. */
  function failure(error: unknown, request: Request, session: ConsoleSession | null): Promise<Response> {
    if (error instanceof HttpError) {
      const title = error.status === 429 ? "Too many requests" : error.status === 404 ? "Not found" : "Request refused";
      return errorPage(root, session, error.status, title, error.message, error.headers);
    }
    if (hasCode(error, "not_found")) return errorPage(root, session, 404, "Not found", "There is nothing here for your organization.");
    if (hasCode(error, "invalid_input")) return errorPage(root, session, 400, "Request refused", (error as Error).message);
    if (hasCode(error, "illegal_transition", "conflict", "version_conflict"))
      return errorPage(root, session, 409, "Not possible now", (error as Error).message);
    deps.report(error, request);
    return errorPage(root, session, 500, "Something went wrong", "The console could not answer; try again.");
  }

  /** Wraps a handler with the session check, the per-key limit and, on a POST, the CSRF check. */
  function signedIn(method: "GET" | "POST", handle: Handle) {
    return async (request: Request & { params?: Record<string, string> }): Promise<Response> => {
      let session: ConsoleSession | null = null;
      try {
        session = sessions.touch(readCookie(request, SESSION_COOKIE), clock());
        if (session === null) {
          await count(limits ? () => limits.anonymous(request) : undefined);
          if (method === "GET") return seeOther(`${root}/login`);
          return errorPage(root, null, 403, "Signed out", html`Your console session ended. <a href="${root}/login">Sign in again</a>.`);
        }
        const principal: Principal = { orgId: session.orgId, ...(session.rateLimitKey ? { rateLimitKey: session.rateLimitKey } : {}) };
        await count(limits ? () => limits.perKey(principal, request) : undefined);
        const form = method === "POST" ? await formOf(request) : new URLSearchParams();
        if (method === "POST" && !csrfMatches(session.csrf, form.get(CSRF_FIELD))) {
          return errorPage(root, session, 403, "Request refused", "This form is missing its security token (CSRF); reload the page and try again.");
        }
        const params = decodeParams(request.params);
        const call: ConsoleCall = {
          request,
          url: new URL(request.url),
          params,
          session,
          engine: deps.engine,
          root,
          form,
          settings: deps.settings,
          report: (error) => deps.report(error, request),
        };
        return await handle(call);
      } catch (error) {
        return failure(error, request, session);
      }
    };
  }

  async function login(request: Request): Promise<Response> {
    try {
      await count(limits ? () => limits.anonymous(request) : undefined);
      const form = await formOf(request);
      const expected = readCookie(request, LOGIN_COOKIE);
      const posted = form.get(LOGIN_TOKEN_FIELD);
      if (expected === null || posted === null || !constantTimeEqual(expected, posted)) {
        return loginPage(root, request, 403, "The sign-in form expired or came from elsewhere; please sign in again.");
      }
      const key = (form.get(KEY_FIELD) ?? "").trim();
      let principal = key === "" ? null : deps.authenticate(new Request(request.url, { headers: { authorization: `Bearer ${key}` } }));
      if (principal && typeof (principal as PromiseLike<unknown>).then === "function") principal = await principal;
      if (!principal) {
        await count(limits ? () => limits.authFailure(request) : undefined);
        return loginPage(root, request, 401, "That API key is not valid.");
      }
      const session = sessions.create(principal as Principal, clock());
      return seeOther(root, [cookie(request, SESSION_COOKIE, session.id, root), cookie(request, LOGIN_COOKIE, "", root, 0)]);
    } catch (error) {
      return failure(error, request, null);
    }
  }

  const handlers: ConsoleHandler[] = [
    {
      method: "GET",
      path: "/login",
      handle: async (request) => (sessions.touch(readCookie(request, SESSION_COOKIE), clock()) ? seeOther(root) : loginPage(root, request)),
    },
    { method: "POST", path: "/login", handle: login },
    {
      method: "POST",
      path: "/logout",
      handle: signedIn("POST", async (call) => {
        sessions.end(call.session.id);
        return seeOther(`${root}/login`, [cookie(call.request, SESSION_COOKIE, "", root, 0)]);
      }),
    },
    { method: "GET", path: "", handle: signedIn("GET", overview) },
    ...Object.entries(KIND_OF_SECTION).map(([section, kind]) => ({
      method: "GET" as const,
      path: `/${section}`,
      handle: signedIn("GET", (call) => listPage(call, kind)),
    })),
    { method: "GET", path: "/actions", handle: signedIn("GET", actionsPage) },
    { method: "GET", path: "/webhooks", handle: signedIn("GET", webhooksPage) },
    { method: "GET", path: "/webhooks/:id", handle: signedIn("GET", webhookPage) },
    { method: "POST", path: "/webhooks/:id/test", handle: signedIn("POST", sendTestEvent) },
    { method: "GET", path: "/s/:id", handle: signedIn("GET", showRecord) },
    { method: "GET", path: "/s/:id/events", handle: signedIn("GET", (call) => eventsRoute(routeContext(call))) },
    {
      method: "POST",
      path: "/s/:threadId/actions/:actionId",
      handle: signedIn("POST", async (call) => {
        const answer = await decide(call);
        if (answer instanceof Response) return answer;
        const found = await findRecord(call, call.params.threadId!);
        if (found === null) throw new HttpError(404, "There is no such thread in your organization.");
        return recordPage(call, found, answer);
      }),
    },
  ];
  return handlers;
}

/** A record's page, or a 404 for an id that names none of this organization's sessions. */
async function showRecord(call: ConsoleCall): Promise<Response> {
  const found = await findRecord(call, call.params.id!);
  if (found === null) throw new HttpError(404, "There is no such session in your organization.");
  return recordPage(call, found);
}

function decodeParams(params: Record<string, string> | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      throw new HttpError(400, `${name}: is not a valid URL component`);
    }
  }
  return decoded;
}
