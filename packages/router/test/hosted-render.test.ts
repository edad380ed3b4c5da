import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter, type HostedRender, type HostedView, renderHostedPage } from "@agent-sessions/router";
import { describe, expect, it } from "vitest";

const KEY = "hosted_render_key";
const ORG = "org_00000000000000000000000000000001";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);

function setup(render: HostedRender) {
  const clock = { now: T0 };
  const engine = createEngine({ store: new MemoryStore(), clock: () => clock.now });
  const router = createRouter({
    engine,
    apiKeys: [{ orgId: ORG, key: KEY }],
    publicUrl: "https://forms.example.com",
    hosted: { render },
    maxBodyBytes: 2000,
    rateLimit: { anonymous: { limit: 6, windowSeconds: 60 }, authFailures: false, perKey: false },
    clientAddress: (request) => request.headers.get("x-test-client"),
  });
  async function api(path: string, body: unknown) {
    const response = await router.fetch(
      new Request(`http://localhost${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    return response.json();
  }
  async function page(id: string, form?: string, from = "198.51.100.1") {
    const init: RequestInit = { headers: { "x-test-client": from } };
    if (form !== undefined)
      Object.assign(init, { method: "POST", headers: { ...init.headers, "content-type": "application/x-www-form-urlencoded" }, body: form });
    // An id, or a whole path (`/r/<token>`, a review page).
    const response = await router.fetch(new Request(`http://localhost${id.startsWith("/") ? id : `/f/${id}`}`, init));
    return { status: response.status, headers: response.headers, text: await response.text() };
  }
  return { clock, api, page };
}

/** A renderer that sends each view back as JSON text, so the test reads what the page was given. */
const asJson: HostedRender = (view) => JSON.stringify(view);

async function intake(t: ReturnType<typeof setup>) {
  const form = await t.api("/v1/forms", {
    name: "Support intake",
    allowPartial: true,
    fields: [
      { name: "full_name", type: "text", required: true },
      { name: "email", label: "Email", type: "email", required: true },
      { name: "topic", type: "select", options: ["Billing", "Bug"] },
      { name: "updates", label: "Send me updates", type: "checkbox" },
      { name: "session_id", type: "hidden" },
    ],
  });
  return t.api(`/v1/forms/${form.id}/sessions`, {
    prefill: { email: "user@example.com", updates: true, session_id: "sess_internal_ref" },
    expires_in: 60,
  });
}

describe("createRouter({ hosted: { render } })", () => {
  it("draws the form from its view: visible fields with labels, prefilled values, the partial button, the expiry", async () => {
    const t = setup(asJson);
    const session = await intake(t);
    const loaded = await t.page(session.id);
    expect(loaded.status).toBe(200);
    expect(loaded.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(loaded.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(loaded.headers.get("cache-control")).toBe("no-store");
    expect(JSON.parse(loaded.text)).toEqual({
      page: "form",
      status: 200,
      sessionId: session.id,
      formId: session.form_id,
      formName: "Support intake",
      fields: [
        { name: "full_name", label: "Full name", type: "text", required: true, options: [] },
        { name: "email", label: "Email", type: "email", required: true, options: [] },
        { name: "topic", label: "Topic", type: "select", required: false, options: ["Billing", "Bug"] },
        { name: "updates", label: "Send me updates", type: "checkbox", required: false, options: [] },
      ],
      values: { email: "user@example.com", updates: true },
      problems: {},
      general: [],
      allowPartial: true,
      partialSubmit: { name: "submit-as", value: "partial" },
      expiresAt: "2025-01-15T10:31:00.000Z",
    });
    expect(loaded.text).not.toContain("sess_internal_ref");
  });

  it("gives a refused post's problems as sentences beside the fields, with the person's values; then the thank-you view", async () => {
    const t = setup(asJson);
    const session = await intake(t);
    const refused = await t.page(session.id, "full_name=&email=nope&topic=Other&session_id=forged");
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text)).toMatchObject({
      page: "form",
      status: 400,
      values: { full_name: "", email: "nope", topic: "Other", updates: false },
      problems: { full_name: "This field is required.", email: "Must be an email address.", topic: 'Must be one of "Billing", "Bug".' },
      general: [],
    });
    const sent = await t.page(session.id, "full_name=Ada&submit-as=partial&email=");
    expect(JSON.parse(sent.text)).toEqual({
      page: "submitted",
      status: 200,
      sessionId: session.id,
      formId: session.form_id,
      formName: "Support intake",
      leftOut: [{ name: "email", label: "Email", type: "email", required: true, options: [] }],
    });
    expect(JSON.parse((await t.page(session.id, "full_name=Grace")).text)).toMatchObject({ page: "already_submitted", status: 409 });
  });

  it("draws the expired, not found, unsupported and error pages from their views, keeping the router's headers", async () => {
    const t = setup(asJson);
    const session = await intake(t);
    expect(JSON.parse((await t.page(`sess_${"0".repeat(32)}`)).text)).toEqual({ page: "not_found", status: 404 });
    const tooLarge = await t.page(session.id, `full_name=${"x".repeat(3000)}`);
    expect([tooLarge.status, JSON.parse(tooLarge.text)]).toEqual([
      413,
      { page: "error", status: 413, message: "the request body must be at most 2000 bytes" },
    ]);
    t.clock.now += 61_000;
    expect(JSON.parse((await t.page(session.id)).text)).toMatchObject({ page: "expired", status: 410, expiresAt: "2025-01-15T10:31:00.000Z" });
    // Past the per-address limit: the error view, answered with the limiter's headers.
    let limited: Awaited<ReturnType<typeof t.page>> | undefined;
    for (let i = 0; i < 10 && limited?.status !== 429; i++) limited = await t.page(session.id, undefined, "203.0.113.7");
    expect(limited!.status).toBe(429);
    expect(JSON.parse(limited!.text)).toMatchObject({ page: "error", status: 429 });
    expect(limited!.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("draws the review page from its views: the action, its editable arguments and the names the form posts; then the outcome", async () => {
    const t = setup(asJson);
    const thread = await t.api("/api/v1/threads", {});
    const proposed = await t.api(`/api/v1/sessions/${thread.thread_id}/actions`, {
      tool: "transfer",
      preview: { summary: "Pay Ana" },
      args: { to: "ana", amount: 120 },
      args_schema: { type: "object", properties: { to: { type: "string" }, amount: { type: "number", maximum: 1000 } }, required: ["to"] },
    });
    const token = proposed.review_url.split("/r/")[1];
    const review = (form?: string) => t.page(`/r/${token}`, form);
    const loaded = await review();
    expect(loaded.status).toBe(200);
    expect(loaded.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const view = JSON.parse(loaded.text);
    expect(view).toEqual({
      page: "review",
      status: 200,
      threadId: thread.thread_id,
      actionId: proposed.action_id,
      tool: "transfer",
      preview: { summary: "Pay Ana" },
      args: { to: "ana", amount: 120 },
      argsChanged: false,
      originalArgs: { to: "ana", amount: 120 },
      actionStatus: "pending",
      expiresAt: "2025-01-15T10:40:00.000Z",
      onExpire: "cancel",
      approver: null,
      approvers: [],
      approvalsRequired: 1,
      approvals: [],
      decidedAt: null,
      decidedBy: null,
      decidedVia: null,
      reason: null,
      cancelReason: null,
      fields: [
        { name: "to", input: "args.to", label: "To", description: null, type: "text", required: true, options: [] },
        { name: "amount", input: "args.amount", label: "Amount", description: null, type: "number", required: false, options: [] },
      ],
      values: { "args.to": "ana", "args.amount": "120", reason: "" },
      problems: {},
      general: [],
      form: {
        decision: { name: "decision", approve: "approve", deny: "deny" },
        reason: { name: "reason", maxLength: 1000 },
        seen: { name: "seen", value: expect.stringMatching(/^[0-9a-f]{64}$/) },
      },
    });
    const refused = await review("decision=approve&args.to=ana&args.amount=5000");
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text)).toMatchObject({
      page: "review",
      status: 400,
      values: { "args.amount": "5000" },
      problems: { "args.amount": "5000 is greater than 1000." },
    });
    const approved = await review("decision=approve&args.to=bo&args.amount=120");
    expect(JSON.parse(approved.text)).toMatchObject({
      page: "review_decided",
      status: 200,
      actionStatus: "processing",
      args: { to: "bo", amount: 120 },
      argsChanged: true,
      originalArgs: { to: "ana", amount: 120 },
      decidedBy: "link",
      decidedVia: "link",
      decidedAt: "2025-01-15T10:30:00.000Z",
    });
    expect(JSON.parse((await review("decision=deny")).text)).toMatchObject({
      page: "review_refused",
      status: 409,
      message: "This action was already decided, so your answer was not recorded.",
    });
    expect(JSON.parse((await t.page(`/r/${token}x`)).text)).toEqual({ page: "review_not_found", status: 404 });
  });

  it("sends a Response the renderer builds as it is, and falls back to the default page for the views it leaves", async () => {
    const seen: HostedView["page"][] = [];
    const t = setup(async (view) => {
      seen.push(view.page);
      if (view.page !== "form") return renderHostedPage(view);
      return new Response(`<!doctype html><h1>${view.formName}</h1>`, {
        status: view.status,
        headers: { "content-type": "text/html", "x-mine": "1" },
      });
    });
    const session = await intake(t);
    const mine = await t.page(session.id);
    expect([mine.status, mine.text, mine.headers.get("x-mine")]).toEqual([200, "<!doctype html><h1>Support intake</h1>", "1"]);
    const fallback = await t.page(session.id, "full_name=Ada&email=ada%40example.com");
    expect(fallback.status).toBe(200);
    expect(fallback.text).toContain("<h1>Thank you</h1>");
    expect(fallback.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(seen).toEqual(["form", "submitted"]);
  });
});
