import { isPrefixedId, isRecordId, KINDS } from "@agent-sessions/core";
import { html, type SafeHtml } from "../hosted/html.js";
import { hasCode } from "../hosted/send.js";
import { actionCard } from "./actions.js";
import { hourlyChart, hourlyCounts, latencyChart } from "./charts.js";
import { badge, type ConsoleCall, countdown, moment, notice, page, problem, recordLink } from "./context.js";
import { expiringSoon, LISTED_KINDS, type ListedKind, listKind, pendingActions, recentAttempts, recentFormSessions } from "./data.js";
import { csrfInput, type Section, seeOther } from "./layout.js";

/** Each listed kind's section, title and the columns its rows show beside id, status and creation. */
const LISTS: Record<ListedKind, { section: Section; title: string; detail(record: never): SafeHtml | string }> = {
  form_session: {
    section: "forms",
    title: "Form sessions",
    detail: (s: { formName?: string; formId: string; status: string; expiresAt: number }) =>
      html`${s.formName ?? s.formId}${s.status === "created" || s.status === "open" ? html` · expires ${countdown(s.expiresAt)}` : null}`,
  },
  workflow: { section: "workflows", title: "Workflows", detail: (w: { name: string; steps: unknown[] }) => `${w.name} · ${w.steps.length} steps` },
  thread: {
    section: "threads",
    title: "Threads",
    detail: (t: { actions: { status: string }[] }) =>
      `${t.actions.filter((a) => a.status === "pending").length} pending of ${t.actions.length} actions`,
  },
  agent_session: {
    section: "agents",
    title: "Agent sessions",
    detail: (a: { title: string | null; agentId: string; turns: number }) => `${a.title ?? a.agentId} · ${a.turns} turns`,
  },
};

/** The listed kind of a section's URL segment. */
export const KIND_OF_SECTION: Readonly<Record<string, ListedKind>> = {
  forms: "form_session",
  workflows: "workflow",
  threads: "thread",
  agents: "agent_session",
};

const PAGE_SIZE = 25;

