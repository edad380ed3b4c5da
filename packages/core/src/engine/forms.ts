import { checkFormFields } from "../form-fields.js";
import { isPrefixedId } from "../ids.js";
import { CreateFormInput, type Form, formKind } from "../kinds/form.js";
import {
  CreateFormSessionInput,
  ExtendFormSessionInput,
  type FormSession,
  type FormSessionStatus,
  SubmitFormInput,
} from "../kinds/form-session.js";
import { ID_PREFIXES } from "../kinds/index.js";
import { createFormSession, type FormSessionCommand, formSessionMachine } from "../machines/form-session.js";
import { LIMITS } from "../schemas/common.js";
import { assertJsonSize, parseInput } from "../validate.js";
import { type ListOptions, notFound, type Page, type Records } from "./records.js";

const slugAlias = (slug: string) => `form-slug:${slug}`;
const SLUG = new RegExp(CreateFormInput.properties.slug.pattern!);
const isSlug = (text: string) => text.length <= formKind.limits.nameChars && SLUG.test(text);

/** Form definitions of an organization. */
export interface FormOperations {
  /** Creates a form definition; its slug, when given, must be unused in the organization. */
  create(orgId: string, input: CreateFormInput): Promise<Form>;
  /** Reads a form by its id or its slug. */
  get(orgId: string, idOrSlug: string): Promise<Form>;
  /** Lists an organization's forms, newest first. */
  list(orgId: string, query?: ListOptions<never>): Promise<Page<Form>>;
}

/** Form sessions: what an agent does with the API and what a person does on the hosted page. */
export interface FormSessionOperations {
  /** Creates a session of a form (by id or slug) in `created`, with prefill and metadata. */
  create(orgId: string, formIdOrSlug: string, input?: CreateFormSessionInput): Promise<FormSession>;
  /** Reads a session as of now: past its deadline it shows `expired` even before a sweep. */
  get(orgId: string, id: string): Promise<FormSession>;
  /** Lists an organization's form sessions, newest first, optionally by status. */
  list(orgId: string, query?: ListOptions<FormSessionStatus>): Promise<Page<FormSession>>;
  /** Pushes `expiresAt` later by `expiresIn` seconds; only while created or open. */
  extend(orgId: string, id: string, input: ExtendFormSessionInput): Promise<FormSession>;
  /** The hosted page's read: by the session id alone, its unguessable URL being the capability. */
  hosted(id: string): Promise<FormSession>;
  /** The person loaded the hosted page: `created → open`. */
  open(id: string): Promise<FormSession>;
  /** The person submitted the hosted form. */
  submit(id: string, input: SubmitFormInput): Promise<FormSession>;
}

export function formOperations(records: Records, newId: (prefix: string) => string): FormOperations {
  async function resolve(orgId: string, idOrSlug: string): Promise<Form> {
    if (isPrefixedId(idOrSlug, ID_PREFIXES.form)) return records.view<Form>(orgId, "form", idOrSlug);
    // Only a text shaped like a slug is looked up: anything else names no form.
    const id = isSlug(idOrSlug) ? await records.store.resolveAlias(orgId, slugAlias(idOrSlug)) : null;
    if (id === null) throw notFound("form", idOrSlug);
    return records.view<Form>(orgId, "form", id);
  }

  return {
    async create(orgId, input) {
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
    get: resolve,
    async list(orgId, query = {}) {
      return records.list<Form>(orgId, "form", query);
    },
  };
}

export function formSessionOperations(records: Records, newId: (prefix: string) => string, forms: FormOperations): FormSessionOperations {
  const command = (orgId: string | null, id: string, cmd: FormSessionCommand) =>
    records.mutate(orgId, "form_session", id, formSessionMachine, cmd);

  return {
    async create(orgId, formIdOrSlug, input = {}) {
      const body = parseInput(CreateFormSessionInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const form = await forms.get(orgId, formIdOrSlug);
      const now = records.now;
      const { state, events } = createFormSession(
        form,
        {
          id: newId(ID_PREFIXES.formSession),
          ...(body.expiresIn !== undefined ? { expiresInSeconds: body.expiresIn } : {}),
          ...(body.prefill ? { prefill: body.prefill } : {}),
          ...(body.metadata ? { metadata: body.metadata } : {}),
        },
        now,
      );
      return records.insert("form_session", state, events, { status: state.status, dueAt: state.expiresAt });
    },
    async get(orgId, id) {
      return records.view(orgId, "form_session", id, formSessionMachine);
    },
    async list(orgId, query = {}) {
      return records.list(orgId, "form_session", query, formSessionMachine);
    },
    async extend(orgId, id, input) {
      const body = parseInput(ExtendFormSessionInput, input);
      return command(orgId, id, { type: "extend", seconds: body.expiresIn });
    },
    async hosted(id) {
      return records.view(null, "form_session", id, formSessionMachine);
    },
    async open(id) {
      return command(null, id, { type: "open" });
    },
    async submit(id, input) {
      const body = parseInput(SubmitFormInput, input);
      return command(null, id, { type: "submit", values: body.values, ...(body.partial !== undefined ? { partial: body.partial } : {}) });
    },
  };
}
