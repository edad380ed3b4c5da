import { createEngine, type Engine, type PendingAction, type Store, VersionConflictError } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openTestDatabase } from "../../sql/test/servers.js";

/** SQL stores for the concurrent posts, each in a fresh database of its own (skipped, loudly, when a server is unreachable outside CI). */
const DATABASES = { sqlite: await openTestDatabase("sqlite"), postgres: await openTestDatabase("postgres") };

const KEY = "review_page_key";
const ORG = "org_00000000000000000000000000000001";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);
const FORM_ENCODED = "application/x-www-form-urlencoded";

/** A flat schema: every kind of input the review form draws. */
const TRANSFER_SCHEMA = {
  type: "object",
  properties: {
    to: { type: "string", title: "Recipient", minLength: 1 },
    amount: { type: "number", maximum: 1000, description: "In euros" },
    installments: { type: "integer", minimum: 1 },
    urgent: { type: "boolean" },
    currency: { enum: ["EUR", "USD"] },
    memo: { type: "string" },
  },
  required: ["to", "amount"],
  additionalProperties: false,
};
const TRANSFER_ARGS = { to: "ana@example.com", amount: 120, installments: 1, urgent: false, currency: "EUR" };

interface Setup {
  store?: Store;
  /** More engines sharing the store, each behind a router of its own (requests go round-robin). */
  instances?: number;
  engineFor?: (engine: Engine) => Engine;
}