/** The overview: counts by kind and status, what expires within the hour, pending actions, failed deliveries, charts. */
export async function overview(call: ConsoleCall): Promise<Response> {
  const { engine, root } = call;
  const orgId = call.session.orgId;
  const now = engine.now();
  const [counts, expiring, actions, attempts, recent] = await Promise.all([
    Promise.all(
      LISTED_KINDS.map(async (kind) => ({
        kind,
        totals: await Promise.all(
          KINDS[kind].statuses.map(async (status) => ({ status, total: (await listKind(engine, orgId, kind, { status, limit: 1 })).total })),
        ),
      })),
    ),
    expiringSoon(engine, orgId, now, 3_600_000),
    pendingActions(engine, orgId),
    recentAttempts(engine, orgId),
    recentFormSessions(engine, orgId),
  ]);
  const failed = attempts.filter(({ attempt }) => attempt.outcome === "failed");
  const countCards = counts.map(({ kind, totals }) => {
    const { section, title } = LISTS[kind];
    return html`<section class="card" aria-labelledby="count-${kind}"><h2 id="count-${kind}"><a href="${root}/${section}">${title}</a></h2>
<table><tbody>${totals.map(({ status, total }) => html`<tr><th scope="row"><a href="${root}/${section}?status=${status}">${status}</a></th><td class="num">${total}</td></tr>`)}</tbody></table></section>`;
  });
  const body = html`<h1>Overview</h1>
<div class="grid">${countCards}</div>
<div class="split">
<section class="card" aria-labelledby="chart-sessions"><h2 id="chart-sessions">Form sessions per hour (last 24 h)</h2>${hourlyChart(hourlyCounts(recent, now), now)}</section>
<section class="card" aria-labelledby="chart-latency"><h2 id="chart-latency">Webhook delivery latency</h2>${latencyChart(
    attempts.map((entry) => entry.attempt),
    "overview-latency",
  )}</section>
</div>
<h2>Expiring in the next hour</h2>
${
  expiring.length === 0
    ? html`<p class="muted">Nothing expires within the hour.</p>`
    : html`<div class="scroll"><table><thead><tr><th scope="col">Session</th><th scope="col">Form</th><th scope="col">Expires</th></tr></thead><tbody>${expiring.map(
        (s) => html`<tr><td>${recordLink(root, s.id)}</td><td>${s.formName ?? s.formId}</td><td>${countdown(s.expiresAt)}</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Pending actions</h2>
${
  actions.length === 0
    ? html`<p class="muted">No action waits for a decision.</p>`
    : html`<div class="scroll"><table><thead><tr><th scope="col">Tool</th><th scope="col">Thread</th><th scope="col">Deadline</th></tr></thead><tbody>${actions
        .slice(0, 10)
        .map(
          ({ threadId, action }) =>
            html`<tr><td>${action.tool}</td><td>${recordLink(root, threadId)}</td><td>${countdown(action.expiresAt)}</td></tr>`,
        )}</tbody></table></div>${actions.length > 10 ? html`<p><a href="${root}/actions">All ${actions.length} pending actions</a></p>` : null}`
}
<h2>Failed webhook deliveries</h2>
${
  failed.length === 0
    ? html`<p class="muted">No failed deliveries.</p>`
    : html`<div class="scroll"><table><thead><tr><th scope="col">Endpoint</th><th scope="col">Event</th><th scope="col">Attempt</th><th scope="col">Error</th><th scope="col">At</th></tr></thead><tbody>${failed
        .slice(0, 5)
        .map(
          ({ endpoint, attempt }) =>
            html`<tr><td><a href="${root}/webhooks/${endpoint.id}">${endpoint.url}</a></td><td>${attempt.eventType}</td><td class="num">${attempt.attempt}</td><td>${attempt.error ?? `HTTP ${attempt.statusCode}`}</td><td>${moment(attempt.at)}</td></tr>`,
        )}</tbody></table></div>${failed.length > 5 ? html`<p>${failed.length} failed attempts among the newest of each endpoint; see <a href="${root}/webhooks">Webhooks</a>.</p>` : null}`
}`;
  return page(call, "Overview", "overview", body);
}

/** The search box and status filter of a list. */
function filters(call: ConsoleCall, kind: ListedKind, status: string, query: string): SafeHtml {
  const { section } = LISTS[kind];
  const options = ["", ...KINDS[kind].statuses].map(
    (value) => html`<option value="${value}"${value === status ? html` selected` : null}>${value === "" ? "Any status" : value}</option>`,
  );
  return html`<form class="filters" method="get" action="${call.root}/${section}" role="search">
<div class="field"><label for="status">Status</label><select id="status" name="status">${options}</select></div>
<div class="field"><label for="q">Search by id${kind === "form_session" ? " or form slug" : ""}</label><input type="search" id="q" name="q" value="${query}" spellcheck="false"></div>
<div class="field"><button type="submit">Filter</button></div>
</form>`;
}

/**
 * One page of a kind's records, newest first, by status, paged by the engine's cursor. A search
 * for an id opens that record (this organization's only); for form sessions, a form's slug or id
 * lists that form's sessions among the newest page.
 */
export async function listPage(call: ConsoleCall, kind: ListedKind): Promise<Response> {
  const { engine, root, url } = call;
  const orgId = call.session.orgId;
  const status = url.searchParams.get("status") ?? "";
  const query = (url.searchParams.get("q") ?? "").trim();
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const { section, title, detail } = LISTS[kind];
  if (query !== "" && isRecordId(query) && !isPrefixedId(query, KINDS.form.prefix)) return seeOther(`${root}/s/${encodeURIComponent(query)}`);
  let form: { id: string; name: string } | null = null;
  if (query !== "" && kind === "form_session") {
    try {
      form = await engine.forms.get(orgId, query);
    } catch (error) {
      if (!hasCode(error, "not_found", "invalid_input")) throw error;
    }
    if (form === null)
      return page(
        call,
        title,
        section,
        html`<h1>${title}</h1>${filters(call, kind, status, query)}${problem(`No session or form matches “${query}”.`)}`,
        404,
      );
  } else if (query !== "") {
    return page(call, title, section, html`<h1>${title}</h1>${filters(call, kind, status, query)}${problem(`No session matches “${query}”.`)}`, 404);
  }
  const listed = await listKind(engine, orgId, kind, { ...(status ? { status } : {}), limit: form ? 100 : PAGE_SIZE, ...(cursor ? { cursor } : {}) });
  const rows = form ? listed.data.filter((record) => (record as { formId?: string }).formId === form!.id) : listed.data;
  const keep = (extra: Record<string, string>) => new URLSearchParams({ ...(status ? { status } : {}), ...extra }).toString();
  const pager = html`<nav class="pager" aria-label="Pages">${cursor ? html`<a href="${root}/${section}?${keep({})}">First page</a>` : null}${
    listed.nextCursor && !form ? html`<a href="${root}/${section}?${keep({ cursor: listed.nextCursor })}" rel="next">Next page</a>` : null
  }</nav>`;
  const body = html`<h1>${title}</h1>
${filters(call, kind, status, query)}
<p class="muted">${form ? html`Sessions of form <strong>${form.name}</strong> (<span class="mono">${form.id}</span>) among the 100 newest${status ? ` ${status}` : ""}: ${rows.length}.` : html`${listed.total} ${status || "in all"}.`}</p>
<div class="scroll"><table><thead><tr><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Details</th><th scope="col">Created</th></tr></thead><tbody>
${rows.map((record) => html`<tr><td>${recordLink(root, record.id)}</td><td>${badge(record.status)}</td><td>${detail(record as never)}</td><td>${moment(record.createdAt)}</td></tr>`)}
</tbody></table></div>
${rows.length === 0 ? html`<p class="muted">Nothing to show.</p>` : null}
${pager}`;
  return page(call, title, section, body);
}

/** Every pending action of the newest active threads, each with its Approve and Deny forms. */
export async function actionsPage(call: ConsoleCall): Promise<Response> {
  const actions = await pendingActions(call.engine, call.session.orgId);
  const body = html`<h1>Pending actions</h1>${notice(call.url)}
${actions.length === 0 ? html`<p class="muted">No action waits for a decision.</p>` : actions.map(({ threadId, action }) => actionCard(call, threadId, action, { thread: true }))}`;
  return page(call, "Pending actions", "actions", body);
}

/** The organization's webhook endpoints. */
export async function webhooksPage(call: ConsoleCall): Promise<Response> {
  const { root } = call;
  const endpoints = (await call.engine.webhooks.list(call.session.orgId, { limit: 100 })).data;
  const body = html`<h1>Webhooks</h1>
${
  endpoints.length === 0
    ? html`<p class="muted">No endpoints. Create one with <code>POST /v1/webhooks</code>.</p>`
    : html`<div class="scroll"><table><thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">Description</th><th scope="col">Created</th></tr></thead><tbody>${endpoints.map(
        (endpoint) =>
          html`<tr><td><a href="${root}/webhooks/${endpoint.id}">${endpoint.url}</a></td><td>${endpoint.events.join(", ") || "all"}</td><td>${endpoint.description ?? ""}</td><td>${moment(endpoint.createdAt)}</td></tr>`,
      )}</tbody></table></div>`
}`;
  return page(call, "Webhooks", "webhooks", body);
}

