// The calls each run starts with, in both organizations: one record of every kind, so that even a
// short run (or a shrunk one) has real ids, of its own organization and of the other, to aim at.
import type { Operation } from "./document.js";
import { Child, FormValues, Pick, type Recipe, WebhookTarget } from "./recipes.js";
import type { CallStep } from "./steps.js";

const INTAKE_FIELDS: Recipe = [
  { name: "email", label: "Email", type: "email", required: true },
  { name: "issue", type: "textarea", required: true },
  { name: "plan", type: "select", options: ["free", "pro"] },
  { name: "agree", type: "checkbox" },
  { name: "session_id", type: "hidden" },
];

/** The prelude's calls, valid by construction: each must answer 201. */
export function preludeSteps(operations: readonly Operation[]): CallStep[] {
  const index = (name: string) => {
    const found = operations.findIndex((operation) => operation.name === name);
    if (found < 0) throw new Error(`the document has no ${name}`);
    return found;
  };
  const call = (actor: "a" | "b", name: string, path: Pick[], json: Recipe): CallStep => ({
    t: "call",
    op: index(name),
    actor,
    auth: "bearer",
    path,
    query: [],
    body: { json },
    valid: true,
    idempotencyKey: null,
    twist: null,
  });
  return (["a", "b"] as const).flatMap((actor) => [
    call(actor, "POST /v1/forms", [], { name: "Support intake", slug: "support-intake", fields: INTAKE_FIELDS, allowPartial: true }),
    call(actor, "POST /v1/forms/{id}/sessions", [new Pick(["form"], 0, "own")], { expires_in: 3600, prefill: new FormValues("valid", 0) }),
    call(actor, "POST /api/v1/sessions", [], { name: "user-signup-flow", metadata: { environment: "staging" } }),
    call(actor, "POST /api/v1/sessions/{id}/inboxes", [new Pick(["workflow"], 0, "own")], { ttlSeconds: 3600 }),
    call(actor, "POST /api/v1/sessions/{id}/waits", [new Pick(["workflow"], 0, "own")], {
      type: "otp",
      inboxId: new Child("inbox", 0),
      timeoutSeconds: 600,
    }),
    call(actor, "POST /api/v1/threads", [], { context_variables: { USER_PLAN: "enterprise" } }),
    call(actor, "POST /api/v1/sessions/{thread_id}/actions", [new Pick(["thread"], 0, "own")], {
      tool: "send_email",
      preview: { to: "user@example.com" },
      expires_in: 600,
    }),
    call(actor, "POST /v1/agents", [], { name: "support", capabilities: [{ ref: "web_search" }] }),
    call(actor, "POST /v1/sessions", [], { agent_id: new Pick(["agent"], 0, "own"), tags: ["urgent"], title: "Debug login" }),
    call(actor, "POST /v1/webhooks", [], { url: new WebhookTarget("hooks.example.com", "agent-sessions"), events: ["*"] }),
  ]);
}
