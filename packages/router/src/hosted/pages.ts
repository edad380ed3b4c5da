import { formKind, ownValue } from "@agent-sessions/core";
import { html, pageResponse, type SafeHtml, utcMoment } from "./html.js";
import { reviewPage } from "./review-pages.js";
import type { HostedField, HostedView } from "./view.js";

/** A page to send: its status, its title and its body. */
export interface Page {
  readonly status: number;
  readonly title: string;
  readonly body: SafeHtml;
}

/** The form view the default page renders. */
type FormView = Extract<HostedView, { page: "form" }>;

/** The longest text a field takes, as the form kind says. */
const MAX_TEXT = formKind.limits.valueChars;

const INPUT_TYPES: Partial<Record<HostedField["type"], string>> = {
  text: "text",
  email: "email",
  number: "number",
  date: "date",
  url: "url",
  tel: "tel",
};

const AUTOCOMPLETE: Partial<Record<HostedField["type"], string>> = { email: "email", tel: "tel", url: "url" };

const flag = (on: boolean | undefined, attribute: string) => (on ? html` ${attribute}` : null);

function control(field: HostedField, value: string | boolean | undefined, invalid: boolean): SafeHtml {
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
${field.options.map((option) => html`<option value="${option}"${flag(option === text, "selected")}>${option}</option>\n`)}</select>`;
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

function fieldBlock(field: HostedField, view: FormView): SafeHtml {
  const error = ownValue(view.problems, field.name);
  const id = `f-${field.name}`;
  const mark = field.required ? html`<span class="req" aria-hidden="true">*</span>` : null;
  const message = error === undefined ? null : html`<p class="error" id="${id}-error">${error}</p>`;
  const classes = error === undefined ? "field" : "field invalid";
  const input = control(field, ownValue(view.values, field.name), error !== undefined);
  if (field.type === "checkbox") {
    return html`<div class="${classes}">
<label class="check" for="${id}">${input}<span>${field.label}${mark}</span></label>
${message}</div>
`;
  }
  return html`<div class="${classes}">
<label for="${id}">${field.label}${mark}</label>
${input}
${message}</div>
`;
}

function errorSummary(view: FormView): SafeHtml | null {
  const fieldErrors = view.fields.filter((field) => ownValue(view.problems, field.name) !== undefined);
  if (fieldErrors.length === 0 && view.general.length === 0) return null;
  return html`<div class="summary" role="alert">
<h2>Please check your answers</h2>
<ul>
${view.general.map((message) => html`<li>${message}</li>\n`)}${fieldErrors.map(
  (field) => html`<li><a href="#f-${field.name}">${field.label}: ${ownValue(view.problems, field.name)}</a></li>\n`,
)}</ul>
</div>
`;
}

/** The form itself, with the values and problems of `view`. */
function formPage(view: FormView): Page {
  const { fields, formName: title } = view;
  const anyRequired = fields.some((field) => field.required);
  const partialButton = view.allowPartial
    ? html`<button type="submit" class="secondary" name="${view.partialSubmit.name}" value="${view.partialSubmit.value}" formnovalidate>Submit what I have</button>`
    : null;
  const body = html`<h1>${title}</h1>
<p class="lead">${anyRequired ? html`Fields marked <span class="req">*</span> are required.` : "Every field is optional."}</p>
${errorSummary(view)}<form method="post" accept-charset="utf-8">
${fields.map((field) => fieldBlock(field, view))}<div class="actions">
<button type="submit">Submit</button>
${partialButton}
</div>
</form>
<p class="note">This link works until ${utcMoment(view.expiresAt)}.</p>`;
  return { status: view.status, title, body };
}

/** After a submission: thanks, and which required fields were left out of a partial one. */
function thankYouPage(title: string, left: readonly HostedField[]): Page {
  const leftOut =
    left.length === 0
      ? null
      : html`<p>You left out: ${left.map((field, index) => html`${index > 0 ? ", " : ""}<strong>${field.label}</strong>`)}. You may be asked about ${left.length === 1 ? "it" : "them"} later.</p>\n`;
  const body = html`<span class="badge ok">Sent</span>
<h1>Thank you</h1>
<p class="lead">Your answers to “${title}” were received.</p>
${leftOut}<p>You can close this page now.</p>`;
  return { status: 200, title: `Thank you · ${title}`, body };
}

/** A session past its deadline: its URL takes no more answers (410). */
function expiredPage(title: string, expiresAt: string): Page {
  const body = html`<span class="badge off">Expired</span>
<h1>This form has expired</h1>
<p class="lead">“${title}” stopped accepting answers on ${utcMoment(expiresAt)}.</p>
<p>Ask whoever sent you this link for a new one.</p>`;
  return { status: 410, title: `Expired · ${title}`, body };
}

/** An unknown id, or an id that is not a form session's (404). */
function notFoundPage(): Page {
  const body = html`<h1>Form not found</h1>
<p class="lead">There is no form at this address.</p>
<p>Check that you opened the whole link you were sent.</p>`;
  return { status: 404, title: "Form not found", body };
}

/** A second, different submission of a session that was already submitted (409). */
function alreadySubmittedPage(title: string): Page {
  const body = html`<span class="badge off">Already sent</span>
<h1>This form was already submitted</h1>
<p class="lead">Answers to “${title}” were received earlier, so these were not saved.</p>`;
  return { status: 409, title: `Already submitted · ${title}`, body };
}

/** Headings of the errors the router answers on a hosted route, in a person's words. */
const ERROR_HEADINGS: Record<number, string> = {
  400: "This request could not be read",
  413: "Your answers are too long to send",
  415: "This request could not be read",
  429: "Too many requests from your network",
};

/** An error the router answers on a hosted route (a body too large, a 500). */
function errorPage(status: number, message: string): Page {
  const heading = ERROR_HEADINGS[status] ?? "Something went wrong";
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return { status, title: heading, body: html`<h1>${heading}</h1>\n<p class="lead">${sentence}.</p>\n<p>Go back, then try again.</p>` };
}

/** The page of a view, as the default hosted page draws it. */
function pageOf(view: HostedView): Page {
  switch (view.page) {
    case "form":
      return formPage(view);
    case "submitted":
      return thankYouPage(view.formName, view.leftOut);
    case "expired":
      return expiredPage(view.formName, view.expiresAt);
    case "already_submitted":
      return alreadySubmittedPage(view.formName);
    case "unsupported_media_type":
      return {
        status: 415,
        title: view.formName,
        body: html`<h1>${view.formName}</h1>\n<p class="lead">This form can only be sent as ${view.accepted}.</p>`,
      };
    case "not_found":
      return notFoundPage();
    case "error":
      return errorPage(view.status, view.message);
    default:
      return reviewPage(view);
  }
}

/**
 * The hosted page agent-sessions draws by default: HTML rendered on the server with no script and
 * no external asset, under a strict CSP that allows its one inline stylesheet by hash.
 */
export function renderHostedPage(view: HostedView): Promise<Response> {
  const page = pageOf(view);
  return pageResponse(page.status, page.title, page.body);
}
