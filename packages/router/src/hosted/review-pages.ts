import { ownValue } from "@agent-sessions/core";
import { html, type SafeHtml, utcMoment } from "./html.js";
import type { Page } from "./pages.js";
import type { ReviewedAction, ReviewField, ReviewPageView } from "./review-view.js";

/** The review form view the default page renders. */
type FormView = Extract<ReviewPageView, { page: "review" }>;

/** JSON as a page shows it: indented, in a `<pre>`. */
const jsonBlock = (value: unknown) => html`<pre>${JSON.stringify(value, null, 2)}</pre>`;

/** What the agent says the action does: each key of the preview beside its value (text as is, anything else as JSON). */
function previewBlock(preview: Readonly<Record<string, unknown>>): SafeHtml {
  const entries = Object.entries(preview);
  if (entries.length === 0) return html`<p class="muted">The agent gave no preview.</p>\n`;
  return html`<dl class="kv">
${entries.map(
  ([key, value]) =>
    html`<dt>${key}</dt><dd>${typeof value === "string" ? value : typeof value === "object" && value !== null ? jsonBlock(value) : JSON.stringify(value)}</dd>\n`,
)}</dl>
`;
}

/** The arguments, read-only, with what was proposed when a person changed them. */
function argsBlock(view: ReviewedAction): SafeHtml {
  if (view.args === null && !view.argsChanged) return html`<p class="muted">This action has no arguments.</p>\n`;
  const proposed = view.argsChanged
    ? html`<details><summary>Changed by a reviewer; as proposed</summary>\n${jsonBlock(view.originalArgs)}</details>\n`
    : null;
  return html`${jsonBlock(view.args)}\n${proposed}`;
}

/** Who a decision names, as a person reads it: an approver, this kind of link, or neither (the API, the deadline). */
function decider(view: ReviewedAction): SafeHtml | null {
  if (view.decidedVia !== "link" || view.decidedBy === null) return null;
  return view.decidedBy === "link" && view.approvers.length === 0 ? html` on its review link` : html` by <strong>${view.decidedBy}</strong>`;
}

/** The approvals so far, of how many needed, for an action that approvers decide. */
function approvalsBlock(view: ReviewedAction): SafeHtml | null {
  if (view.approvers.length === 0) return null;
  const list =
    view.approvals.length === 0
      ? null
      : html`<ul class="approvals">
${view.approvals.map((approval) => html`<li><strong>${approval.approver}</strong> approved on ${utcMoment(approval.at)}</li>\n`)}</ul>
`;
  return html`<p>Approvals: ${view.approvals.length} of ${view.approvalsRequired} needed.</p>
${list}`;
}

/** Whose link this is, for an approver's. */
function ownerLine(view: ReviewedAction): SafeHtml | null {
  return view.approver === null
    ? null
    : html`<p>This link is for <strong>${view.approver}</strong>; your decision is recorded under that name.</p>\n`;
}

/** The action itself: what it does and the arguments it runs with. */
function actionBlock(view: ReviewedAction): SafeHtml {
  return html`<h2>What it will do</h2>
${previewBlock(view.preview)}<h2>Arguments</h2>
${argsBlock(view)}`;
}

/** A sentence of what became of a decided action. */
function outcome(view: ReviewedAction): { badge: SafeHtml; heading: string; sentence: SafeHtml } {
  const when = view.decidedAt === null ? null : html` on ${utcMoment(view.decidedAt)}`;
  if (view.actionStatus === "cancelled") {
    if (view.cancelReason === "thread_closed") {
      return {
        badge: html`<span class="badge off">Cancelled</span>`,
        heading: "Cancelled",
        sentence: html`It was cancelled${when} when its conversation closed. Nothing was run.`,
      };
    }
    return {
      badge: html`<span class="badge off">Denied</span>`,
      heading: "Denied",
      sentence: html`It was denied${decider(view)}${when}. Nothing was run.`,
    };
  }
  const ran =
    view.actionStatus === "succeeded" ? " It has run." : view.actionStatus === "failed" ? " It was run, but failed." : " It is being run now.";
  return { badge: html`<span class="badge ok">Approved</span>`, heading: "Approved", sentence: html`It was approved${decider(view)}${when}.${ran}` };
}

const reasonBlock = (view: ReviewedAction) => (view.reason === null ? null : html`<blockquote class="reason">${view.reason}</blockquote>\n`);