function setup({ store = new MemoryStore(), instances = 1, engineFor = (engine) => engine }: Setup = {}) {
  const clock = { now: T0 };
  const runs: { tool: string; args: unknown }[] = [];
  const executor = (action: PendingAction) => {
    runs.push({ tool: action.tool, args: action.args });
    return { ok: true };
  };
  const engines = Array.from({ length: instances }, () =>
    createEngine({ store, clock: () => clock.now, actions: { transfer: executor, send_email: executor, lookup: executor } }),
  );
  const errors: unknown[] = [];
  const routers = engines.map((engine) =>
    createRouter({
      engine: engineFor(engine),
      apiKeys: [{ orgId: ORG, key: KEY }],
      publicUrl: "https://review.example.com",
      onError: (error) => errors.push(error),
    }),
  );
  const router = routers[0]!;
  const engine = engines[0]!;

  async function api(method: string, path: string, body?: unknown): Promise<any> {
    const response = await router.fetch(
      new Request(`http://localhost${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** Proposes an action on a new thread; answers the proposal (with `review_url`) and the thread's id. */
  async function propose(body: Record<string, unknown>) {
    const thread = await api("POST", "/api/v1/threads", {});
    const proposed = await api("POST", `/api/v1/sessions/${thread.thread_id}/actions`, body);
    return { ...proposed, thread_id: thread.thread_id as string };
  }

  /** Loads a review URL (no API key), or posts `form` to it form-encoded, through router `via`. */
  async function page(url: string, form?: Record<string, string> | string, options: { contentType?: string; via?: number } = {}) {
    const init: RequestInit =
      form === undefined
        ? {}
        : {
            method: "POST",
            headers: { "content-type": options.contentType ?? FORM_ENCODED },
            body: typeof form === "string" ? form : new URLSearchParams(form).toString(),
          };
    const response = await routers[(options.via ?? 0) % routers.length]!.fetch(new Request(url, init));
    return { status: response.status, headers: response.headers, html: await response.text() };
  }

  /** Posts the page's own form back: what its inputs hold (`seen` included), with `changes` and the decision. */
  async function decide(url: string, decision: "approve" | "deny", changes: Record<string, string | null> = {}) {
    const loaded = await page(url);
    const form = formOf(loaded.html);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) delete form[name];
      else form[name] = value;
    }
    return page(url, { ...form, decision });
  }

  const action = (proposed: { thread_id: string; action_id: string }) =>
    api("GET", `/api/v1/sessions/${proposed.thread_id}/actions/${proposed.action_id}`);
  const events = async (threadId: string, type?: string) =>
    (await engine.timeline(ORG, threadId)).filter((event) => type === undefined || event.type === type);
  return { engine, engines, router, routers, clock, errors, runs, api, propose, page, decide, action, events };
}

/** What a browser would post for the page's form as loaded: each input's value, ticked checkboxes, selected options. */
function formOf(html: string): Record<string, string> {
  const form: Record<string, string> = {};
  const unescapeHtml = (text: string) =>
    text
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  for (const [tag] of html.matchAll(/<input [^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1] ?? "";
    if (!name) continue;
    if (tag.includes('type="checkbox"') && !/ checked/.test(tag)) continue;
    form[unescapeHtml(name)] = unescapeHtml(value);
  }
  for (const [, name, options] of html.matchAll(/<select [^>]*name="([^"]*)"[^>]*>([\s\S]*?)<\/select>/g)) {
    form[unescapeHtml(name!)] = unescapeHtml(/<option value="([^"]*)" selected>/.exec(options!)?.[1] ?? "");
  }
  for (const [, name, text] of html.matchAll(/<textarea [^>]*name="([^"]*)"[^>]*>\n([\s\S]*?)<\/textarea>/g))
    form[unescapeHtml(name!)] = unescapeHtml(text!);
  return form;
}

/** The opening tag of the control named `name`. */
function control(html: string, name: string): string {
  const match = new RegExp(`<(input|select|textarea)[^>]* name="${name.replace(/\./g, "\\.")}"[^>]*>`).exec(html);
  if (!match) throw new Error(`no control ${name} on the page`);
  return match[0];
}

/** The block of the field whose control is named `name`: its label, input, hint and error. */
function fieldBlock(html: string, name: string): string {
  const blocks = html.match(/<div class="field[^"]*">[\s\S]*?<\/div>/g) ?? [];
  const block = blocks.find((candidate) => candidate.includes(` name="${name}"`));
  if (!block) throw new Error(`no field ${name} on the page`);
  return block;
}

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}

let t: ReturnType<typeof setup>;
beforeEach(() => {
  t = setup();
});
afterEach(() => {
  expect(t.errors).toEqual([]);
});

describe("GET /r/:token", () => {
  it("shows the action and decides nothing, however often it is loaded", async () => {
    const proposed = await t.propose({
      tool: "transfer",
      preview: { summary: "Pay Ana 120 EUR" },
      args: TRANSFER_ARGS,
      args_schema: TRANSFER_SCHEMA,
    });
    expect(proposed.review_url).toMatch(/^https:\/\/review\.example\.com\/r\/thread_[0-9a-f]{32}\.act_[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
    for (let i = 0; i < 3; i++) {
      const loaded = await t.page(proposed.review_url);
      expect(loaded.status).toBe(200);
      expect(loaded.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(loaded.html).toContain("<h1>Review “transfer”</h1>");
      expect(loaded.html).toContain("<dt>summary</dt><dd>Pay Ana 120 EUR</dd>");
      expect(loaded.html).toContain('<button type="submit" name="decision" value="approve">Approve</button>');
      expect(loaded.html).toContain('<button type="submit" class="secondary" name="decision" value="deny" formnovalidate>Deny</button>');
      expect(control(loaded.html, "reason")).toBe('<textarea id="reason" name="reason" rows="3" maxlength="1000">');
      expect(loaded.html).toContain("This link decides until 15 Jan 2025, 10:40 UTC.");
    }
    expect(await t.action(proposed)).toMatchObject({ status: "pending", decided_at: null, decided_by: null, approvals: [] });
    expect((await t.events(proposed.thread_id)).map((event) => event.type)).toEqual(["session.created", "action.proposed"]);
  });

  it("draws a flat args_schema as a form: text, number, whole number, checkbox and select inputs named args.<name>, required marked", async () => {
    const proposed = await t.propose({ tool: "transfer", preview: {}, args: { ...TRANSFER_ARGS, urgent: true }, args_schema: TRANSFER_SCHEMA });
    const { html } = await t.page(proposed.review_url);
    expect(control(html, "args.to")).toBe('<input type="text" id="arg-0" name="args.to" value="ana@example.com" required>');
    expect(fieldBlock(html, "args.to")).toContain('<label for="arg-0">Recipient<span class="req" aria-hidden="true">*</span></label>');
    expect(control(html, "args.amount")).toBe(
      '<input type="number" id="arg-1" name="args.amount" value="120" step="any" inputmode="decimal" required>',
    );
    expect(fieldBlock(html, "args.amount")).toContain('<p class="hint">In euros</p>');
    expect(control(html, "args.installments")).toBe(
      '<input type="number" id="arg-2" name="args.installments" value="1" step="1" inputmode="numeric">',
    );
    expect(fieldBlock(html, "args.installments")).toContain('<label for="arg-2">Installments</label>');
    expect(control(html, "args.urgent")).toBe('<input type="checkbox" id="arg-3" name="args.urgent" value="true" checked>');
    expect(control(html, "args.currency")).toBe('<select id="arg-4" name="args.currency">');
    expect(fieldBlock(html, "args.currency")).toContain('<option value="EUR" selected>EUR</option>');
    expect(control(html, "args.memo")).toBe('<input type="text" id="arg-5" name="args.memo" value="">');
    expect(html).not.toContain("<pre>{");
  });

  it("shows arguments read-only as JSON where args_schema is not a flat object, and without one", async () => {
    const nested = await t.propose({
      tool: "send_email",
      preview: { to: "ana@example.com" },
      args: { to: ["ana@example.com"], body: { text: "Hi" } },
      args_schema: { type: "object", properties: { to: { type: "array", items: { type: "string" } }, body: { type: "object" } } },
    });
    const schemaless = await t.propose({ tool: "send_email", preview: {}, args: { to: "ana@example.com" } });
    const bare = await t.propose({ tool: "lookup", preview: { q: "x" } });
    for (const [proposed, shown] of [
      [nested, '"to": [\n    "ana@example.com"\n  ]'],
      [schemaless, '"to": "ana@example.com"'],
    ] as const) {
      const { html } = await t.page(proposed.review_url);
      expect(html).toContain(shown.replace(/"/g, "&quot;"));
      expect(html).not.toMatch(/name="args\./);
      expect(html).toContain("These arguments cannot be edited here; approving runs them as shown.");
    }
    expect((await t.page(bare.review_url)).html).toContain("This action has no arguments.");
  });

  it("answers 404 for an unknown, malformed or forged token, on GET and POST", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const other = await t.propose({ tool: "lookup", preview: {} });
    const token = proposed.review_url.split("/r/")[1] as string;
    const [threadId, actionId, secret] = token.split(".") as [string, string, string];
    const otherSecret = other.review_url.split(".").at(-1) as string;
    const flipped = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    for (const forged of [
      `${threadId}.${actionId}.${flipped}`,
      `${threadId}.${actionId}.${otherSecret}`,
      `${threadId}.act_${"0".repeat(32)}.${secret}`,
      `thread_${"0".repeat(32)}.${actionId}.${secret}`,
      "nonsense",
      "<script>alert(1)</script>",
    ]) {
      const url = `https://review.example.com/r/${encodeURIComponent(forged)}`;
      const loaded = await t.page(url);
      expect(loaded.status, forged).toBe(404);
      expect(loaded.html).toContain("<h1>Review link not found</h1>");
      expect(loaded.html).not.toContain("<script>");
      expect(loaded.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect((await t.page(url, { decision: "approve" })).status).toBe(404);
    }
    expect((await t.action(proposed)).status).toBe("pending");
  });

  it("sends the form page's headers: the same strict CSP (with the stylesheet's hash), no-store, noindex, nosniff, no referrer", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const review = await t.page(proposed.review_url);
    const form = await t.api("POST", "/v1/forms", { name: "F", fields: [{ name: "a", type: "text" }] });
    const session = await t.api("POST", `/v1/forms/${form.id}/sessions`, {});
    const formPage = await t.router.fetch(new Request(`http://localhost/f/${session.id}`));
    const headersOf = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => name !== "content-length"));
    expect(headersOf(review.headers)).toEqual(headersOf(formPage.headers));
    const style = /<style>([\s\S]*?)<\/style>/.exec(review.html)![1]!;
    expect(review.headers.get("content-security-policy")).toBe(
      `default-src 'none'; style-src 'sha256-${await sha256Base64(style)}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(review.headers.get("cache-control")).toBe("no-store");
    expect(review.headers.get("x-robots-tag")).toBe("noindex, nofollow");
    expect(review.headers.get("x-content-type-options")).toBe("nosniff");
    expect(review.headers.get("referrer-policy")).toBe("no-referrer");
    expect(review.headers.get("x-frame-options")).toBe("DENY");
    expect(review.html).not.toMatch(/<script|<link|<img|\sstyle=|\son[a-z]+=/i);
  });
});

describe("POST /r/:token", () => {
  it("approves: the action moves to processing, decided on the link, and its executor runs once with the arguments as proposed", async () => {
    const proposed = await t.propose({ tool: "transfer", preview: {}, args: TRANSFER_ARGS, args_schema: TRANSFER_SCHEMA });
    const answer = await t.decide(proposed.review_url, "approve");
    expect(answer.status).toBe(200);
    expect(answer.html).toContain("<h1>Approved: transfer</h1>");
    expect(answer.html).toContain("It was approved on its review link on 15 Jan 2025, 10:30 UTC. It is being run now.");
    expect(answer.html).not.toContain("<form");
    expect(await t.action(proposed)).toMatchObject({
      status: "processing",
      decided_via: "link",
      decided_by: "link",
      args: TRANSFER_ARGS,
      args_changed: false,
    });
    await t.engine.tick();
    await t.engine.tick();
    expect(t.runs).toEqual([{ tool: "transfer", args: TRANSFER_ARGS }]);
    expect((await t.action(proposed)).status).toBe("succeeded");
    const shown = await t.page(proposed.review_url);
    expect(shown.status).toBe(200);
    expect(shown.html).toContain("It has run.");
  });

  it("approves with edited fields: coerced by their schema type, original_args kept", async () => {
    const proposed = await t.propose({ tool: "transfer", preview: {}, args: TRANSFER_ARGS, args_schema: TRANSFER_SCHEMA });
    const answer = await t.decide(proposed.review_url, "approve", {
      "args.amount": "99.5",
      "args.installments": "3",
      "args.urgent": "true",
      "args.currency": "USD",
      "args.memo": "rent",
    });
    expect(answer.status).toBe(200);
    const edited = { to: "ana@example.com", amount: 99.5, installments: 3, urgent: true, currency: "USD", memo: "rent" };
    expect(await t.action(proposed)).toMatchObject({ status: "processing", args: edited, original_args: TRANSFER_ARGS, args_changed: true });
    expect(answer.html).toContain("Changed by a reviewer; as proposed");
    const [confirmed] = await t.events(proposed.thread_id, "action.confirmed");
    expect(confirmed?.payload).toMatchObject({ decided_via: "link", decided_by: "link", args_changed: true });
  });

  it("unticks a checkbox and clears an optional field", async () => {
    const proposed = await t.propose({
      tool: "transfer",
      preview: {},
      args: { ...TRANSFER_ARGS, urgent: true, memo: "x" },
      args_schema: TRANSFER_SCHEMA,
    });
    expect((await t.decide(proposed.review_url, "approve", { "args.urgent": null, "args.memo": "" })).status).toBe(200);
    const { args } = await t.action(proposed);
    expect(args).toEqual({ ...TRANSFER_ARGS, urgent: false });
  });

  it("denies with a reason: the action is cancelled with it, and the page shows it", async () => {
    const proposed = await t.propose({ tool: "transfer", preview: {}, args: TRANSFER_ARGS, args_schema: TRANSFER_SCHEMA });
    const answer = await t.decide(proposed.review_url, "deny", { reason: "  Wrong account, use the savings one.  ", "args.amount": "5000" });
    expect(answer.status).toBe(200);
    expect(answer.html).toContain("<h1>Denied: transfer</h1>");
    expect(answer.html).toContain('<blockquote class="reason">Wrong account, use the savings one.</blockquote>');
    expect(await t.action(proposed)).toMatchObject({
      status: "cancelled",
      cancel_reason: "person",
      reason: "Wrong account, use the savings one.",
      decided_via: "link",
      decided_by: "link",
      args: TRANSFER_ARGS,
      args_changed: false,
    });
    await t.engine.tick();
    expect(t.runs).toEqual([]);
  });

  it("denies without a reason when the reason is left empty", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    expect((await t.page(proposed.review_url, { decision: "deny", reason: "   " })).status).toBe(200);
    expect(await t.action(proposed)).toMatchObject({ status: "cancelled", reason: null, decided_by: "link" });
  });

  it("answers a second post with 409 and decides nothing again; the link then shows the outcome", async () => {
    const approved = await t.propose({ tool: "lookup", preview: {} });
    const denied = await t.propose({ tool: "lookup", preview: {} });
    expect((await t.page(approved.review_url, { decision: "approve" })).status).toBe(200);
    expect((await t.page(denied.review_url, { decision: "deny", reason: "no" })).status).toBe(200);
    for (const [proposed, second] of [
      [approved, "deny"],
      [approved, "approve"],
      [denied, "approve"],
    ] as const) {
      const answer = await t.page(proposed.review_url, { decision: second });
      expect(answer.status).toBe(409);
      expect(answer.html).toContain("This action was already decided, so your answer was not recorded.");
      expect(answer.html).not.toContain("<form");
    }
    expect(await t.action(approved)).toMatchObject({ status: "processing" });
    expect(await t.action(denied)).toMatchObject({ status: "cancelled", reason: "no" });
    expect(await t.events(approved.thread_id, "action.confirmed")).toHaveLength(1);
    const shown = await t.page(denied.review_url);
    expect(shown.status).toBe(200);
    expect(shown.html).toContain("It was denied on its review link on 15 Jan 2025, 10:30 UTC. Nothing was run.");
  });

  it("shows a decision made over the API, and refuses the link's post with 409", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    await t.api("POST", `/api/v1/sessions/${proposed.thread_id}/actions/${proposed.action_id}`, { confirmed: false, reason: "changed my mind" });
    const shown = await t.page(proposed.review_url);
    expect(shown.status).toBe(200);
    expect(shown.html).toContain("It was denied on 15 Jan 2025, 10:30 UTC.");
    expect(shown.html).toContain("changed my mind");
    expect((await t.page(proposed.review_url, { decision: "approve" })).status).toBe(409);
  });

  it("answers 410 on GET and POST once the deadline passed, for on_expire cancel and deny", async () => {
    const cancelled = await t.propose({ tool: "lookup", preview: {}, expires_in: 60 });
    const denied = await t.propose({ tool: "lookup", preview: {}, expires_in: 60, on_expire: "deny" });
    t.clock.now += 60_000;
    for (const [proposed, word] of [
      [cancelled, "cancelled"],
      [denied, "denied"],
    ] as const) {
      const loaded = await t.page(proposed.review_url);
      expect(loaded.status).toBe(410);
      expect(loaded.html).toContain("<h1>This review link has expired</h1>");
      expect(loaded.html).toContain(`Nobody decided on <strong>lookup</strong> before 15 Jan 2025, 10:31 UTC, so it was ${word}.`);
      expect(loaded.html).not.toContain("<form");
      const posted = await t.page(proposed.review_url, { decision: "approve" });
      expect(posted.status).toBe(410);
      expect(posted.html).toContain("<h1>This review link has expired</h1>");
      expect(await t.action(proposed)).toMatchObject({ status: "cancelled", decided_via: "expiry" });
    }
    await t.engine.tick();
    expect(t.runs).toEqual([]);
  });

  it("answers 410 when the deadline passes between the page's load and its post", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {}, expires_in: 60 });
    const form = formOf((await t.page(proposed.review_url)).html);
    t.clock.now += 61_000;
    expect((await t.page(proposed.review_url, { ...form, decision: "approve" })).status).toBe(410);
  });

  it("sends the form back with 400 when an edit breaks args_schema, the problem beside its field, the action still pending", async () => {
    const proposed = await t.propose({ tool: "transfer", preview: {}, args: TRANSFER_ARGS, args_schema: TRANSFER_SCHEMA });
    const answer = await t.decide(proposed.review_url, "approve", { "args.amount": "5000", "args.memo": "keep me", reason: "why not" });
    expect(answer.status).toBe(400);
    const block = fieldBlock(answer.html, "args.amount");
    expect(block).toContain('class="field invalid"');
    expect(block).toMatch(/<p class="error" id="arg-1-error">[^<]*1000[^<]*<\/p>/);
    expect(control(answer.html, "args.amount")).toContain('value="5000"');
    expect(control(answer.html, "args.amount")).toContain('aria-describedby="arg-1-error"');
    expect(control(answer.html, "args.memo")).toContain('value="keep me"');
    expect(answer.html).toContain("why not</textarea>");
    expect(answer.html).toContain('<a href="#arg-1">Amount:');
    expect(await t.action(proposed)).toMatchObject({ status: "pending", args: TRANSFER_ARGS, args_changed: false });
    // The person fixes it and approves.
    expect((await t.decide(proposed.review_url, "approve", { "args.amount": "999" })).status).toBe(200);
    expect(await t.action(proposed)).toMatchObject({ status: "processing", args: { ...TRANSFER_ARGS, amount: 999 } });
  });

  it("refuses an input its type cannot read with 400 before asking the engine", async () => {
    const proposed = await t.propose({ tool: "transfer", preview: {}, args: TRANSFER_ARGS, args_schema: TRANSFER_SCHEMA });
    const answer = await t.decide(proposed.review_url, "approve", {
      "args.amount": "",
      "args.installments": "1.5",
      "args.currency": "GBP",
      "args.to": "",
    });
    expect(answer.status).toBe(400);
    expect(fieldBlock(answer.html, "args.amount")).toContain("This field is required.");
    expect(fieldBlock(answer.html, "args.installments")).toContain("Must be a whole number.");
    expect(fieldBlock(answer.html, "args.currency")).toContain("Choose one of the options.");
    expect((await t.action(proposed)).status).toBe("pending");
    const nan = await t.decide(proposed.review_url, "approve", { "args.amount": "lots" });
    expect(fieldBlock(nan.html, "args.amount")).toContain("Must be a number.");
    // An emptied required text goes to the schema, which asks for at least one character.
    const empty = await t.decide(proposed.review_url, "approve", { "args.to": "" });
    expect(empty.status).toBe(400);
    expect(fieldBlock(empty.html, "args.to")).toContain('<p class="error"');
  });

  it("puts a reason over the limit beside the reason", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const answer = await t.page(proposed.review_url, { decision: "deny", reason: "x".repeat(1001) });
    expect(answer.status).toBe(400);
    expect(fieldBlock(answer.html, "reason")).toContain('<p class="error" id="reason-error">');
    expect((await t.action(proposed)).status).toBe("pending");
  });

  it("asks for Approve or Deny when the post names neither", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    for (const form of [{}, { decision: "maybe" }] as Record<string, string>[]) {
      const answer = await t.page(proposed.review_url, form);
      expect(answer.status).toBe(400);
      expect(answer.html).toContain("<li>Choose Approve or Deny.</li>");
    }
    expect((await t.action(proposed)).status).toBe("pending");
  });

  it("refuses a body that is not form-encoded with 415, deciding nothing", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const answer = await t.page(proposed.review_url, "decision=approve", { contentType: "text/plain" });
    expect(answer.status).toBe(415);
    expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(answer.html).toContain(`this page can only be sent as ${FORM_ENCODED}`.replace(/^t/, "T"));
    expect((await t.action(proposed)).status).toBe("pending");
  });

  it("takes a program's decision as JSON, answered as the API answers: the action, or its error body", async () => {
    const proposed = await t.propose({ tool: "transfer", preview: {}, args: TRANSFER_ARGS, args_schema: TRANSFER_SCHEMA });
    const post = (body: unknown, url = proposed.review_url) => t.page(url, JSON.stringify(body), { contentType: "application/json" });
    const refused = await post({ decision: "approve", args: { ...TRANSFER_ARGS, amount: "lots" } });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.html).message).toContain("args.amount");
    expect((await post({ decision: "maybe" })).status).toBe(400);
    expect((await post({ decision: "approve", extra: 1 })).status).toBe(400);
    const approved = await post({ confirmed: true });
    expect(approved.status).toBe(200);
    expect(JSON.parse(approved.html)).toMatchObject({ status: "processing", decided_via: "link", decided_by: "link" });
    const again = await post({ decision: "deny", reason: "too late" });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.html)).toMatchObject({ error: "Conflict" });
    expect((await post({ decision: "approve" }, `${proposed.review_url.slice(0, -4)}AAAA`)).status).toBe(404);
    const late = await t.propose({ tool: "lookup", preview: {}, expires_in: 60 });
    t.clock.now += 61_000;
    expect((await post({ decision: "approve" }, late.review_url)).status).toBe(410);
  });

  it("answers in JSON what the router refuses before the route runs when the decision is JSON (a body over the limit, a 429)", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const engine = t.engine;
    const limited = createRouter({
      engine,
      apiKeys: [{ orgId: ORG, key: KEY }],
      publicUrl: "https://review.example.com",
      maxBodyBytes: 64,
      rateLimit: { anonymous: { limit: 1, windowSeconds: 60 } },
      clientAddress: () => "203.0.113.9",
    });
    const send = (body: string, contentType: string) =>
      limited.fetch(new Request(proposed.review_url, { method: "POST", headers: { "content-type": contentType }, body }));
    const tooLarge = await send(JSON.stringify({ decision: "deny", reason: "x".repeat(200) }), "application/json; charset=utf-16");
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("content-type")).toContain("application/json");
    expect(await tooLarge.json()).toMatchObject({ error: "Payload too large" });
    let limitedAnswer = await send("a=%ZZ", "application/json");
    for (let tries = 0; limitedAnswer.status !== 429 && tries < 5; tries++) limitedAnswer = await send("a=%ZZ", "application/json");
    expect(limitedAnswer.status).toBe(429);
    expect(limitedAnswer.headers.get("content-type")).toContain("application/json");
    // A person's form post past the same limit still gets the page.
    const page = await send("decision=deny", FORM_ENCODED);
    expect(page.status).toBe(429);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect((await t.action(proposed)).status).toBe("pending");
  });

  it("escapes every value it shows: preview, arguments, approver names and reasons", async () => {
    const hostile = `"><script>alert(1)</script>`;
    const proposed = await t.propose({
      tool: "transfer",
      preview: { [hostile]: hostile, nested: { note: hostile } },
      args: { ...TRANSFER_ARGS, to: hostile, memo: hostile },
      args_schema: {
        ...TRANSFER_SCHEMA,
        properties: { ...TRANSFER_SCHEMA.properties, to: { type: "string", title: hostile, description: hostile } },
      },
      approvers: [`${hostile}@example.com`, "bo@example.com"],
    });
    const link = proposed.review_urls[`${hostile}@example.com`];
    const escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;";
    const loaded = await t.page(link);
    expect(loaded.status).toBe(200);
    expect(loaded.html).not.toMatch(/<script/i);
    expect(loaded.html).toContain(`<dt>${escaped}</dt><dd>${escaped}</dd>`);
    expect(loaded.html).toContain(`This link is for <strong>${escaped}@example.com</strong>`);
    expect(control(loaded.html, "args.to")).toContain(`value="${escaped}"`);
    expect(loaded.html).toContain(`<p class="hint">${escaped}</p>`);
    const denied = await t.decide(link, "deny", { reason: hostile });
    expect(denied.status).toBe(200);
    expect(denied.html).not.toMatch(/<script/i);
    expect(denied.html).toContain(`<blockquote class="reason">${escaped}</blockquote>`);
    expect(denied.html).toContain(`It was denied by <strong>${escaped}@example.com</strong>`);
    expect(await t.action(proposed)).toMatchObject({ status: "cancelled", reason: hostile, decided_by: `${hostile}@example.com` });
  });
});

