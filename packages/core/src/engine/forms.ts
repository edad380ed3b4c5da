import { checkFormFields } from "../form-fields.js";
import { ID_PREFIXES, isPrefixedId } from "../ids.js";
import { createFormSession, type FormSessionCommand, formSessionMachine } from "../machines/form-session.js";
import { LIMITS } from "../schemas/common.js";
import {
  CreateFormInput,
  CreateFormSessionInput,
  ExtendFormSessionInput,
  type Form,
  type FormSession,
  SubmitFormInput,
} from "../schemas/form.js";
import { ListQuery } from "../schemas/workflow.js";
import { assertJsonSize, parseInput } from "../validate.js";
import { notFound, type Page, type Records } from "./records.js";

const slugAlias = (slug: string) => `form-slug:${slug}`;
const SLUG = new RegExp(CreateFormInput.properties.slug.pattern!);
const isSlug = (text: string) => text.length <= CreateFormInput.properties.slug.maxLength! && SLUG.test(text);

/** Form definitions: create, read by id or slug, list. */
export function formOperations(records: Records, newId: (prefix: string) => string) {
  async function resolve(orgId: string, idOrSlug: string): Promise<Form> {
    if (isPrefixedId(idOrSlug, ID_PREFIXES.form)) return records.view<Form>(orgId, "form", idOrSlug);
    // Only a text shaped like a slug is looked up: anything else names no form.
    const id = isSlug(idOrSlug) ? await records.store.resolveAlias(orgId, slugAlias(idOrSlug)) : null;
    if (id === null) throw notFound("form", idOrSlug);
    return records.view<Form>(orgId, "form", id);
  }

  return {
    /** Creates a form definition; its slug, when given, must be unused in the organization. */
    async create(orgId: string, input: unknown): Promise<Form> {
      const body = parseInput(CreateFormInput, input);
      checkFormFields(body.fields);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const now = records.now;
      const form: Form = {
        id: newId(ID_PREFIXES.form),
        orgId,
        name: body.name,
        slug: body.slug ?? null,
        fields: body.fields,
        allowPartial: body.allowPartial ?? false,
        metadata: body.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      };
      const created = { type: "form.created", at: now, payload: { form_id: form.id, slug: form.slug } };
      return records.insert("form", form, [created], {
        status: "active",
        aliases: form.slug ? [slugAlias(form.slug)] : [],
        describeTaken: () => `slug: "${form.slug}" is already used by another form`,
      });
    },
    /** Reads a form by its id or its slug. */
    get: resolve,
    /** Lists an organization's forms, newest first. */
    async list(orgId: string, query: unknown = {}): Promise<Page<Form>> {
      return records.list<Form>(orgId, "form", parseInput(ListQuery, query));
    },
  };
}

/** Form sessions: what an agent does with the API and what a person does on the hosted page. */
export function formSessionOperations(records: Records, newId: (prefix: string) => string, forms: ReturnType<typeof formOperations>) {
  const command = (orgId: string | null, id: string, cmd: FormSessionCommand) =>
    records.mutate(orgId, "form_session", id, formSessionMachine, cmd);

  return {
    /** Creates a session of a form (by id or slug) in `created`, with prefill and metadata. */
    async create(orgId: string, formIdOrSlug: string, input: unknown = {}): Promise<FormSession> {
      const body = parseInput(CreateFormSessionInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const form = await forms.get(orgId, formIdOrSlug);
      const now = records.now;
      const { state, events } = createFormSession(
        form,
        {
          id: newId(ID_PREFIXES.formSession),
          ...(body.expires_in !== undefined ? { expiresInSeconds: body.expires_in } : {}),
          ...(body.prefill ? { prefill: body.prefill } : {}),
          ...(body.metadata ? { metadata: body.metadata } : {}),
        },
        now,
      );
      return records.insert("form_session", state, events, { status: state.status, dueAt: state.expiresAt });
    },
    /** Reads a session as of now: past its deadline it shows `expired` even before a sweep. */
    async get(orgId: string, id: string): Promise<FormSession> {
      return records.view(orgId, "form_session", id, formSessionMachine);
    },
    /** Lists an organization's form sessions, newest first, optionally by status. */
    async list(orgId: string, query: unknown = {}): Promise<Page<FormSession>> {
      return records.list(orgId, "form_session", parseInput(ListQuery, query), formSessionMachine);
    },
    /** Pushes `expires_at` later by `expires_in` seconds; only while created or open. */
    async extend(orgId: string, id: string, input: unknown): Promise<FormSession> {
      const body = parseInput(ExtendFormSessionInput, input);
      return command(orgId, id, { type: "extend", seconds: body.expires_in });
    },
    /** The hosted page's read: by the session id alone, its unguessable URL being the capability. */
    async hosted(id: string): Promise<FormSession> {
      return records.view(null, "form_session", id, formSessionMachine);
    },
    /** The person loaded the hosted page: `created → open`. */
    async open(id: string): Promise<FormSession> {
      return command(null, id, { type: "open" });
    },
    /** The person submitted the hosted form. */
    async submit(id: string, input: unknown): Promise<FormSession> {
      const body = parseInput(SubmitFormInput, input);
      return command(null, id, { type: "submit", values: body.values, ...(body.partial !== undefined ? { partial: body.partial } : {}) });
    },
  };
}
