import { FieldValue, type FormField, type FormSession, ownValue } from "@agent-sessions/core";
import { html, type SafeHtml } from "./html.js";

/**
 * The name the "Submit what I have" button posts. The hyphen makes it a name no form field can
 * have (field names match `^[A-Za-z_][A-Za-z0-9_]*$`), so it never collides with one.
 */
export const SUBMIT_AS = "submit-as";
/** The value of `SUBMIT_AS` that asks for a partial submission. */
export const PARTIAL = "partial";

/** The longest text a field takes, read from the core's `FieldValue` schema so the two never drift. */
export const MAX_TEXT: number =
  FieldValue.anyOf.map((schema) => (schema as { maxLength?: number }).maxLength).find((max) => max !== undefined) ?? 64 * 1024;

/** What the form's inputs show: text for most fields, ticked or not for checkboxes. */
export type ShownValues = Readonly<Record<string, string | boolean>>;

/** The state of the form a person sees: the values in its inputs and the problems found. */
export interface FormView {
  readonly values: ShownValues;
  /** Problems by field name, each a sentence for the person. */
  readonly errors: Readonly<Record<string, string>>;
  /** Problems that belong to no visible field, shown at the top. */
  readonly general: readonly string[];
}

/** A page to send: its status, its title and its body. */
export interface Page {
  readonly status: number;
  readonly title: string;
  readonly body: SafeHtml;
}

const INPUT_TYPES: Partial<Record<FormField["type"], string>> = {
  text: "text",
  email: "email",
  number: "number",
  date: "date",
  url: "url",
  tel: "tel",
};

const AUTOCOMPLETE: Partial<Record<FormField["type"], string>> = { email: "email", tel: "tel", url: "url" };

const expiryFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** The fields a person sees: every field but the hidden ones, whose values never reach the page. */
export function visibleFields(session: FormSession): FormField[] {
  return session.fields.filter((field) => field.type !== "hidden");
}

/** A field's label: its own, or its name made readable (`full_name` → "Full name"). */
export function fieldLabel(field: FormField): string {
  if (field.label !== undefined && field.label.trim() !== "") return field.label;
  const words = field.name.replace(/_+/g, " ").trim();
  return words === "" ? field.name : words.charAt(0).toUpperCase() + words.slice(1);
}

/** The inputs' values before the person changed anything: the prefill of the visible fields. */
export function prefillView(session: FormSession): FormView {
  const values: Record<string, string | boolean> = {};
  for (const field of visibleFields(session)) {
    const value = ownValue(session.prefill, field.name);
    if (value === undefined) continue;
    values[field.name] = field.type === "checkbox" ? value === true : String(value);
  }
  return { values, errors: {}, general: [] };
}

const flag = (on: boolean | undefined, attribute: string) => (on ? html` ${attribute}` : null);

function control(field: FormField, value: string | boolean | undefined, invalid: boolean): SafeHtml {
  const id = `f-${field.name}`;
  const aria = html`${invalid ? html` aria-invalid="true" aria-describedby="${id}-error"` : null}`;
  const required = flag(field.required, "required");
  const text = typeof value === "string" ? value : "";
  switch (field.type) {
    case "textarea":
      return html`<textarea id="${id}" name="${field.name}" rows="5" maxlength="${MAX_TEXT}"${required}${aria}>
${text}</textarea>`;
    case "select":
      return html`<select id="${id}" name="${field.name}"${required}${aria}>
<option value="">Choose…</option>
${(field.options ?? []).map((option) => html`<option value="${option}"${flag(option === text, "selected")}>${option}</option>\n`)}</select>`;
    case "checkbox":
      return html`<input type="checkbox" id="${id}" name="${field.name}" value="true"${flag(value === true, "checked")}${required}${aria}>`;
    default: {
      const type = INPUT_TYPES[field.type] ?? "text";
      const number = field.type === "number" ? html` step="any" inputmode="decimal"` : null;
      const length = field.type === "number" || field.type === "date" ? null : html` maxlength="${MAX_TEXT}"`;
      const autocomplete = AUTOCOMPLETE[field.type] ? html` autocomplete="${AUTOCOMPLETE[field.type]}"` : null;
      return html`<input type="${type}" id="${id}" name="${field.name}" value="${text}"${number}${length}${autocomplete}${required}${aria}>`;
    }
  }
}

