import type { AgentSession, AnyRecord, FormSession, SessionEvent, Thread, Workflow } from "@agent-sessions/core";
import { html, type SafeHtml } from "../hosted/html.js";
import { hostedUrl } from "../route.js";
import { actionCard, type RefusedDecision } from "./actions.js";
import { badge, type ConsoleCall, countdown, jsonBlock, moment, notice, page, problem, routeContext } from "./context.js";
import type { Section } from "./layout.js";

/** How many of a record's latest events its page shows; the stream adds the ones after. */
const TIMELINE_SHOWN = 200;

/** The hosted page's URL of a form session, or a sentence when this request's host may not name one. */
function hostedLink(call: ConsoleCall, id: string): SafeHtml {
  try {
    const url = hostedUrl(routeContext(call), id);
    return html`<a href="${url}">${url}</a>`;
  } catch {
    return html`<span class="muted">not shown: this host is not one the router names hosted URLs after</span>`;
  }
}

/** Values by field name, the values of hidden fields marked as hidden (kept by the server, never shown to the person). */
function valuesList(session: FormSession, values: Readonly<Record<string, unknown>>): SafeHtml {
  const entries = Object.entries(values);
  if (entries.length === 0) return html`<p class="muted">None.</p>`;
  const hidden = new Set(session.fields.filter((field) => field.type === "hidden").map((field) => field.name));
  return html`<dl class="kv">${entries.map(
    ([name, value]) =>
      html`<dt>${name}</dt><dd>${hidden.has(name) ? html`<span class="hidden-value">hidden field</span> ` : null}<span class="mono">${JSON.stringify(value)}</span></dd>`,
  )}</dl>`;
}

function formSessionBody(call: ConsoleCall, session: FormSession): SafeHtml {
  const live = session.status === "created" || session.status === "open";
  const submission = session.submission;
  return html`<dl class="kv">
<dt>Form</dt><dd>${session.formName ?? ""} <span class="mono">${session.formId}</span></dd>
<dt>Created</dt><dd>${moment(session.createdAt)}</dd>
<dt>Opened</dt><dd>${moment(session.openedAt)}</dd>
<dt>${live ? "Expires" : "Expiry"}</dt><dd>${live ? countdown(session.expiresAt) : moment(session.expiredAt ?? session.expiresAt)}</dd>
<dt>Hosted URL</dt><dd>${live ? hostedLink(call, session.id) : html`<span class="muted">closed (${session.status})</span>`}</dd>
</dl>
<h2>Prefill</h2>${valuesList(session, session.prefill)}
<h2>Submission</h2>
${
  submission === null
    ? html`<p class="muted">Not submitted.</p>`
    : html`<p>Submitted ${moment(submission.submittedAt)}${submission.partial ? html` · <strong>partial</strong>, missing ${submission.missingFields.join(", ")}` : null}</p>${valuesList(session, submission.values)}`
}`;
}

function workflowBody(workflow: Workflow): SafeHtml {
  return html`<dl class="kv">
<dt>Name</dt><dd>${workflow.name}</dd>
<dt>Created</dt><dd>${moment(workflow.createdAt)}</dd>
${workflow.completedAt ? html`<dt>Completed</dt><dd>${moment(workflow.completedAt)}</dd>` : null}
${workflow.failure ? html`<dt>Failure</dt><dd>${workflow.failure.message}</dd>` : null}
<dt>Inboxes</dt><dd>${workflow.inboxes.length}</dd><dt>Messages</dt><dd>${workflow.messages.length}</dd>
</dl>
${
  workflow.waits.length === 0
    ? null
    : html`<h2>Waits</h2><div class="scroll"><table><thead><tr><th scope="col">Wait</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Deadline</th></tr></thead><tbody>${workflow.waits.map(
        (wait) =>
          html`<tr><td class="mono">${wait.id}</td><td>${wait.type}</td><td>${badge(wait.status)}</td><td>${wait.status === "pending" ? countdown(wait.expiresAt) : moment(wait.completedAt)}</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Replay steps</h2>
${
  workflow.steps.length === 0
    ? html`<p class="muted">No recorded steps.</p>`
    : html`<div class="scroll"><table><thead><tr><th scope="col">#</th><th scope="col">Action</th><th scope="col" class="num">Duration</th><th scope="col">Input and output</th></tr></thead><tbody>${workflow.steps.map(
        (step) =>
          html`<tr><td>${step.index}</td><td>${step.action}${step.error ? html` ${badge(step.error.critical ? "failed" : "retrying")} ${step.error.message}` : null}</td><td class="num">${step.durationMs} ms</td><td><details><summary>Show</summary>${jsonBlock({ input: step.input, output: step.output })}</details></td></tr>`,
      )}</tbody></table></div>`
}`;
}

