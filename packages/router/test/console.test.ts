import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter, type RouterOptions } from "@agent-sessions/router";
import { describe, expect, it } from "vitest";
import { ConsoleSessions, csrfMatches, readCookie } from "../src/console/sessions.js";
import { agentRun, workflowWithSteps } from "./console-seed.js";

/** The console's sign-in, cookie, CSRF and tenancy rules, through the router's fetch. */
const ORG = "org_console_a";
const OTHER = "org_console_b";
const KEY = "console-key-a-0123456789";
const OTHER_KEY = "console-key-b-0123456789";

function setup(options: Partial<RouterOptions> = {}) {
  const engine = options.engine ?? createEngine({ store: new MemoryStore() });
  const clock = { now: Date.UTC(2026, 0, 15, 10) };
  const router = createRouter({
    engine,
    apiKeys: [
      { orgId: ORG, key: KEY, label: "ops" },
      { orgId: OTHER, key: OTHER_KEY },
    ],
    console: { clock: () => clock.now },
    ...options,
  });
  const base = options.basePath ?? "";
  const origin = "http://localhost";
  const get = (path: string, cookie?: string) => router.fetch(new Request(`${origin}${base}${path}`, { headers: cookie ? { cookie } : {} }));
  const post = (path: string, form: Record<string, string>, cookie?: string, url = origin) =>
    router.fetch(
      new Request(`${url}${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
        body: new URLSearchParams(form).toString(),
      }),
    );
  /** Signs in with `key`: the session cookie and the page's CSRF token. */
  async function signIn(key = KEY, url = origin) {
    const form = await router.fetch(new Request(`${url}${base}/console/login`));
    const loginCookie = form.headers.get("set-cookie")!.split(";")[0]!;
    const token = /name="login_token" value="([^"]+)"/.exec(await form.text())![1]!;
    const answer = await post("/console/login", { login_token: token, api_key: key }, loginCookie, url);
    const cookies = answer.headers.getSetCookie();
    const session = cookies.find((value) => value.startsWith("as_console="))!;
    const cookie = session.split(";")[0]!;
    const page = await (await get("/console", cookie)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    return { answer, session, cookie, csrf, page };
  }
  return { engine, router, clock, get, post, signIn };
}

describe("console sign-in", () => {
  it("sends a visitor without a session to the sign-in form, which sets a login token cookie", async () => {
    const { get } = setup();
    const answer = await get("/console");
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/console/login");
    const form = await get("/console/login");
    expect(form.status).toBe(200);
    expect(form.headers.get("set-cookie")).toMatch(/^as_console_login=[\w-]+; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=600$/);
    expect(form.headers.get("content-security-policy")).toMatch(/default-src 'none'; style-src 'sha256-[^']+'; script-src 'nonce-[\w-]+'/);
    expect(await form.text()).toContain('<label for="api-key">API key</label>');
  });

  it("exchanges a valid key for an HttpOnly, SameSite=Strict session cookie holding a random id, not the key", async () => {
    const { signIn } = setup();
    const { answer, session, page } = await signIn();
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/console");
    expect(session).toMatch(/^as_console=[\w-]{43}; Path=\/console; HttpOnly; SameSite=Strict$/);
    expect(session).not.toContain(KEY);
    expect(page).toContain(`Signed in to <strong>${ORG}</strong>`);
    const again = await signIn();
    expect(again.cookie).not.toBe((await signIn()).cookie);
  });

  it("marks the cookie Secure over https", async () => {
    const { signIn } = setup({ allowedHosts: ["localhost"] });
    const { session } = await signIn(KEY, "https://localhost");
    expect(session).toMatch(/; Secure$/);
  });

  it("refuses a wrong key (401), a sign-in post without its login token (403), and limits failed attempts per address", async () => {
    const { router, post, get } = setup({
      rateLimit: { authFailures: { limit: 2, windowSeconds: 60 } },
      clientAddress: () => "203.0.113.9",
    });
    const form = await get("/console/login");
    const loginCookie = form.headers.get("set-cookie")!.split(";")[0]!;
    const token = /name="login_token" value="([^"]+)"/.exec(await form.text())![1]!;
    expect((await post("/console/login", { api_key: KEY }, loginCookie)).status).toBe(403);
    expect((await post("/console/login", { login_token: token, api_key: KEY })).status).toBe(403);
    expect((await post("/console/login", { login_token: token, api_key: "wrong" }, loginCookie)).status).toBe(401);
    expect((await post("/console/login", { login_token: token, api_key: "wrong" }, loginCookie)).status).toBe(401);
    const limited = await post("/console/login", { login_token: token, api_key: "wrong" }, loginCookie);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(limited.headers.get("content-type")).toContain("text/html");
    expect(router.basePath).toBe("");
  });

  it("signs out with the CSRF token only; a POST without it is refused with 403 and changes nothing", async () => {
    const { signIn, post, get } = setup();
    const { cookie, csrf } = await signIn();
    expect((await post("/console/logout", {}, cookie)).status).toBe(403);
    expect((await post("/console/logout", { csrf: `${csrf.slice(0, -1)}x` }, cookie)).status).toBe(403);
    expect((await get("/console", cookie)).status).toBe(200);
    const out = await post("/console/logout", { csrf }, cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^as_console=; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=0$/);
    expect((await get("/console", cookie)).headers.get("location")).toBe("/console/login");
  });

  it("ends a session after 30 minutes without a request, and keeps one that is used", async () => {
    const { signIn, get, clock } = setup();
    const { cookie } = await signIn();
    clock.now += 29 * 60_000;
    expect((await get("/console", cookie)).status).toBe(200);
    clock.now += 29 * 60_000;
    expect((await get("/console", cookie)).status).toBe(200);
    clock.now += 31 * 60_000;
    expect((await get("/console", cookie)).status).toBe(303);
  });

  it("answers under the router's base path", async () => {
    const { signIn, get } = setup({ basePath: "/agent-sessions" });
    expect((await get("/console")).headers.get("location")).toBe("/agent-sessions/console/login");
    const { session } = await signIn();
    expect(session).toContain("Path=/agent-sessions/console");
  });

  it("is off unless asked for", async () => {
    const engine = createEngine({ store: new MemoryStore() });
    const router = createRouter({ engine, apiKeys: [{ orgId: ORG, key: KEY }] });
    expect((await router.fetch(new Request("http://localhost/console"))).status).toBe(404);
  });
});

describe("console tenancy and escaping", () => {
  it("answers 404 for another organization's session, action and webhook, as for an unknown id", async () => {
    const { engine, signIn, get, post } = setup();
    const theirs = await engine.threads.create(OTHER, {});
    const action = await engine.threads.proposeAction(OTHER, theirs.id, { tool: "refund", preview: { amount: 5 } });
    const hook = await engine.webhooks.create(OTHER, { url: "https://hooks.example.com/x" });
    const { cookie, csrf } = await signIn();
    expect((await get(`/console/s/${theirs.id}`, cookie)).status).toBe(404);
    expect((await get(`/console/s/${theirs.id}/events`, cookie)).status).toBe(404);
    expect((await get(`/console/webhooks/${hook.id}`, cookie)).status).toBe(404);
    expect((await post(`/console/webhooks/${hook.id}/test`, { csrf }, cookie)).status).toBe(404);
    expect((await post(`/console/s/${theirs.id}/actions/${action.id}`, { csrf, decision: "approve" }, cookie)).status).toBe(404);
    expect((await engine.threads.getAction(OTHER, theirs.id, action.id)).status).toBe("pending");
    expect((await get("/console/s/thread_00000000000000000000000000000000", cookie)).status).toBe(404);
    expect((await get(`/console/threads?q=${theirs.id}`, cookie)).headers.get("location")).toBe(`/console/s/${theirs.id}`);
  });

  it("escapes every value it shows and runs only its own nonce'd script", async () => {
    const { engine, signIn, get } = setup();
    const thread = await engine.threads.create(ORG, { contextVariables: { NOTE: "<script>alert(1)</script>" } });
    await engine.threads.proposeAction(ORG, thread.id, { tool: "send", preview: { "<b>key</b>": "<img src=x onerror=alert(1)>" } });
    const { cookie } = await signIn();
    const answer = await get(`/console/s/${thread.id}`, cookie);
    const page = await answer.text();
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<img");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const nonce = /script-src 'nonce-([\w-]+)'/.exec(answer.headers.get("content-security-policy")!)![1];
    const scripts = [...page.matchAll(/<script([^>]*)>/g)].map((match) => match[1]);
    expect(scripts).toEqual([` nonce="${nonce}"`]);
  });

  it("decides an action as the signed-in key, through the engine: approve with edited arguments, deny with a reason", async () => {
    const { engine, signIn, post } = setup();
    const thread = await engine.threads.create(ORG, {});
    const first = await engine.threads.proposeAction(ORG, thread.id, { tool: "pay", preview: {}, args: { amount: 10 } });
    const second = await engine.threads.proposeAction(ORG, thread.id, { tool: "pay", preview: {}, args: { amount: 20 } });
    const { cookie, csrf } = await signIn();
    const bad = await post(`/console/s/${thread.id}/actions/${first.id}`, { csrf, decision: "approve", args: "{not json" }, cookie);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("{not json");
    const approved = await post(`/console/s/${thread.id}/actions/${first.id}`, { csrf, decision: "approve", args: '{"amount": 12}' }, cookie);
    expect(approved.status).toBe(303);
    expect(approved.headers.get("location")).toBe(`/console/s/${thread.id}?notice=approved`);
    expect(await engine.threads.getAction(ORG, thread.id, first.id)).toMatchObject({
      status: "processing",
      args: { amount: 12 },
      originalArgs: { amount: 10 },
      decidedBy: `${ORG}/ops`,
      decidedVia: "api",
    });
    await post(`/console/s/${thread.id}/actions/${second.id}`, { csrf, decision: "deny", reason: "too much" }, cookie);
    expect(await engine.threads.getAction(ORG, thread.id, second.id)).toMatchObject({
      status: "cancelled",
      reason: "too much",
      decidedBy: `${ORG}/ops`,
    });
    const again = await post(`/console/s/${thread.id}/actions/${second.id}`, { csrf, decision: "approve" }, cookie);
    expect(again.status).toBe(409);
  });
});

describe("console views", () => {
  it("lists by status with the engine's cursor, and finds a form's sessions by its slug", async () => {
    const { engine, signIn, get } = setup();
    const form = await engine.forms.create(ORG, { name: "Intake", slug: "intake", fields: [{ name: "email", type: "email" }] });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await engine.formSessions.create(ORG, form.id)).id);
    await engine.formSessions.create(OTHER, (await engine.forms.create(OTHER, { name: "Theirs", fields: [{ name: "x", type: "text" }] })).id);
    const { cookie } = await signIn();
    const first = await (await get("/console/forms?status=created", cookie)).text();
    expect(first).toContain("30 created.");
    const next = /href="\/console\/forms\?(status=created&amp;cursor=[^"]+)" rel="next"/.exec(first)![1]!.replace(/&amp;/g, "&");
    const second = await (await get(`/console/forms?${next}`, cookie)).text();
    const shown = (text: string) => [...text.matchAll(/href="\/console\/s\/(sess_[0-9a-f]+)"/g)].map((match) => match[1]);
    expect([...shown(first), ...shown(second)].sort()).toEqual([...ids].sort());
    expect(second).not.toContain('rel="next"');
    const bySlug = await (await get("/console/forms?q=intake", cookie)).text();
    expect(bySlug).toContain("Sessions of form <strong>Intake</strong>");
    expect(shown(bySlug)).toHaveLength(30);
    expect((await get("/console/forms?q=nothing-like-it", cookie)).status).toBe(404);
    expect((await get("/console/forms?status=bogus", cookie)).status).toBe(400);
  });

  it("shows a form session's hosted URL and marks hidden values; a workflow's replay steps; an agent session's usage", async () => {
    const { engine, signIn, get } = setup();
    const form = await engine.forms.create(ORG, {
      name: "Intake",
      fields: [
        { name: "email", type: "email" },
        { name: "ticket", type: "hidden" },
      ],
    });
    const session = await engine.formSessions.create(ORG, form.id, { prefill: { ticket: "T-7" } });
    const workflow = await workflowWithSteps(engine, ORG, 42);
    const run = await agentRun(engine, ORG, { input_tokens: 1234 });
    const { cookie } = await signIn();
    const formPage = await (await get(`/console/s/${session.id}`, cookie)).text();
    expect(formPage).toContain(`<a href="http://localhost/f/${session.id}">`);
    expect(formPage).toMatch(/<dt>ticket<\/dt><dd><span class="hidden-value">hidden field<\/span> <span class="mono">&quot;T-7&quot;<\/span>/);
    expect(formPage).toContain(`data-deadline="${new Date(session.expiresAt).toISOString()}"`);
    const workflowPage = await (await get(`/console/s/${workflow.id}`, cookie)).text();
    expect(workflowPage).toContain('<td>create_wait</td><td class="num">42 ms</td>');
    const agentPage = await (await get(`/console/s/${run.id}`, cookie)).text();
    expect(agentPage).toContain('<th scope="row">input_tokens</th><td class="num">1,234</td>');
  });

  it("sends a test event to a webhook endpoint with the CSRF token, and shows it in the delivery log", async () => {
    const received: string[] = [];
    const engine = createEngine({
      store: new MemoryStore(),
      webhooks: { allowPrivateAddresses: true },
      fetch: async (_url, init) => {
        received.push(String(init?.body));
        return new Response(null, { status: 204 });
      },
    });
    const { signIn, post, get } = setup({ engine });
    const hook = await engine.webhooks.create(ORG, { url: "https://hooks.example.com/in", events: ["session.completed"] });
    const { cookie, csrf } = await signIn();
    expect((await post(`/console/webhooks/${hook.id}/test`, {}, cookie)).status).toBe(403);
    const sent = await post(`/console/webhooks/${hook.id}/test`, { csrf }, cookie);
    expect(sent.headers.get("location")).toBe(`/console/webhooks/${hook.id}?notice=tested`);
    await engine.tick();
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!)).toMatchObject({ type: "webhook.test" });
    const page = await (await get(`/console/webhooks/${hook.id}?notice=tested`, cookie)).text();
    expect(page).toContain("A test event was queued for delivery.");
    expect(page).toContain("webhook.test");
    expect(page).toMatch(/1 attempts; median \d+ ms/);
    const overview = await (await get("/console", cookie)).text();
    expect(overview).toContain("No failed deliveries.");
  });
});

describe("ConsoleSessions", () => {
  it("keeps at most maxSessions, ending the least recently used", () => {
    const sessions = new ConsoleSessions({ maxSessions: 2 });
    const a = sessions.create({ orgId: ORG }, 0);
    const b = sessions.create({ orgId: ORG }, 0);
    sessions.touch(a.id, 1);
    sessions.create({ orgId: ORG }, 2);
    expect(sessions.size).toBe(2);
    expect(sessions.touch(b.id, 3)).toBeNull();
    expect(sessions.touch(a.id, 3)?.orgId).toBe(ORG);
    expect(sessions.touch(null, 3)).toBeNull();
  });

  it("compares CSRF tokens in full, and reads cookies by exact name", () => {
    expect(csrfMatches("abc", "abc")).toBe(true);
    expect(csrfMatches("abc", "abd")).toBe(false);
    expect(csrfMatches("abc", "ab")).toBe(false);
    expect(csrfMatches("abc", null)).toBe(false);
    const request = new Request("http://localhost", { headers: { cookie: "as_console_login=x; as_console=y" } });
    expect(readCookie(request, "as_console")).toBe("y");
    expect(readCookie(request, "as_console_login")).toBe("x");
    expect(readCookie(request, "missing")).toBeNull();
  });
});