describe("approvers with a quorum", () => {
  it("counts approvals on each approver's own link; the last one needed confirms once, and the executor runs once", async () => {
    const proposed = await t.propose({
      tool: "transfer",
      preview: { summary: "Pay Ana" },
      args: TRANSFER_ARGS,
      args_schema: TRANSFER_SCHEMA,
      approvers: ["ana@example.com", "bo@example.com", "cy@example.com"],
      approvals_required: 2,
    });
    const links = proposed.review_urls as Record<string, string>;
    expect(Object.keys(links)).toEqual(["ana@example.com", "bo@example.com", "cy@example.com"]);
    expect(new Set([proposed.review_url, ...Object.values(links)]).size).toBe(4);

    const ana = await t.page(links["ana@example.com"]!);
    expect(ana.html).toContain("This link is for <strong>ana@example.com</strong>");
    expect(ana.html).toContain("Approvals: 0 of 2 needed.");

    const first = await t.decide(links["ana@example.com"]!, "approve");
    expect(first.status).toBe(200);
    expect(first.html).toContain("You approved it on 15 Jan 2025, 10:30 UTC.");
    expect(first.html).toContain("Approvals: 1 of 2 needed.");
    expect(first.html).not.toContain("<form");
    expect(await t.action(proposed)).toMatchObject({ status: "pending", approvals: [{ approver: "ana@example.com" }] });
    const approvedBy = await t.events(proposed.thread_id, "action.approved_by");
    expect(approvedBy.map((event) => event.payload)).toEqual([
      expect.objectContaining({ approver: "ana@example.com", approvals: 1, approvals_required: 2 }),
    ]);

    // Ana's link decided: it shows her approval and decides nothing again.
    const again = await t.page(links["ana@example.com"]!, { decision: "approve" });
    expect(again.status).toBe(409);
    expect(again.html).toContain("You already approved this action; your answer was not recorded again.");
    expect((await t.page(links["ana@example.com"]!)).status).toBe(200);
    // The others still see 1 of 2.
    expect((await t.page(links["bo@example.com"]!)).html).toContain("Approvals: 1 of 2 needed.");

    const second = await t.decide(links["bo@example.com"]!, "approve");
    expect(second.status).toBe(200);
    expect(second.html).toContain("It was approved by <strong>bo@example.com</strong>");
    expect(await t.action(proposed)).toMatchObject({ status: "processing", decided_via: "link", decided_by: "bo@example.com" });
    expect(await t.events(proposed.thread_id, "action.confirmed")).toHaveLength(1);
    expect(await t.events(proposed.thread_id, "action.approved_by")).toHaveLength(2);

    const late = await t.page(links["cy@example.com"]!, { decision: "approve" });
    expect(late.status).toBe(409);
    expect(late.html).toContain("This action was already decided");

    for (let i = 0; i < 3; i++) await t.engine.tick();
    expect(t.runs).toEqual([{ tool: "transfer", args: TRANSFER_ARGS }]);
  });

  it("shows the action's own link read-only when approvers decide, and refuses its post with 409", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: { q: "x" }, approvers: ["ana@example.com"] });
    const own = await t.page(proposed.review_url);
    expect(own.status).toBe(200);
    expect(own.html).toContain("Its approvers decide, each on a link of their own; this page only shows it.");
    expect(own.html).not.toContain("<form");
    expect(own.html).not.toContain("<button");
    for (const decision of ["approve", "deny"]) {
      const posted = await t.page(proposed.review_url, { decision });
      expect(posted.status).toBe(409);
      expect(posted.html).toContain("This link only shows the action: each approver decides on a link of their own.");
    }
    expect((await t.action(proposed)).status).toBe("pending");
  });

  it("lets one approver's denial cancel the action, with their name and reason", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {}, approvers: ["ana@example.com", "bo@example.com"], approvals_required: 2 });
    expect((await t.decide(proposed.review_urls["ana@example.com"], "approve")).status).toBe(200);
    expect((await t.decide(proposed.review_urls["bo@example.com"], "deny", { reason: "not today" })).status).toBe(200);
    expect(await t.action(proposed)).toMatchObject({ status: "cancelled", decided_by: "bo@example.com", reason: "not today" });
  });

  it("refuses an approval of arguments another approver changed since the page loaded (409), showing the new ones", async () => {
    const proposed = await t.propose({
      tool: "transfer",
      preview: {},
      args: TRANSFER_ARGS,
      args_schema: TRANSFER_SCHEMA,
      approvers: ["ana@example.com", "bo@example.com"],
      approvals_required: 2,
    });
    const boLink = proposed.review_urls["bo@example.com"];
    const boForm = formOf((await t.page(boLink)).html);
    expect((await t.decide(proposed.review_urls["ana@example.com"], "approve", { "args.amount": "80" })).status).toBe(200);
    const stale = await t.page(boLink, { ...boForm, decision: "approve", reason: "kept" });
    expect(stale.status).toBe(409);
    expect(stale.html).toContain("The arguments changed while this page was open");
    expect(control(stale.html, "args.amount")).toContain('value="80"');
    expect(stale.html).toContain("kept</textarea>");
    expect(await t.action(proposed)).toMatchObject({ status: "pending", approvals: [{ approver: "ana@example.com" }] });
    // Approving what the page now shows confirms the edited arguments.
    expect((await t.decide(boLink, "approve")).status).toBe(200);
    expect(await t.action(proposed)).toMatchObject({ status: "processing", args: { ...TRANSFER_ARGS, amount: 80 }, original_args: TRANSFER_ARGS });
  });
});

