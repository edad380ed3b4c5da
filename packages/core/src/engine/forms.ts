import { Type } from "@sinclair/typebox";
import { InvalidInputError } from "../errors.js";
import { checkFormFields } from "../form-fields.js";
import { isPrefixedId } from "../ids.js";
import { CreateFormInput, FieldValue, type Form, FormField, formKind } from "../kinds/form.js";
import { CreateFormSessionInput, ExtendFormSessionInput, type FormSession, type FormSessionStatus, SubmitFormInput } from "../kinds/form-session.js";
import { ID_PREFIXES } from "../kinds/index.js";
import { createFormSession, type FormSessionCommand, formSessionMachine, hostedValues, submissionProblems } from "../machines/form-session.js";
import { LIMITS } from "../schemas/common.js";
import { assertJsonSize, parseInput } from "../validate.js";
import { type ListOptions, notFound, type Page, type Records, Refusal } from "./records.js";

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
  /**
   * The hosted page's load: opens a created session and answers it as it now is (open, or
   * submitted or expired meanwhile), with `formName`: one read and at most one write.
   */
  hostedOpen(id: string): Promise<FormSession>;
  /**
   * A person's post of the hosted page, by field name as the page sends it: hidden fields and
   * names the form does not declare are ignored, and a checkbox left out counts as unticked.
   * Submits when the post has no problem, else opens the session and answers every problem at
   * once, found by the rules that judge a submission. `partial: true` asks for a partial
   * submission where the form allows it (default: every required field). One read and one
   * compare-and-set, a created session opening in the same write.
   */
  hostedSubmit(id: string, values: Readonly<Record<string, FieldValue>>, options?: { partial?: boolean }): Promise<HostedSubmission>;
}

/** What became of a post of the hosted page (see `HostedSubmission`). */
export type HostedOutcome = "submitted" | "invalid" | "expired" | "already_submitted";

/** What `engine.formSessions.hostedSubmit` answers. */
export interface HostedSubmission {
  /**
   * `submitted`: the session holds this post's submission (also when a repeat of it came again);
   * `invalid`: the post has `problems`, and the session is open; `expired`: the session expired
   * and takes no more posts; `already_submitted`: the session holds another submission.
   */
  readonly outcome: HostedOutcome;
  /** The session after the post, with `formName`, its page's title. */
  readonly session: FormSession;
  /** For `invalid`: each problem by field name, the rule it breaks ("must be an email address", "is required"). */
  readonly problems: Readonly<Record<string, string>>;
}

/** A post's values before the rules judge them: any text, number or boolean (a text's length is one of the rules). */
const PostedValues = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Number(), Type.Boolean()], { errorMessage: FieldValue.errorMessage }),
  {
    errorMessage: "must be an object",
  },
);
const FIELD_NAME = new RegExp(FormField.properties.name.pattern!);

/** The posted names that could name a field, checked at the edge; the rest no form declares, so they are ignored unread. */
function readPosted(values: unknown): Record<string, FieldValue> {
  if (values === null || typeof values !== "object" || Array.isArray(values)) throw new InvalidInputError("values", "must be an object");
  const candidates: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    // A member every object has (`__proto__`, `constructor`) is no field's name either (see checkFormFields).
    if (name.length <= formKind.limits.nameChars && FIELD_NAME.test(name) && !(name in Object.prototype)) candidates[name] = value;
  }
  return parseInput(PostedValues, candidates, "values");
}

const NO_PROBLEMS: Readonly<Record<string, string>> = Object.freeze({});

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
  const command = (orgId: string | null, id: string, cmd: FormSessionCommand) => records.mutate(orgId, "form_session", id, formSessionMachine, cmd);

  /** The session with its form's name: kept since creation, read from the form for a session made before that. */
  async function withFormName(session: FormSession): Promise<FormSession> {
    if (session.formName !== undefined) return session;
    try {
      return { ...session, formName: (await forms.get(session.orgId, session.formId)).name };
    } catch (error) {
      if ((error as { code?: unknown }).code === "not_found") return session;
      throw error;
    }
  }

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
          ...(body.remindBefore ? { remindBefore: body.remindBefore } : {}),
        },
        now,
      );
      return records.insert("form_session", state, events, { status: state.status, dueAt: formSessionMachine.dueAt(state) });
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
    async hostedOpen(id) {
      const opened = await records.attempt(null, "form_session", id, formSessionMachine, { type: "open" });
      return withFormName(opened instanceof Refusal ? opened.state : opened);
    },
    async hostedSubmit(id, values, options = {}) {
      const posted = readPosted(values);
      const partial = options.partial === true;
      const after = await records.attempt(null, "form_session", id, formSessionMachine, { type: "post", values: posted, partial });
      if (after instanceof Refusal) {
        const outcome = after.state.status === "expired" ? "expired" : "already_submitted";
        return { outcome, session: await withFormName(after.state), problems: NO_PROBLEMS };
      }
      const session = await withFormName(after);
      if (session.status === "submitted") return { outcome: "submitted", session, problems: NO_PROBLEMS };
      return { outcome: "invalid", session, problems: submissionProblems(session, hostedValues(session, posted), partial) };
    },
  };
}