function threadBody(call: ConsoleCall, thread: Thread, refused: RefusedDecision | null): SafeHtml {
  const variables = Object.entries(thread.contextVariables);
  const refusedAction = refused ? call.params.actionId : undefined;
  return html`<dl class="kv">
<dt>Created</dt><dd>${moment(thread.createdAt)}</dd>
${thread.closedAt ? html`<dt>Closed</dt><dd>${moment(thread.closedAt)} (${thread.durationSeconds} s, ${thread.billable ? "billable" : "not billable"})</dd>` : null}
</dl>
<h2>Context variables</h2>
${variables.length === 0 ? html`<p class="muted">None.</p>` : html`<dl class="kv">${variables.map(([key, value]) => html`<dt class="mono">${key}</dt><dd>${jsonBlock(value)}</dd>`)}</dl>`}
<h2>Actions</h2>
${
  thread.actions.length === 0
    ? html`<p class="muted">No actions proposed.</p>`
    : [...thread.actions]
        .reverse()
        .map((action) =>
          actionCard(call, thread.id, action, action.id === refusedAction && refused?.argsText !== undefined ? { argsText: refused.argsText } : {}),
        )
}`;
}

function agentSessionBody(session: AgentSession): SafeHtml {
  const usage = Object.entries(session.usage ?? {});
  return html`<dl class="kv">
<dt>Agent</dt><dd class="mono">${session.agentId}</dd>
${session.title ? html`<dt>Title</dt><dd>${session.title}</dd>` : null}
<dt>Model</dt><dd>${session.modelId ?? "the agent's"}</dd>
<dt>Tags</dt><dd>${session.tags.join(", ") || "—"}</dd>
<dt>Started</dt><dd>${moment(session.startedAt)}</dd><dt>Finished</dt><dd>${moment(session.finishedAt)}</dd>
<dt>Turns</dt><dd>${session.turns}</dd>
<dt>First input</dt><dd>${session.preview ?? "—"}</dd><dt>Last output</dt><dd>${session.outputPreview ?? "—"}</dd>
</dl>
<h2>Usage</h2>
${usage.length === 0 ? html`<p class="muted">No usage reported.</p>` : html`<table><tbody>${usage.map(([key, value]) => html`<tr><th scope="row">${key}</th><td class="num">${value.toLocaleString("en")}</td></tr>`)}</tbody></table>`}`;
}

/** The timeline, which the page's script keeps live from the console's event stream. */
function timeline(call: ConsoleCall, id: string, events: readonly SessionEvent[]): SafeHtml {
  const last = events.at(-1)?.id ?? "";
  return html`<h2 id="timeline-heading">Timeline</h2>
<p class="muted">Events appear here as they happen. <span id="live-status" role="status" aria-live="polite"></span></p>
<ol class="timeline" aria-labelledby="timeline-heading" data-events="${call.root}/s/${encodeURIComponent(id)}/events" data-since="${last}">
${events.map((event) => html`<li><span class="muted mono">${new Date(event.at).toISOString()}</span> <strong>${event.type}</strong>${Object.keys(event.payload).length > 0 ? jsonBlock(event.payload) : null}</li>`)}</ol>`;
}

const SECTION_OF: Partial<Record<AnyRecord["kind"], Section>> = {
  form_session: "forms",
  workflow: "workflows",
  thread: "threads",
  agent_session: "agents",
};
const NOUN: Partial<Record<AnyRecord["kind"], string>> = {
  form_session: "Form session",
  workflow: "Workflow",
  thread: "Thread",
  agent_session: "Agent session",
};

/** A record's page: its state, its kind's details and its live timeline; a decision the engine refused shown on top. */
export async function recordPage(call: ConsoleCall, found: AnyRecord, refused: RefusedDecision | null = null): Promise<Response> {
  const { session, engine } = call;
  const id = found.record.id;
  const events = await engine.timeline(session.orgId, id, { afterSeq: Math.max(0, found.seq - TIMELINE_SHOWN) });
  let body: SafeHtml;
  switch (found.kind) {
    case "form_session":
      body = formSessionBody(call, found.record);
      break;
    case "workflow":
      body = workflowBody(found.record);
      break;
    case "thread":
      body = threadBody(call, found.record, refused);
      break;
    case "agent_session":
      body = agentSessionBody(found.record);
      break;
    default:
      body = jsonBlock(found.record);
  }
  const status = (found.record as { status?: string }).status ?? "";
  const noun = NOUN[found.kind] ?? found.kind;
  return page(
    call,
    `${noun} ${id}`,
    SECTION_OF[found.kind],
    html`${notice(call.url)}${problem(refused?.message ?? null)}<h1>${noun} <span class="mono">${id}</span> ${status ? badge(status) : null}</h1>
${body}
${timeline(call, id, events)}`,
    refused?.status ?? 200,
  );
}

/** A record's page when the id names one of this organization's session records; `null` otherwise. */
export async function findRecord(call: ConsoleCall, id: string): Promise<AnyRecord | null> {
  try {
    const found = await call.engine.records.get(call.session.orgId, id);
    return found.kind in SECTION_OF ? found : null;
  } catch (error) {
    if ((error as { code?: string }).code === "not_found") return null;
    throw error;
  }
}