function fieldBlock(field: FormField, view: FormView): SafeHtml {
  const error = ownValue(view.errors, field.name);
  const id = `f-${field.name}`;
  const mark = field.required ? html`<span class="req" aria-hidden="true">*</span>` : null;
  const message = error === undefined ? null : html`<p class="error" id="${id}-error">${error}</p>`;
  const classes = error === undefined ? "field" : "field invalid";
  const input = control(field, ownValue(view.values, field.name), error !== undefined);
  if (field.type === "checkbox") {
    return html`<div class="${classes}">
<label class="check" for="${id}">${input}<span>${fieldLabel(field)}${mark}</span></label>
${message}</div>
`;
  }
  return html`<div class="${classes}">
<label for="${id}">${fieldLabel(field)}${mark}</label>
${input}
${message}</div>
`;
}

function errorSummary(session: FormSession, view: FormView): SafeHtml | null {
  const fieldErrors = visibleFields(session).filter((field) => ownValue(view.errors, field.name) !== undefined);
  if (fieldErrors.length === 0 && view.general.length === 0) return null;
  return html`<div class="summary" role="alert">
<h2>Please check your answers</h2>
<ul>
${view.general.map((message) => html`<li>${message}</li>\n`)}${fieldErrors.map(
    (field) => html`<li><a href="#f-${field.name}">${fieldLabel(field)}: ${ownValue(view.errors, field.name)}</a></li>\n`,
  )}</ul>
</div>
`;
}

/** The form itself, with the values and problems of `view`. */
export function formPage(title: string, session: FormSession, view: FormView, status = 200): Page {
  const fields = visibleFields(session);
  const anyRequired = fields.some((field) => field.required);
  const partialButton = session.allowPartial
    ? html`<button type="submit" class="secondary" name="${SUBMIT_AS}" value="${PARTIAL}" formnovalidate>Submit what I have</button>`
    : null;
  const body = html`<h1>${title}</h1>
<p class="lead">${anyRequired ? html`Fields marked <span class="req">*</span> are required.` : "Every field is optional."}</p>
${errorSummary(session, view)}<form method="post" accept-charset="utf-8">
${fields.map((field) => fieldBlock(field, view))}<div class="actions">
<button type="submit">Submit</button>
${partialButton}
</div>
</form>
<p class="note">This link works until ${expiryFormat.format(session.expiresAt)} UTC.</p>`;
  return { status, title, body };
}

/** After a submission: thanks, and which required fields were left out of a partial one. */
export function thankYouPage(title: string, session: FormSession): Page {
  const missing = new Set(session.submission?.missingFields ?? []);
  const left = visibleFields(session).filter((field) => missing.has(field.name));
  const leftOut =
    left.length === 0
      ? null
      : html`<p>You left out: ${left.map((field, index) => html`${index > 0 ? ", " : ""}<strong>${fieldLabel(field)}</strong>`)}. You may be asked about ${left.length === 1 ? "it" : "them"} later.</p>\n`;
  const body = html`<span class="badge ok">Sent</span>
<h1>Thank you</h1>
<p class="lead">Your answers to “${title}” were received.</p>
${leftOut}<p>You can close this page now.</p>`;
  return { status: 200, title: `Thank you · ${title}`, body };
}

/** A session past its deadline: its URL takes no more answers (410). */
export function expiredPage(title: string, session: FormSession): Page {
  const body = html`<span class="badge off">Expired</span>
<h1>This form has expired</h1>
<p class="lead">“${title}” stopped accepting answers on ${expiryFormat.format(session.expiresAt)} UTC.</p>
<p>Ask whoever sent you this link for a new one.</p>`;
  return { status: 410, title: `Expired · ${title}`, body };
}

/** An unknown id, or an id that is not a form session's (404). */
export function notFoundPage(): Page {
  const body = html`<h1>Form not found</h1>
<p class="lead">There is no form at this address.</p>
<p>Check that you opened the whole link you were sent.</p>`;
  return { status: 404, title: "Form not found", body };
}

/** A second, different submission of a session that was already submitted (409). */
export function alreadySubmittedPage(title: string): Page {
  const body = html`<span class="badge off">Already sent</span>
<h1>This form was already submitted</h1>
<p class="lead">Answers to “${title}” were received earlier, so these were not saved.</p>`;
  return { status: 409, title: `Already submitted · ${title}`, body };
}
