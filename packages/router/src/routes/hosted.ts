import { type Engine, type FormSession, type HostedSubmission, ID_PREFIXES, isPrefixedId } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { renderHostedPage } from "../hosted/pages.js";
import {
  type HostedPost,
  isInvalidInput,
  PARTIAL,
  prefillValues,
  problemSentence,
  problemsView,
  readPost,
  SUBMIT_AS,
  shownValues,
} from "../hosted/post.js";
import { FORM_ENCODED, hasCode, htmlPage, isFormEncoded, send } from "../hosted/send.js";
import { expiryOf, type HostedRender, type HostedView, sessionView, visibleFields } from "../hosted/view.js";
import type { ErrorAnswer } from "../http.js";
import type { RouteDefinition } from "../route.js";

/** The view of a session as it stands: the form, the thank-you page or the expired page. */
function statusView(session: FormSession): HostedView {
  const fields = visibleFields(session);
  if (session.status === "submitted") {
    const missing = new Set(session.submission?.missingFields ?? []);
    return { ...sessionView(session), page: "submitted", status: 200, leftOut: fields.filter((field) => missing.has(field.name)) };
  }
  if (session.status === "expired") return { ...sessionView(session), page: "expired", status: 410, expiresAt: expiryOf(session) };
  return formView(session, { values: prefillValues(session, fields), problems: {}, general: [] }, 200);
}

/** The form with what its inputs show and the problems beside them. */
function formView(
  session: FormSession,
  shown: { values: Record<string, string | boolean>; problems: Record<string, string>; general: string[] },
  status: 200 | 400 | 409,
): HostedView {
  return {
    ...sessionView(session),
    page: "form",
    status,
    fields: visibleFields(session),
    ...shown,
    allowPartial: session.allowPartial,
    partialSubmit: { name: SUBMIT_AS, value: PARTIAL },
    expiresAt: expiryOf(session),
  };
}

/** The form sent back after a refused post: the person's values, each problem beside its field. */
function refusedView(
  session: FormSession,
  post: HostedPost,
  problems: Readonly<Record<string, string>>,
  general: string[] = [],
  status: 400 | 409 = 400,
): HostedView {
  const fields = visibleFields(session);
  return formView(session, { values: shownValues(session, post, fields), ...problemsView(fields, problems, general) }, status);
}

/** The view after a post, by what the engine made of it. */
function submittedView({ outcome, session, problems }: HostedSubmission, post: HostedPost): HostedView {
  switch (outcome) {
    case "submitted":
      return statusView(session);
    case "invalid":
      return refusedView(session, post, problems);
    case "expired":
      return statusView(session);
    case "already_submitted":
      return { ...sessionView(session), page: "already_submitted", status: 409 };
  }
}

/**
 * Posts through the engine; what it refuses outright (a value no page sends, a write that kept
 * losing to others) is shown on the form as it now is.
 */
async function submit(engine: Engine, id: string, post: HostedPost): Promise<HostedView> {
  try {
    return submittedView(await engine.formSessions.hostedSubmit(id, post.values, { partial: post.partial }), post);
  } catch (error) {
    if (hasCode(error, "not_found")) return { page: "not_found", status: 404 };
    if (isInvalidInput(error)) {
      const session = await engine.formSessions.hostedOpen(id);
      const name = error.field?.startsWith("values.") ? error.field.slice("values.".length) : undefined;
      return name ? refusedView(session, post, { [name]: problemSentence(error) }) : refusedView(session, post, {}, [problemSentence(error)]);
    }
    if (hasCode(error, "version_conflict")) {
      const session = await engine.formSessions.hostedOpen(id);
      return refusedView(session, post, {}, ["The form was busy for a moment and your answers were not saved. Please submit again."], 409);
    }
    throw error;
  }
}

/** The session behind a hosted URL, opened if it was created, or `null` for an id that names no form session. */
async function open(engine: Engine, id: string): Promise<FormSession | null> {
  if (!isPrefixedId(id, ID_PREFIXES.formSession)) return null;
  try {
    return await engine.formSessions.hostedOpen(id);
  } catch (error) {
    if (hasCode(error, "not_found")) return null;
    throw error;
  }
}

/**
 * The hosted form page (seed 000): public, its unguessable session URL being the capability. Each
 * answer is a `HostedView` drawn by `render`: by default HTML rendered on the server with no
 * script and no external asset, under a strict CSP.
 */
export function hostedRoutes(render: HostedRender = renderHostedPage): RouteDefinition[] {
  /** An error the router answers on a hosted route (a body too large, a 500), as a page. */
  const errorPage = ({ status, message, headers }: ErrorAnswer) => send(render, { page: "error", status, message }, headers);
  return [
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
        const session = await open(engine, params.id!);
        return send(render, session ? statusView(session) : { page: "not_found", status: 404 });
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
        const id = params.id!;
        if (!isPrefixedId(id, ID_PREFIXES.formSession)) return send(render, { page: "not_found", status: 404 });
        if (!isFormEncoded(request)) {
          // Whoever posts has the form in hand: the session opens, and is shown expired if it is.
          const session = await open(engine, id);
          if (!session) return send(render, { page: "not_found", status: 404 });
          if (session.status === "expired") return send(render, statusView(session));
          return send(render, { ...sessionView(session), page: "unsupported_media_type", status: 415, accepted: FORM_ENCODED });
        }
        return send(render, await submit(engine, id, readPost(typeof body === "string" ? body : "")));
      },
    },
  ];
}