/** One editable argument: its label, description and input, and its problem. */
function fieldBlock(field: ReviewField, index: number, view: FormView): SafeHtml {
  const id = `arg-${index}`;
  const error = ownValue(view.problems, field.input);
  const value = ownValue(view.values, field.input);
  const text = typeof value === "string" ? value : "";
  const required = field.required ? html` required` : null;
  const aria = error === undefined ? null : html` aria-invalid="true" aria-describedby="${id}-error"`;
  const hint = field.description === null ? null : html`<p class="hint">${field.description}</p>\n`;
  const mark = field.required ? html`<span class="req" aria-hidden="true">*</span>` : null;
  const message = error === undefined ? null : html`<p class="error" id="${id}-error">${error}</p>\n`;
  const classes = error === undefined ? "field" : "field invalid";
  let input: SafeHtml;
  switch (field.type) {
    case "checkbox":
      input = html`<input type="checkbox" id="${id}" name="${field.input}" value="true"${value === true ? html` checked` : null}${aria}>`;
      return html`<div class="${classes}">
<label class="check" for="${id}">${input}<span>${field.label}</span></label>
${hint}${message}</div>
`;
    case "select":
      input = html`<select id="${id}" name="${field.input}"${required}${aria}>
<option value="">Choose…</option>
${field.options.map((option) => html`<option value="${option}"${option === text ? html` selected` : null}>${option}</option>\n`)}</select>`;
      break;
    case "textarea":
      input = html`<textarea id="${id}" name="${field.input}" rows="6"${required}${aria}>
${text}</textarea>`;
      break;
    default: {
      const numeric = field.type === "number" || field.type === "integer";
      const step =
        field.type === "integer" ? html` step="1" inputmode="numeric"` : field.type === "number" ? html` step="any" inputmode="decimal"` : null;
      input = html`<input type="${numeric ? "number" : "text"}" id="${id}" name="${field.input}" value="${text}"${step}${required}${aria}>`;
    }
  }
  return html`<div class="${classes}">
<label for="${id}">${field.label}${mark}</label>
${hint}${input}
${message}</div>
`;
}

/** The problems of a refused post at the top of the page, each linking to its input. */
function problemSummary(view: FormView): SafeHtml | null {
  const fields = view.fields ?? [];
  const beside = [
    ...fields.map((field, index) => ({ input: field.input, label: field.label, id: `arg-${index}` })),
    { input: view.form.reason.name, label: "Reason", id: "reason" },
  ]
    .map((entry) => ({ ...entry, problem: ownValue(view.problems, entry.input) }))
    .filter((entry) => entry.problem !== undefined);
  if (beside.length === 0 && view.general.length === 0) return null;
  return html`<div class="summary" role="alert">
<h2>${view.status === 409 ? "Nothing was recorded" : "Please check your answers"}</h2>
<ul>
${view.general.map((message) => html`<li>${message}</li>\n`)}${beside.map((entry) => html`<li><a href="#${entry.id}">${entry.label}: ${entry.problem}</a></li>\n`)}</ul>
</div>
`;
}

/** The decision form: the action, its arguments (editable where they can be), a reason, Approve and Deny. */
function formPage(view: FormView): Page {
  const { form } = view;
  const reasonError = ownValue(view.problems, form.reason.name);
  const reasonValue = ownValue(view.values, form.reason.name);
  const args =
    view.fields === null
      ? html`${argsBlock(view)}<p class="hint">These arguments cannot be edited here; approving runs them as shown.</p>\n`
      : html`${view.fields.some((field) => field.required) ? html`<p class="hint">Fields marked <span class="req">*</span> are required.</p>\n` : null}${view.fields.map((field, index) => fieldBlock(field, index, view))}${
          view.argsChanged ? html`<details><summary>Changed by a reviewer; as proposed</summary>\n${jsonBlock(view.originalArgs)}</details>\n` : null
        }`;
  const body = html`<span class="badge wait">Waiting for your decision</span>
<h1>Review “${view.tool}”</h1>
<p class="lead">An agent asks to run <strong>${view.tool}</strong>. Check what it will do, then approve or deny it.</p>
${ownerLine(view)}${approvalsBlock(view)}${problemSummary(view)}<h2>What it will do</h2>
${previewBlock(view.preview)}<form method="post" accept-charset="utf-8">
<input type="hidden" name="${form.seen.name}" value="${form.seen.value}">
<h2>Arguments</h2>
${args}<div class="${reasonError === undefined ? "field" : "field invalid"}">
<label for="reason">Reason <span class="muted">(optional, sent with a denial)</span></label>
<textarea id="reason" name="${form.reason.name}" rows="3" maxlength="${form.reason.maxLength}"${reasonError === undefined ? null : html` aria-invalid="true" aria-describedby="reason-error"`}>
${typeof reasonValue === "string" ? reasonValue : ""}</textarea>
${reasonError === undefined ? null : html`<p class="error" id="reason-error">${reasonError}</p>\n`}</div>
<div class="actions">
<button type="submit" name="${form.decision.name}" value="${form.decision.approve}">Approve</button>
<button type="submit" class="secondary" name="${form.decision.name}" value="${form.decision.deny}" formnovalidate>Deny</button>
</div>
</form>
<p class="note">This link decides until ${utcMoment(view.expiresAt)}. Opening it decides nothing; only Approve or Deny does.</p>`;
  return { status: view.status, title: `Review · ${view.tool}`, body };
}