/** One endpoint: its settings, a button that sends a test event, its latency chart and its delivery log, paged. */
export async function webhookPage(call: ConsoleCall): Promise<Response> {
  const { root, url } = call;
  const orgId = call.session.orgId;
  const id = call.params.id!;
  const endpoint = await call.engine.webhooks.get(orgId, id);
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const log = await call.engine.webhooks.deliveries(orgId, id, { limit: 50, ...(cursor ? { cursor } : {}) });
  const body = html`${notice(url)}<h1>Webhook <span class="mono">${endpoint.id}</span></h1>
<dl class="kv"><dt>URL</dt><dd>${endpoint.url}</dd><dt>Events</dt><dd>${endpoint.events.join(", ") || "all"}</dd>
<dt>Description</dt><dd>${endpoint.description ?? "—"}</dd><dt>Created</dt><dd>${moment(endpoint.createdAt)}</dd></dl>
<form method="post" action="${root}/webhooks/${endpoint.id}/test">${csrfInput(call.session)}<button type="submit">Send test event</button></form>
<h2>Latency</h2>${latencyChart(log.data, "endpoint-latency")}
<h2>Delivery log</h2>
<p class="muted">${log.total} attempts, newest first.</p>
<div class="scroll"><table><thead><tr><th scope="col">At</th><th scope="col">Event</th><th scope="col" class="num">Attempt</th><th scope="col">Outcome</th><th scope="col">Answer</th><th scope="col" class="num">Duration</th></tr></thead><tbody>
${log.data.map(
  (a) =>
    html`<tr><td>${moment(a.at)}</td><td>${a.eventType} <span class="muted mono">${a.eventId}</span></td><td class="num">${a.attempt}</td><td>${badge(a.outcome)}</td><td>${a.statusCode === null ? (a.error ?? "—") : `HTTP ${a.statusCode}`}</td><td class="num">${a.durationMs} ms</td></tr>`,
)}</tbody></table></div>
<nav class="pager" aria-label="Pages">${cursor ? html`<a href="${root}/webhooks/${id}">Newest</a>` : null}${log.nextCursor ? html`<a href="${root}/webhooks/${id}?cursor=${encodeURIComponent(log.nextCursor)}" rel="next">Older</a>` : null}</nav>`;
  return page(call, `Webhook ${endpoint.id}`, "webhooks", body);
}

/** Queues a test event for one endpoint, then shows its page again. */
export async function sendTestEvent(call: ConsoleCall): Promise<Response> {
  const id = call.params.id!;
  await call.engine.webhooks.sendTest(call.session.orgId, id);
  return seeOther(`${call.root}/webhooks/${encodeURIComponent(id)}?notice=tested`);
}
