import { isAgentSessionsError, type PendingAction } from "@agent-sessions/core";
import { html, type SafeHtml } from "../hosted/html.js";
import { badge, type ConsoleCall, countdown, deciderOf, jsonBlock, moment, recordLink } from "./context.js";
import { csrfInput, seeOther } from "./layout.js";

/** The fields an action's decision form posts. */
export const DECISION_FIELDS = { decision: "decision", args: "args", reason: "reason" } as const;

/** What the agent says the action does: each key beside its value. */
function previewList(preview: Readonly<Record<string, unknown>>): SafeHtml {
  const entries = Object.entries(preview);
  if (entries.length === 0) return html`<p class="muted">The agent gave no preview.</p>`;
  return html`<dl class="kv">${entries.map(
    ([key, value]) => html`<dt>${key}</dt><dd>${typeof value === "string" ? value : jsonBlock(value)}</dd>`,
  )}</dl>`;
}

/** The Approve form (arguments editable as JSON) and the Deny form (with a reason) of a pending action. */
function decisionForms(call: ConsoleCall, threadId: string, action: PendingAction, argsText?: string): SafeHtml {
  const target = `${call.root}/s/${encodeURIComponent(threadId)}/actions/${encodeURIComponent(action.id)}`;
  const args = argsText ?? JSON.stringify(action.args ?? null, null, 2);
  const hint = action.argsSchema ? "Checked against the action's schema when you approve." : "Sent as the arguments the tool runs with.";
  return html`<div class="split">
<form method="post" action="${target}">${csrfInput(call.session)}
<input type="hidden" name="${DECISION_FIELDS.decision}" value="approve">
<div class="field"><label for="args-${action.id}">Arguments (JSON)</label>
<textarea id="args-${action.id}" name="${DECISION_FIELDS.args}" rows="6" aria-describedby="args-hint-${action.id}" spellcheck="false">${args}</textarea>
<span class="muted" id="args-hint-${action.id}">${hint}</span></div>
<button type="submit">Approve</button>
</form>
<form method="post" action="${target}">${csrfInput(call.session)}
<input type="hidden" name="${DECISION_FIELDS.decision}" value="deny">
<div class="field"><label for="reason-${action.id}">Reason for denying</label>
<textarea id="reason-${action.id}" name="${DECISION_FIELDS.reason}" rows="3"></textarea></div>
<button type="submit" class="secondary">Deny</button>
</form>
</div>`;
}

/** The outcome of a decided action: who decided, how, and why. */
function outcome(action: PendingAction): SafeHtml {
  return html`<dl class="kv">
<dt>Decided</dt><dd>${moment(action.decidedAt)}${action.decidedBy ? html` by <span class="mono">${action.decidedBy}</span>` : null}${action.decidedVia ? html` via ${action.decidedVia}` : null}</dd>
${action.reason ? html`<dt>Reason</dt><dd>${action.reason}</dd>` : null}
${action.originalArgs !== undefined ? html`<dt>As proposed</dt><dd>${jsonBlock(action.originalArgs)}</dd>` : null}
${action.error ? html`<dt>Error</dt><dd>${action.error}</dd>` : null}
${action.result !== undefined && action.result !== null ? html`<dt>Result</dt><dd>${jsonBlock(action.result)}</dd>` : null}
</dl>`;
}

/** One action: its tool, status, deadline, preview and arguments, with the decision forms while it is pending. */
export function actionCard(
  call: ConsoleCall,
  threadId: string,
  action: PendingAction,
  options: { thread?: boolean; argsText?: string } = {},
): SafeHtml {
  const pending = action.status === "pending";
  return html`<section class="card" aria-labelledby="action-${action.id}">
<h3 id="action-${action.id}">${action.tool} ${badge(action.status)}</h3>
<dl class="kv">
<dt>Action</dt><dd class="mono">${action.id}</dd>
${options.thread ? html`<dt>Thread</dt><dd>${recordLink(call.root, threadId)}</dd>` : null}
<dt>Proposed</dt><dd>${moment(action.createdAt)}</dd>
${pending ? html`<dt>Deadline</dt><dd>${countdown(action.expiresAt)}</dd>` : null}
</dl>
<h4>Preview</h4>
${previewList(action.preview)}
${pending ? decisionForms(call, threadId, action, options.argsText) : html`<h4>Arguments</h4>${jsonBlock(action.args ?? null)}${outcome(action)}`}
</section>`;
}

/** The answer to a decision the engine refused, or that could not be read: the message, and the arguments as posted. */
export interface RefusedDecision {
  readonly message: string;
  readonly status: number;
  readonly argsText?: string;
}

/**
 * Decides an action through the same engine operation as the API, recorded as decided by the
 * signed-in key: approve with the arguments as edited, or deny with a reason. Answers a redirect
 * to the thread, or the refusal to show on its page.
 */
export async function decide(call: ConsoleCall): Promise<Response | RefusedDecision> {
  const { threadId, actionId } = call.params as { threadId: string; actionId: string };
  const decision = call.form.get(DECISION_FIELDS.decision);
  const argsText = call.form.get(DECISION_FIELDS.args) ?? undefined;
  let input: { confirmed: boolean; args?: unknown; reason?: string };
  if (decision === "approve") {
    if (argsText === undefined || argsText.trim() === "") {
      input = { confirmed: true };
    } else {
      try {
        input = { confirmed: true, args: JSON.parse(argsText) };
      } catch {
        return { message: "Arguments: this is not valid JSON; nothing was decided.", status: 400, argsText };
      }
    }
  } else if (decision === "deny") {
    const reason = (call.form.get(DECISION_FIELDS.reason) ?? "").trim();
    input = { confirmed: false, ...(reason ? { reason } : {}) };
  } else {
    return { message: "Choose Approve or Deny.", status: 400 };
  }
  try {
    await call.engine.threads.decideAction(call.session.orgId, threadId, actionId, input as never, { decidedBy: deciderOf(call.session) });
  } catch (error) {
    if (
      isAgentSessionsError(error) &&
      (error.code === "invalid_input" || error.code === "illegal_transition" || error.code === "conflict" || error.code === "expired")
    ) {
      const status = error.code === "invalid_input" ? 400 : 409;
      return { message: `Nothing was decided: ${error.message}`, status, ...(argsText !== undefined ? { argsText } : {}) };
    }
    throw error;
  }
  return seeOther(`${call.root}/s/${encodeURIComponent(threadId)}?notice=${input.confirmed ? "approved" : "denied"}`);
}
