import { type RequestOptions, segment, type Transport } from "../transport.js";
import type { CreateFormInput, CreateFormSessionInput, ExtendFormSessionInput, Form, FormSession, ListOptions, Page } from "../types.js";
import { type Collection, collection } from "./collection.js";

/** Forms (seed 000): the definitions a person fills in; `get` takes an id or a slug. */
export function formsResource(transport: Transport): Collection<Form, CreateFormInput> {
  return collection(transport, "/v1/forms");
}

/** The query of `formSessions.list`. */
export interface ListFormSessionsQuery extends ListOptions {
  status?: FormSession["status"];
}

/** Form sessions (seed 000): one person's session with a form, from creation to submission or expiry. */
export function formSessionsResource(transport: Transport) {
  return {
    /**
     * `POST /v1/forms/:id/sessions`: creates a session of a form (by id or slug) with `expires_in`,
     * `prefill` and `metadata`; the answer carries the hosted `url` to send to the person.
     */
    create(form: string, input: CreateFormSessionInput = {}, options?: RequestOptions): Promise<FormSession> {
      return transport.request({ method: "POST", path: `/v1/forms/${segment(form)}/sessions`, body: input, creates: true }, options);
    },
    /** `GET /v1/sessions`: one page of the organization's form sessions, newest first, by `status` too. */
    list(query: ListFormSessionsQuery = {}, options?: RequestOptions): Promise<Page<FormSession>> {
      return transport.request({ method: "GET", path: "/v1/sessions", query: { ...query } }, options);
    },
    /** `GET /v1/sessions/:id`: the session as of now, with its submission once there is one. */
    get(id: string, options?: RequestOptions): Promise<FormSession> {
      return transport.request({ method: "GET", path: `/v1/sessions/${segment(id)}` }, options);
    },
    /** `PATCH /v1/sessions/:id`: pushes `expires_at` later by `expires_in` seconds (created or open only). */
    extend(id: string, input: ExtendFormSessionInput, options?: RequestOptions): Promise<FormSession> {
      return transport.request({ method: "PATCH", path: `/v1/sessions/${segment(id)}`, body: input }, options);
    },
  };
}