/** 50 posts at once on one review link: one decides, every other answers 409, one `action.confirmed`. */
async function fiftyAtOnce(t: ReturnType<typeof setup>) {
  const proposed = await t.propose({ tool: "transfer", preview: {}, args: TRANSFER_ARGS, args_schema: TRANSFER_SCHEMA });
  const form = formOf((await t.page(proposed.review_url)).html);
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, index) =>
      t.page(proposed.review_url, { ...form, decision: index % 2 === 0 ? "approve" : "deny" }, { via: index }),
    ),
  );
  const statuses = answers.map((answer) => answer.status);
  expect(statuses.filter((status) => status === 200)).toHaveLength(1);
  expect(statuses.filter((status) => status === 409)).toHaveLength(49);
  const decided = await t.events(proposed.thread_id);
  expect(decided.filter((event) => event.type === "action.confirmed" || event.type === "action.cancelled")).toHaveLength(1);
  const action = await t.action(proposed);
  expect(["processing", "cancelled"]).toContain(action.status);
  return { proposed, action, decided };
}

describe("50 concurrent posts on one review link", () => {
  it("decide once on the memory store", async () => {
    await fiftyAtOnce(t);
  });

  it("confirm once when every post approves, with one executor run", async () => {
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.page(proposed.review_url, { decision: "approve" })));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(49);
    expect(await t.events(proposed.thread_id, "action.confirmed")).toHaveLength(1);
    for (let i = 0; i < 3; i++) await t.engine.tick();
    expect(t.runs).toHaveLength(1);
  });

  for (const [dialect, database] of Object.entries(DATABASES)) {
    it.skipIf(database === null)(
      `decide once on ${dialect}, with three engines sharing the store`,
      async () => {
        t = setup({ store: await database!.store(), instances: 3 });
        const { action } = await fiftyAtOnce(t);
        if (action.status === "processing") {
          for (let i = 0; i < 3; i++) await t.engines[i % 3]!.tick();
          expect(t.runs).toHaveLength(1);
        }
      },
      60_000,
    );
  }
});