/** Still pending, but not for this link to decide: its approvers decide, or this approver already approved. */
function pendingPage(view: ReviewedAction): Page {
  const mine = view.approver === null ? undefined : view.approvals.find((approval) => approval.approver === view.approver);
  const lead = mine
    ? html`You approved it on ${utcMoment(mine.at)}. It runs once ${view.approvalsRequired} approvers have approved.`
    : html`Its approvers decide, each on a link of their own; this page only shows it.`;
  const body = html`<span class="badge ${mine ? "ok" : "wait"}">${mine ? "You approved" : "Waiting for approvers"}</span>
<h1>${view.tool}</h1>
<p class="lead">${lead}</p>
${ownerLine(view)}${approvalsBlock(view)}${actionBlock(view)}<p class="note">If it is not decided by ${utcMoment(view.expiresAt)}, it is ${view.onExpire === "deny" ? "denied" : "cancelled"}.</p>`;
  return { status: 200, title: `Review · ${view.tool}`, body };
}

/** What became of a decided action, with its reason. */
function decidedPage(view: ReviewedAction, status: 200 | 409, message?: string): Page {
  const { badge, heading, sentence } = outcome(view);
  const refused =
    message === undefined ? null : html`<div class="summary" role="alert"><h2>Your answer was not recorded</h2><p>${message}</p></div>\n`;
  const body = html`${badge}
<h1>${heading}: ${view.tool}</h1>
${refused}<p class="lead">${sentence}</p>
${reasonBlock(view)}${ownerLine(view)}${approvalsBlock(view)}${actionBlock(view)}`;
  return { status, title: `${heading} · ${view.tool}`, body };
}

/** A post this link cannot make (409): the outcome as it stands, or the action still waiting for others. */
function refusedPage(view: Extract<ReviewPageView, { page: "review_refused" }>): Page {
  if (view.actionStatus !== "pending") return decidedPage(view, 409, view.message);
  const page = pendingPage(view);
  return {
    ...page,
    status: 409,
    body: html`<div class="summary" role="alert"><h2>Your answer was not recorded</h2><p>${view.message}</p></div>\n${page.body}`,
  };
}

/** The deadline passed with nobody deciding (410). */
function expiredPage(view: ReviewedAction): Page {
  const body = html`<span class="badge off">Expired</span>
<h1>This review link has expired</h1>
<p class="lead">Nobody decided on <strong>${view.tool}</strong> before ${utcMoment(view.expiresAt)}, so it was ${view.cancelReason === "denied" ? "denied" : "cancelled"}. Nothing was run.</p>
${reasonBlock(view)}${actionBlock(view)}`;
  return { status: 410, title: `Expired · ${view.tool}`, body };
}

/** The page of a review view, as the default hosted page draws it. */
export function reviewPage(view: ReviewPageView): Page {
  switch (view.page) {
    case "review":
      return formPage(view);
    case "review_pending":
      return pendingPage(view);
    case "review_decided":
      return decidedPage(view, 200);
    case "review_refused":
      return refusedPage(view);
    case "review_expired":
      return expiredPage(view);
    case "review_not_found":
      return {
        status: 404,
        title: "Review link not found",
        body: html`<h1>Review link not found</h1>
<p class="lead">There is no action to review at this address.</p>
<p>Check that you opened the whole link you were sent.</p>`,
      };
  }
}
