import { type Engine, type FormSession, ID_PREFIXES, isAgentSessionsError, isPrefixedId } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { html, pageResponse } from "../hosted/html.js";
import {
  alreadySubmittedPage,
  expiredPage,
  formPage,
  notFoundPage,
  type Page,
  PARTIAL,
  prefillView,
  SUBMIT_AS,
  thankYouPage,
} from "../hosted/pages.js";
import { findProblems, type HostedPost, isInvalidInput, problemSentence, problemView, readPost } from "../hosted/post.js";
import type { ErrorAnswer } from "../http.js";
import type { RouteDefinition, RouteResponse } from "../route.js";

const FORM_ENCODED = "application/x-www-form-urlencoded";

const send = (page: Page) => pageResponse(page.status, page.title, page.body);
const htmlPage = (description: string): RouteResponse => ({ description, contentType: "text/html" });
const hasCode = (error: unknown, ...codes: string[]) => isAgentSessionsError(error) && codes.includes(error.code);

/** The form session behind a hosted URL, or null for an unknown id or another kind's. */
async function load(engine: Engine, id: string): Promise<FormSession | null> {
  if (!isPrefixedId(id, ID_PREFIXES.formSession)) return null;
  try {
    return await engine.formSessions.hosted(id);
  } catch (error) {
    if (hasCode(error, "not_found")) return null;
    throw error;
  }
}

/** The form's name, the page's title and heading. */
async function formTitle(engine: Engine, session: FormSession): Promise<string> {
  try {
    return (await engine.forms.get(session.orgId, session.formId)).name;
  } catch (error) {
    if (hasCode(error, "not_found")) return "Form";
    throw error;
  }
}

/** `created → open`; a session that expired or was submitted meanwhile is shown as it now is. */
async function open(engine: Engine, session: FormSession): Promise<FormSession> {
  try {
    return await engine.formSessions.open(session.id);
  } catch (error) {
    if (hasCode(error, "expired", "illegal_transition")) return engine.formSessions.hosted(session.id);
    throw error;
  }
}

/** The page a session shows as it stands: the form, the thank-you page or the expired page. */
function statusPage(title: string, session: FormSession): Page {
  if (session.status === "submitted") return thankYouPage(title, session);
  if (session.status === "expired") return expiredPage(title, session);
  return formPage(title, session, prefillView(session));
}

/** Submits a post through the engine and maps what it refuses to the page a person should see. */
async function submit(engine: Engine, title: string, session: FormSession, post: HostedPost): Promise<Page> {
  try {
    const submitted = await engine.formSessions.submit(session.id, { values: post.values, partial: post.partial });
    return thankYouPage(title, submitted);
  } catch (error) {
    if (isInvalidInput(error)) {
      const name = error.field?.startsWith("values.") ? error.field.slice("values.".length) : undefined;
      const view = name
        ? problemView(session, post, { [name]: problemSentence(error) })
        : problemView(session, post, {}, [problemSentence(error)]);
      return formPage(title, session, view, 400);
    }
    if (hasCode(error, "expired")) return expiredPage(title, session);
    if (hasCode(error, "illegal_transition")) return alreadySubmittedPage(title);
    if (hasCode(error, "version_conflict")) {
      return formPage(title, session, problemView(session, post, {}, ["The form was busy for a moment and your answers were not saved. Please submit again."]), 409);
    }
    if (hasCode(error, "not_found")) return notFoundPage();
    throw error;
  }
}

/** Headings of the errors the router answers on a hosted route, in a person's words. */
const ERROR_HEADINGS: Record<number, string> = {
  400: "This request could not be read",
  413: "Your answers are too long to send",
  429: "Too many requests from your network",
};

/** An error the router answers on a hosted route (a body too large, a 500), as a page. */
function errorPage({ status, message, headers }: ErrorAnswer): Promise<Response> {
  const heading = ERROR_HEADINGS[status] ?? "Something went wrong";
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return pageResponse(status, heading, html`<h1>${heading}</h1>\n<p class="lead">${sentence}.</p>\n<p>Go back, then try again.</p>`, headers);
}

function isFormEncoded(request: Request): boolean {
  const type = request.headers.get("content-type");
  return type === null || type.split(";")[0]!.trim().toLowerCase() === FORM_ENCODED;
}

/**
 * The hosted form page (seed 000): public, its unguessable session URL being the capability.
 * HTML rendered on the server with no script and no external asset, under a strict CSP.
 */
export const hostedRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/f/:id",
    summary: "The hosted form page; loading it opens a created session",
    tag: "Hosted form page",
    public: true,
    responses: {
      200: htmlPage("The form, or the thank-you page once submitted"),
      404: htmlPage("No form session has this id"),
      410: htmlPage("The session expired"),
    },
    failure: "Failed to load the form",
    errorPage,
    async handle({ engine, params }) {
      let session = await load(engine, params.id!);
      if (!session) return send(notFoundPage());
      if (session.status === "created") session = await open(engine, session);
      return send(statusPage(await formTitle(engine, session), session));
    },
  },
  {
    method: "POST",
    path: "/f/:id",
    summary: `Submit the hosted form; ${SUBMIT_AS}=${PARTIAL} submits what was filled where the form allows partial submissions`,
    tag: "Hosted form page",
    public: true,
    body: Type.Record(Type.String(), Type.String(), {
      description: `The visible fields by name, as an HTML form posts them. An unticked checkbox is false; hidden fields and undeclared names are ignored; ${SUBMIT_AS}=${PARTIAL} asks for a partial submission.`,
    }),
    bodyContentType: FORM_ENCODED,
    responses: {
      200: htmlPage("The thank-you page"),
      400: htmlPage("The form again, with the person's values and each problem beside its field"),
      404: htmlPage("No form session has this id"),
      409: htmlPage("Already submitted with other values, or a concurrent update"),
      410: htmlPage("The session expired: no more submissions"),
      413: htmlPage("The body is over the size limit"),
      415: htmlPage(`The body is not ${FORM_ENCODED}`),
    },
    failure: "Failed to submit the form",
    errorPage,
    async handle({ engine, params, request, body }) {
      let session = await load(engine, params.id!);
      if (!session) return send(notFoundPage());
      // Whoever posts has the form in hand, and a refused post shows it again: the session is open.
      if (session.status === "created") session = await open(engine, session);
      const title = await formTitle(engine, session);
      if (session.status === "expired") return send(expiredPage(title, session));
      if (!isFormEncoded(request)) {
        return pageResponse(415, title, html`<h1>${title}</h1>\n<p class="lead">This form can only be sent as ${FORM_ENCODED}.</p>`);
      }
      const post = readPost(session, typeof body === "string" ? body : "");
      if (session.status !== "submitted") {
        const problems = findProblems(session, post, engine.now());
        if (Object.keys(problems).length > 0) return send(formPage(title, session, problemView(session, post, problems), 400));
      }
      return send(await submit(engine, title, session, post));
    },
  },
];