describe("review page failures", () => {
  it("answers a failure with a 500 page naming no internals, and reports the error", async () => {
    const refused = async (): Promise<never> => {
      throw new Error("connection to 10.0.0.5:5432 refused");
    };
    t = setup({ engineFor: (engine) => ({ ...engine, threads: { ...engine.threads, reviewOpen: refused, reviewDecide: refused } }) });
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const loaded = await t.page(proposed.review_url);
    const posted = await t.page(proposed.review_url, { decision: "approve" });
    for (const [answer, sentence] of [
      [loaded, "Failed to load the review page."],
      [posted, "Failed to record the decision."],
    ] as const) {
      expect(answer.status).toBe(500);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.html).toContain(sentence);
      expect(answer.html).not.toMatch(/10\.0\.0\.5|refused/);
    }
    expect(t.errors).toHaveLength(2);
    t.errors.length = 0;
  });

  it("shows 'busy, try again' (409) when the write kept losing to others, and the action stays pending", async () => {
    const busy = async (): Promise<never> => {
      throw new VersionConflictError("session changed concurrently too often; try again");
    };
    t = setup({ engineFor: (engine) => ({ ...engine, threads: { ...engine.threads, reviewDecide: busy } }) });
    const proposed = await t.propose({ tool: "lookup", preview: {} });
    const answer = await t.page(proposed.review_url, { decision: "deny", reason: "later" });
    expect(answer.status).toBe(409);
    expect(answer.html).toContain("The page was busy for a moment and your answer was not recorded. Please try again.");
    expect(answer.html).toContain("later</textarea>");
    expect((await t.action(proposed)).status).toBe("pending");
  });
});
