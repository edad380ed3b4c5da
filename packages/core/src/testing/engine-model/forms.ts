import type { FieldValue, Form, Submission } from "../../kinds/index.js";
import type { FieldChoice } from "./inputs.js";
import { type EngineModel, type Entry, no, ok, SECOND, type States, type Verdict } from "./model.js";

// The model's rules for forms and form sessions (seed 000): created → open → submitted | expired.

type Session = Entry<"form_session"> | undefined;

/** Blank text counts as not given, as an empty HTML input sends it. */
const isBlank = (value: FieldValue | undefined) => value === undefined || (typeof value === "string" && value.trim() === "");

export function createForm(
  m: EngineModel,
  input: { name: string; slug?: string; fields: Form["fields"]; allowPartial: boolean; metadata?: object },
  valid: boolean,
): Verdict {
  if (!valid) return no("invalid_input");
  if (input.slug !== undefined && m.records.form.some((form) => form.state.slug === input.slug)) return no("conflict");
  const { name, fields, allowPartial } = input;
  const metadata = input.metadata ?? {};
  const state = { id: "", name, slug: input.slug ?? null, fields, allowPartial, metadata, createdAt: m.now, updatedAt: m.now };
  return m.add("form", state as States["form"], "form.created");
}

/** A session of `form`: its prefill must name the form's fields with values they accept. */
export function createFormSession(
  m: EngineModel,
  form: Entry<"form"> | undefined,
  input: { expiresIn?: number; prefill: [string, FieldChoice][]; metadata?: object; remindBefore?: number[] },
  valid: boolean,
): Verdict {
  if (!valid) return no("invalid_input");
  if (!form) return no("not_found");
  const prefill: Record<string, FieldValue> = {};
  for (const [name, choice] of input.prefill) {
    if (!form.state.fields.some((field) => field.name === name) || choice.value === undefined) return no("invalid_input");
    prefill[name] = choice.value;
  }
  const hidden = form.state.fields.filter((field) => field.type === "hidden" && field.required);
  if (hidden.some((field) => isBlank(prefill[field.name]))) return no("invalid_input");
  const { id: formId, name: formName, fields, allowPartial } = form.state;
  const expiresAt = m.now + (input.expiresIn ?? 3600) * SECOND;
  const state = {
    id: "",
    formId,
    formName,
    fields,
    allowPartial,
    status: "created",
    prefill,
    metadata: input.metadata ?? {},
    createdAt: m.now,
    updatedAt: m.now,
    expiresAt,
    openedAt: null,
    expiredAt: null,
    submission: null,
    ...(input.remindBefore && input.remindBefore.length > 0 ? { remindBefore: input.remindBefore } : {}),
  };
  remind(m, state as States["form_session"]);
  return m.add("form_session", state as States["form_session"], "session.created");
}

/** A live session that cannot take the command: expired, or not (any more) in a state that takes it. */
const refused = (entry: NonNullable<Session>): Verdict => no(entry.state.status === "expired" ? "expired" : "illegal_transition");

export function open(m: EngineModel, entry: Session): Verdict {
  if (!entry) return no("not_found");
  m.flush(entry);
  if (entry.state.status === "open") return ok();
  if (entry.state.status !== "created") return refused(entry);
  Object.assign(entry.state, { status: "open", openedAt: m.now });
  m.write(entry, "session.opened");
  return ok();
}

/** A submission; the same one again is harmless, another one is refused. */
export function submit(m: EngineModel, entry: Session, posted: Record<string, FieldChoice>, partial: boolean | undefined): Verdict {
  if (!entry) return no("not_found");
  m.flush(entry);
  const { state } = entry;
  if (state.status === "expired") return refused(entry);
  const submission = build(m, state, posted, partial);
  if (state.status === "submitted") {
    const before = Object.entries(state.submission!.values);
    const same =
      submission !== null &&
      before.length === Object.keys(submission.values).length &&
      before.every(([name, value]) => Object.is(submission.values[name], value));
    return same ? ok() : no("illegal_transition");
  }
  if (!submission) return no("invalid_input");
  const opened = state.status === "created";
  Object.assign(state, { status: "submitted", openedAt: state.openedAt ?? m.now, submission });
  delete state.reminders;
  m.write(entry, ...(opened ? ["session.opened"] : []), "submission.created");
  return ok();
}

/**
 * The submission `posted` makes, or `null` when the form refuses it: an unknown field, a value its
 * field refuses, or a required field left blank (unless the form allows partial submissions and
 * the person did not ask for a whole one). A field not posted keeps its prefill; a hidden one
 * always does.
 */
function build(m: EngineModel, state: States["form_session"], posted: Record<string, FieldChoice>, partial: boolean | undefined): Submission | null {
  if (Object.keys(posted).some((name) => !state.fields.some((field) => field.name === name))) return null;
  const values: Record<string, FieldValue> = {};
  const missing: string[] = [];
  for (const field of state.fields) {
    const choice = field.type === "hidden" ? undefined : posted[field.name];
    if (choice && choice.value === undefined) return null;
    const value = choice ? choice.value : state.prefill[field.name];
    if (isBlank(value) || (field.type === "checkbox" && field.required && value !== true)) {
      if (field.required) missing.push(field.name);
    } else {
      values[field.name] = value!;
    }
  }
  if (missing.length > 0 && (!state.allowPartial || partial === false)) return null;
  return { values, partial: missing.length > 0, missingFields: missing, submittedAt: m.now };
}

export function extend(m: EngineModel, entry: Session, seconds: number, valid: boolean): Verdict {
  if (!valid) return no("invalid_input");
  if (!entry) return no("not_found");
  m.flush(entry);
  if (entry.state.status !== "created" && entry.state.status !== "open") return refused(entry);
  entry.state.expiresAt += seconds * SECOND;
  remind(m, entry.state);
  m.write(entry, "session.extended");
  return ok();
}

/** Counts a live session's reminders back from its deadline: those whose moment is still ahead, earliest first; none, no field. */
function remind(m: EngineModel, state: States["form_session"]): void {
  const moments = (state.remindBefore ?? []).map((seconds) => state.expiresAt - seconds * SECOND).filter((at) => at > m.now);
  if (moments.length > 0) state.reminders = moments.sort((a, b) => a - b);
  else delete state.reminders;
}
