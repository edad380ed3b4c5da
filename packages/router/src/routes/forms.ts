import { FORM_SESSION_STATUSES, FormSessionStatus, formSessionWire, formWire, KINDS } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { json } from "../http.js";
import { hostedUrl, type RouteContext, type RouteDefinition } from "../route.js";
import { AgentSessionBody, agentSessionBody, FormBody, FormSessionBody, formBody, formSessionBody, PageOf } from "../wire.js";
import { errors, idOf, listQuery, notFound, orSessionNotFound, pagination, readListQuery } from "./common.js";

const formSession = (context: RouteContext, session: Parameters<typeof formSessionBody>[0]) =>
  formSessionBody(session, hostedUrl(context, session.id));

/** Forms and form sessions (seed 000), and the reading of any `/v1/sessions/:id`. */
export const formRoutes: RouteDefinition[] = [
  {
    method: "POST",
    path: "/v1/forms",
    summary: "Create a form",
    tag: "Forms",
    idempotent: true,
    input: formWire.create,
    responses: { 201: { description: "The form", schema: FormBody }, ...errors(400, 409, 413, 422) },
    failure: "Failed to create form",
    async handle({ engine, orgId, body }) {
      return json(formBody(await engine.forms.create(orgId, formWire.create.read(body))), 201);
    },
  },
  {
    method: "GET",
    path: "/v1/forms",
    summary: "List forms",
    tag: "Forms",
    query: listQuery,
    responses: { 200: { description: "A page of forms", schema: PageOf(FormBody) }, ...errors(400) },
    failure: "Failed to list forms",
    async handle({ engine, orgId, url }) {
      const page = await engine.forms.list(orgId, readListQuery(url));
      return json({ data: page.data.map(formBody), pagination: pagination(page) });
    },
  },
  {
    method: "GET",
    path: "/v1/forms/:id",
    summary: "Retrieve a form by id or slug",
    tag: "Forms",
    responses: { 200: { description: "The form", schema: FormBody }, ...errors(404) },
    failure: "Failed to retrieve form",
    async handle({ engine, orgId, params }) {
      return json(formBody(await engine.forms.get(orgId, params.id!)));
    },
  },
  {
    method: "POST",
    path: "/v1/forms/:id/sessions",
    summary: "Create a form session (the form by id or slug)",
    tag: "Form sessions",
    idempotent: true,
    input: formSessionWire.create,
    responses: { 201: { description: "The session, with its hosted url", schema: FormSessionBody }, ...errors(400, 404, 413, 422) },
    failure: "Failed to create session",
    async handle(context) {
      void context.hostedOrigin; // a Host the router may not name is refused before anything is written
      const input = formSessionWire.create.read(context.body);
      const session = await context.engine.formSessions.create(context.orgId, context.params.id!, input);
      return json(formSession(context, session), 201);
    },
  },
  {
    method: "GET",
    path: "/v1/sessions",
    summary: "List form sessions, newest first, optionally by status",
    tag: "Form sessions",
    query: {
      ...listQuery,
      status: { description: `One of ${FORM_SESSION_STATUSES.join(", ")}`, schema: FormSessionStatus },
    },
    responses: { 200: { description: "A page of form sessions", schema: PageOf(FormSessionBody) }, ...errors(400) },
    failure: "Failed to list sessions",
    async handle(context) {
      const page = await context.engine.formSessions.list(context.orgId, readListQuery(context.url, ["status"]));
      return json({ data: page.data.map((session) => formSession(context, session)), pagination: pagination(page) });
    },
  },
  {
    method: "GET",
    path: "/v1/sessions/:id",
    summary: "Retrieve a form session (sess_…) or an agent session (session_…)",
    tag: "Form sessions",
    responses: {
      200: { description: "The session", schema: Type.Union([FormSessionBody, AgentSessionBody]) },
      ...errors(404),
    },
    failure: "Failed to retrieve session",
    async handle(context) {
      const id = context.params.id!;
      const found = await orSessionNotFound(id, context.engine.records.get(context.orgId, id));
      if (found.kind === "agent_session") return json(agentSessionBody(found.record));
      if (found.kind === "form_session") return json(formSession(context, found.record));
      throw notFound("Session", id);
    },
  },
  {
    method: "PATCH",
    path: "/v1/sessions/:id",
    summary: "Extend a form session: push expires_at later by expires_in seconds",
    tag: "Form sessions",
    input: formSessionWire.extend,
    responses: { 200: { description: "The session", schema: FormSessionBody }, ...errors(400, 404, 409, 410) },
    failure: "Failed to update session",
    async handle(context) {
      const id = idOf(context.params.id!, KINDS.form_session.prefix, KINDS.form_session.noun);
      void context.hostedOrigin; // a Host the router may not name is refused before anything is written
      const input = formSessionWire.extend.read(context.body);
      return json(formSession(context, await context.engine.formSessions.extend(context.orgId, id, input)));
    },
  },
];
