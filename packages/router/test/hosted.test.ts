import { createEngine, type Engine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const KEY = "hosted_page_key";
const ORG = "org_00000000000000000000000000000001";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);
const FORM_ENCODED = "application/x-www-form-urlencoded";

const SUPPORT_FIELDS = [
  { name: "full_name", type: "text", required: true },
  { name: "email", label: "Email", type: "email", required: true },
  { name: "phone", label: "Phone", type: "tel" },
  { name: "website", label: "Website", type: "url" },
  { name: "orders", label: "Orders", type: "number" },
  { name: "call_on", label: "Call me on", type: "date" },
  { name: "topic", label: "Topic", type: "select", options: ["Billing", "Bug"] },
  { name: "details", label: "Details", type: "textarea" },
  { name: "updates", label: "Send me updates", type: "checkbox" },
  { name: "session_id", type: "hidden" },
];

function setup(engineFor: (engine: Engine) => Engine = (engine) => engine) {
  const clock = { now: T0 };
  const engine = createEngine({ store: new MemoryStore(), clock: () => clock.now });
  const errors: unknown[] = [];
  const router = createRouter({
    engine: engineFor(engine),
    apiKeys: [{ orgId: ORG, key: KEY }],
    publicUrl: "https://forms.example.com",
    onError: (error) => errors.push(error),
  });

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

  /** Loads the hosted page (no API key), or posts `form` to it form-encoded. */
  async function page(id: string, form?: Record<string, string> | string, contentType = FORM_ENCODED) {
    const init: RequestInit =
      form === undefined
        ? {}
        : { method: "POST", headers: { "content-type": contentType }, body: typeof form === "string" ? form : new URLSearchParams(form).toString() };
    const response = await router.fetch(new Request(`http://localhost/f/${encodeURIComponent(id)}`, init));
    return { status: response.status, headers: response.headers, html: await response.text() };
  }

  async function form(overrides: Record<string, unknown> = {}) {
    return api("POST", "/v1/forms", { name: "Support intake", fields: SUPPORT_FIELDS, ...overrides });
  }

  async function session(formId: string, body: Record<string, unknown> = {}) {
    return api("POST", `/v1/forms/${formId}/sessions`, body);
  }

  const status = async (id: string) => (await api("GET", `/v1/sessions/${id}`)).status;
  return { engine, router, clock, errors, api, page, form, session, status };
}

/** The markup of one field's block on the page: its label, its control and its error. */
function fieldBlock(html: string, name: string): string {
  const blocks = html.match(/<div class="field[^"]*">[\s\S]*?<\/div>/g) ?? [];
  const block = blocks.find((candidate) => candidate.includes(` name="${name}"`));
  if (!block) throw new Error(`no field ${name} on the page`);
  return block;
}

/** The opening tag of the control named `name`. */
function control(html: string, name: string): string {
  const match = new RegExp(`<(input|select|textarea)[^>]* name="${name}"[^>]*>`).exec(html);
  if (!match) throw new Error(`no control ${name} on the page`);
  return match[0];
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

describe("GET /f/:id", () => {
  it("opens a created session when the page loads, once", async () => {
    const { id } = await t.session((await t.form()).id);
    expect(await t.status(id)).toBe("created");
    const first = await t.page(id);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await t.status(id)).toBe("open");
    expect((await t.page(id)).status).toBe(200);
    const opened = (await t.engine.timeline(ORG, id)).filter((event) => event.type === "session.opened");
    expect(opened).toHaveLength(1);
  });

  it("renders every visible field with its label, input type and required mark, and the prefill as values", async () => {
    const { id } = await t.session((await t.form()).id, {
      prefill: {
        email: "user@example.com",
        orders: 3,
        call_on: "2025-02-01",
        topic: "Bug",
        details: "Line one\nline two",
        updates: true,
        website: "https://example.com",
      },
    });
    const { html } = await t.page(id);
    expect(html).toContain("<title>Support intake</title>");
    expect(html).toContain("<h1>Support intake</h1>");
    expect(fieldBlock(html, "full_name")).toContain('<label for="f-full_name">Full name<span class="req" aria-hidden="true">*</span></label>');
    expect(control(html, "full_name")).toBe('<input type="text" id="f-full_name" name="full_name" value="" maxlength="65536" required>');
    expect(control(html, "email")).toBe(
      '<input type="email" id="f-email" name="email" value="user@example.com" maxlength="65536" autocomplete="email" required>',
    );
    expect(control(html, "phone")).toMatch(/^<input type="tel" [^>]*value=""/);
    expect(control(html, "website")).toMatch(/^<input type="url" [^>]*value="https:\/\/example.com"/);
    expect(control(html, "orders")).toBe('<input type="number" id="f-orders" name="orders" value="3" step="any" inputmode="decimal">');
    expect(control(html, "call_on")).toBe('<input type="date" id="f-call_on" name="call_on" value="2025-02-01">');
    expect(fieldBlock(html, "topic")).toContain(
      '<option value="">Choose…</option>\n<option value="Billing">Billing</option>\n<option value="Bug" selected>Bug</option>',
    );
    expect(fieldBlock(html, "details")).toContain(">\nLine one\nline two</textarea>");
    expect(control(html, "updates")).toBe('<input type="checkbox" id="f-updates" name="updates" value="true" checked>');
    expect(fieldBlock(html, "updates")).toContain("<span>Send me updates</span>");
    expect(fieldBlock(html, "phone")).not.toContain('class="req"');
    expect(html).toContain('<button type="submit">Submit</button>');
  });

  it("never renders a hidden field or its prefilled value", async () => {
    const { id } = await t.session((await t.form()).id, { prefill: { session_id: "sess_internal_ref" } });
    const { html } = await t.page(id);
    expect(html).not.toContain("session_id");
    expect(html).not.toContain("sess_internal_ref");
    expect(html).not.toContain('type="hidden"');
  });

  it("escapes the form's name, labels and options and the prefill", async () => {
    const { id: formId } = await t.form({
      name: `Acme <script>alert("name")</script>`,
      fields: [
        { name: "quote", label: `Say "hi" & <b>bye</b>`, type: "text" },
        { name: "story", label: "Story", type: "textarea" },
        { name: "pick", label: "Pick", type: "select", options: [`"><img src=x onerror=alert(1)>`, "plain"] },
      ],
    });
    const { id } = await t.session(formId, {
      prefill: { quote: `" autofocus onfocus="alert('q')`, story: "</textarea><script>alert('s')</script>", pick: `"><img src=x onerror=alert(1)>` },
    });
    const { html } = await t.page(id);
    expect(html).not.toMatch(/<script|<img|<b>| onfocus="|<\/textarea><script/);
    expect(html).toContain("<title>Acme &lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</title>");
    expect(html).toContain("Say &quot;hi&quot; &amp; &lt;b&gt;bye&lt;/b&gt;");
    expect(control(html, "quote")).toContain(`value="&quot; autofocus onfocus=&quot;alert(&#39;q&#39;)"`);
    expect(fieldBlock(html, "story")).toContain("&lt;/textarea&gt;&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;</textarea>");
    expect(fieldBlock(html, "pick")).toContain(
      '<option value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" selected>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</option>',
    );
  });

  it("sends a strict Content-Security-Policy whose hash is the inline stylesheet's, and the other safety headers", async () => {
    const { id } = await t.session((await t.form()).id);
    const { headers, html } = await t.page(id);
    const csp = headers.get("content-security-policy")!;
    const directives = Object.fromEntries(
      csp.split(";").map((part) =>
        part
          .trim()
          .split(/\s+(.*)/)
          .slice(0, 2),
      ),
    );
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(directives).toEqual({
      "default-src": "'none'",
      "style-src": `'sha256-${await sha256Base64(style)}'`,
      "form-action": "'self'",
      "frame-ancestors": "'none'",
      "base-uri": "'none'",
    });
    expect(html).not.toMatch(/<script|<link|<img|\sstyle=|\son[a-z]+=/i);
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("referrer-policy")).toBe("no-referrer");
    expect(headers.get("cache-control")).toBe("no-store");
    expect(headers.get("x-frame-options")).toBe("DENY");
  });

  it("answers 404 with a page for an unknown id, another kind's id or a malformed one", async () => {
    const { id: formId } = await t.form();
    const workflow = await t.api("POST", "/api/v1/sessions", { name: "signup" });
    for (const id of [`sess_${"0".repeat(32)}`, workflow.id, formId, "nonsense", "sess_<script>"]) {
      const answer = await t.page(id);
      expect(answer.status, id).toBe(404);
      expect(answer.html).toContain("<h1>Form not found</h1>");
      expect(answer.html).not.toContain("<script>");
      expect(answer.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect((await t.page(id, { email: "a@b.co" })).status).toBe(404);
    }
    expect(await t.api("GET", `/api/v1/sessions/${workflow.id}`)).toMatchObject({ status: "active" });
  });

  it("shows the thank-you page once submitted", async () => {
    const { id } = await t.session((await t.form()).id);
    await t.page(id, { full_name: "Ada", email: "ada@example.com" });
    const { status, html } = await t.page(id);
    expect(status).toBe(200);
    expect(html).toContain("<h1>Thank you</h1>");
    expect(html).not.toContain("<form");
  });

  it("shows the expired page with 410 after expires_at, for GET and POST, and takes no submission", async () => {
    const { id } = await t.session((await t.form()).id, { expires_in: 60 });
    t.clock.now += 60_000;
    const loaded = await t.page(id);
    expect(loaded.status).toBe(410);
    expect(loaded.html).toContain("<h1>This form has expired</h1>");
    expect(loaded.html).toContain("15 Jan 2025, 10:31 UTC");
    expect(loaded.html).not.toContain("<form");
    expect(loaded.headers.get("content-security-policy")).toContain("form-action 'self'");
    const posted = await t.page(id, { full_name: "Ada", email: "ada@example.com" });
    expect(posted.status).toBe(410);
    expect(posted.html).toContain("<h1>This form has expired</h1>");
    const stored = await t.api("GET", `/v1/sessions/${id}`);
    expect(stored).toMatchObject({ status: "expired", submission: null });
  });
});

describe("POST /f/:id", () => {
  it("records a complete submission: values coerced, an unticked checkbox false, the hidden prefill kept over a forged post", async () => {
    const { id } = await t.session((await t.form()).id, { prefill: { session_id: "sess_internal_ref", updates: true } });
    await t.page(id);
    const answer = await t.page(id, {
      full_name: "  Ada Lovelace ",
      email: "ada@example.com",
      orders: "4",
      call_on: "2025-03-14",
      topic: "Billing",
      details: "Hello",
      phone: "",
      session_id: "forged",
      not_a_field: "ignored",
    });
    expect(answer.status).toBe(200);
    expect(answer.html).toContain("<h1>Thank you</h1>");
    expect(answer.html).not.toMatch(/forged|sess_internal_ref/);
    const { status, submission } = await t.api("GET", `/v1/sessions/${id}`);
    expect(status).toBe("submitted");
    expect(submission).toMatchObject({
      partial: false,
      missing_fields: [],
      values: {
        full_name: "Ada Lovelace",
        email: "ada@example.com",
        orders: 4,
        call_on: "2025-03-14",
        topic: "Billing",
        details: "Hello",
        updates: false,
        session_id: "sess_internal_ref",
      },
    });
    expect(submission.values).not.toHaveProperty("phone");
  });

  it("sends the form back with 400, every problem beside its field and the person's values kept", async () => {
    const { id } = await t.session((await t.form()).id, { prefill: { session_id: "sess_internal_ref" } });
    const answer = await t.page(id, {
      full_name: "",
      email: "not-an-email",
      orders: "many",
      phone: "555 0100",
      updates: "true",
      session_id: "forged",
    });
    expect(answer.status).toBe(400);
    const email = fieldBlock(answer.html, "email");
    expect(email).toContain('<div class="field invalid">');
    expect(email).toContain('value="not-an-email"');
    expect(email).toContain('aria-invalid="true" aria-describedby="f-email-error"');
    expect(email).toContain('<p class="error" id="f-email-error">Must be an email address.</p>');
    expect(fieldBlock(answer.html, "full_name")).toContain('<p class="error" id="f-full_name-error">This field is required.</p>');
    expect(fieldBlock(answer.html, "orders")).toContain('<p class="error" id="f-orders-error">Must be a number.</p>');
    expect(fieldBlock(answer.html, "phone")).not.toContain('class="error"');
    expect(control(answer.html, "phone")).toContain('value="555 0100"');
    expect(control(answer.html, "updates")).toContain(" checked");
    expect(answer.html).toContain('<li><a href="#f-email">Email: Must be an email address.</a></li>');
    expect(answer.html).not.toMatch(/forged|sess_internal_ref/);
    expect(answer.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await t.status(id)).toBe("open");
  });

  it("escapes posted values and error text when it sends the form back", async () => {
    const { id: formId } = await t.form({
      fields: [
        { name: "email", label: "Email", type: "email", required: true },
        { name: "pick", label: "Pick", type: "select", options: ["<a>", "<b>"] },
      ],
    });
    const { id } = await t.session(formId);
    const answer = await t.page(id, { email: `"><script>alert(1)</script>`, pick: "<i>" });
    expect(answer.status).toBe(400);
    expect(answer.html).not.toMatch(/<script|<i>|<a>|<b>/);
    expect(control(answer.html, "email")).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(fieldBlock(answer.html, "pick")).toContain("Must be one of &quot;&lt;a&gt;&quot;, &quot;&lt;b&gt;&quot;.");
  });

  it("offers 'Submit what I have' only where the form allows partial submissions", async () => {
    const strict = await t.page((await t.session((await t.form()).id)).id);
    expect(strict.html).not.toContain("Submit what I have");
    expect(strict.html).not.toContain("submit-as");
    const lenient = await t.page((await t.session((await t.form({ allowPartial: true })).id)).id);
    expect(lenient.html).toContain(
      '<button type="submit" class="secondary" name="submit-as" value="partial" formnovalidate>Submit what I have</button>',
    );
    expect(lenient.html.indexOf(">Submit</button>")).toBeLessThan(lenient.html.indexOf(">Submit what I have</button>"));
  });

  it("records 'Submit what I have' as a partial submission listing the missing fields", async () => {
    const { id } = await t.session((await t.form({ allowPartial: true })).id, { prefill: { session_id: "sess_internal_ref" } });
    const answer = await t.page(id, { full_name: "", email: "", phone: "555 0100", "submit-as": "partial" });
    expect(answer.status).toBe(200);
    expect(answer.html).toContain("You left out: <strong>Full name</strong>, <strong>Email</strong>.");
    const { submission } = await t.api("GET", `/v1/sessions/${id}`);
    expect(submission).toMatchObject({
      partial: true,
      missing_fields: ["full_name", "email"],
      values: { phone: "555 0100", updates: false, session_id: "sess_internal_ref" },
    });
  });

  it("still checks the values of a partial submission", async () => {
    const { id } = await t.session((await t.form({ allowPartial: true })).id);
    const answer = await t.page(id, { email: "nope", "submit-as": "partial" });
    expect(answer.status).toBe(400);
    expect(fieldBlock(answer.html, "email")).toContain("Must be an email address.");
    expect(fieldBlock(answer.html, "full_name")).not.toContain('class="error"');
    expect(await t.status(id)).toBe("open");
  });

  it("makes the main Submit demand every required field, even where partial submissions are allowed", async () => {
    const { id } = await t.session((await t.form({ allowPartial: true })).id);
    const answer = await t.page(id, { full_name: "Ada", email: "" });
    expect(answer.status).toBe(400);
    expect(fieldBlock(answer.html, "email")).toContain('<p class="error" id="f-email-error">This field is required.</p>');
    expect(await t.status(id)).toBe("open");
  });

  it("refuses a forged partial submission on a form that does not allow it", async () => {
    const { id } = await t.session((await t.form()).id);
    const answer = await t.page(id, { full_name: "Ada", "submit-as": "partial" });
    expect(answer.status).toBe(400);
    expect(fieldBlock(answer.html, "email")).toContain("This field is required.");
    expect(await t.status(id)).toBe("open");
  });

  it("keeps the button's name apart from fields with similar names", async () => {
    const { id: formId } = await t.form({
      allowPartial: true,
      fields: [
        { name: "_action", label: "Action", type: "text", required: true },
        { name: "submit_as", label: "Submit as", type: "text" },
        { name: "other", label: "Other", type: "text", required: true },
      ],
    });
    const { id } = await t.session(formId);
    expect((await t.page(id, { _action: "call", submit_as: "partial", "submit-as": "partial" })).status).toBe(200);
    const { submission } = await t.api("GET", `/v1/sessions/${id}`);
    expect(submission).toMatchObject({ partial: true, missing_fields: ["other"], values: { _action: "call", submit_as: "partial" } });
  });

  it("answers the same post again with the thank-you page and a different one with 409, changing nothing", async () => {
    const { id } = await t.session((await t.form()).id);
    const post = { full_name: "Ada", email: "ada@example.com" };
    expect((await t.page(id, post)).status).toBe(200);
    expect((await t.page(id, post)).status).toBe(200);
    const other = await t.page(id, { ...post, full_name: "Grace" });
    expect(other.status).toBe(409);
    expect(other.html).toContain("<h1>This form was already submitted</h1>");
    expect((await t.api("GET", `/v1/sessions/${id}`)).submission.values.full_name).toBe("Ada");
  });

  it("refuses a text longer than a field takes, beside the field", async () => {
    const { id } = await t.session((await t.form()).id);
    const answer = await t.page(id, { full_name: "Ada", email: "ada@example.com", details: "x".repeat(65_537) });
    expect(answer.status).toBe(400);
    expect(fieldBlock(answer.html, "details")).toContain("Must be at most 65536 characters.");
    expect(await t.status(id)).toBe("open");
  });

  it("refuses a body that is not form-encoded with 415", async () => {
    const { id } = await t.session((await t.form()).id);
    const answer = await t.page(id, JSON.stringify({ values: { full_name: "Ada" } }), "application/json");
    expect(answer.status).toBe(415);
    expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await t.status(id)).toBe("open");
  });
});

describe("errors the router answers on the hosted page", () => {
  it("answers a body over the size limit with a 413 page, not JSON, without reading the session", async () => {
    const { id } = await t.session((await t.form()).id);
    const answer = await t.page(id, `full_name=${"x".repeat(1024 * 1024)}`);
    expect(answer.status).toBe(413);
    expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(answer.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(answer.html).toContain("<h1>Your answers are too long to send</h1>");
    expect(answer.html).toContain("The request body must be at most 1048576 bytes.");
    expect(await t.status(id)).toBe("created");
  });

  it("answers a failure with a 500 page naming no internals, and reports the error", async () => {
    const refused = async (): Promise<never> => {
      throw new Error("connection to 10.0.0.5:5432 refused");
    };
    // The page's two engine calls: its load and its post.
    t = setup((engine) => ({ ...engine, formSessions: { ...engine.formSessions, hostedOpen: refused, hostedSubmit: refused } }));
    const { id } = await t.session((await t.form()).id);
    const loaded = await t.page(id);
    const posted = await t.page(id, { full_name: "Ada" });
    for (const [answer, sentence] of [
      [loaded, "Failed to load the form."],
      [posted, "Failed to submit the form."],
    ] as const) {
      expect(answer.status).toBe(500);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.html).toContain("<h1>Something went wrong</h1>");
      expect(answer.html).toContain(sentence);
      expect(answer.html).not.toMatch(/10\.0\.0\.5|refused|at .*\.ts/);
    }
    expect(t.errors.map((error) => (error as Error).message)).toEqual(["connection to 10.0.0.5:5432 refused", "connection to 10.0.0.5:5432 refused"]);
    t.errors.length = 0;
  });
});

describe("POST /f/:id when the session changes between the page's read and the engine's write", () => {
  /** An engine whose hosted read returns the session as it was at `frozen`, as if read just before a concurrent change. */
  function staleReads(change: (session: any) => any = (session) => session) {
    const frozen = new Map<string, unknown>();
    return setup((engine) => ({
      ...engine,
      formSessions: {
        ...engine.formSessions,
        async hosted(id: string) {
          if (!frozen.has(id)) frozen.set(id, change(await engine.formSessions.hosted(id)));
          return frozen.get(id) as Awaited<ReturnType<typeof engine.formSessions.hosted>>;
        },
      },
    }));
  }

  it("shows 'already submitted' (409) when another submission won", async () => {
    t = staleReads();
    const { id } = await t.session((await t.form()).id);
    await t.page(id);
    await t.engine.formSessions.submit(id, { values: { full_name: "First", email: "first@example.com" } });
    const answer = await t.page(id, { full_name: "Second", email: "second@example.com" });
    expect(answer.status).toBe(409);
    expect(answer.html).toContain("<h1>This form was already submitted</h1>");
  });

  it("shows the expired page (410) when the session expired meanwhile", async () => {
    t = staleReads();
    const { id } = await t.session((await t.form()).id, { expires_in: 60 });
    await t.page(id);
    t.clock.now += 61_000;
    const answer = await t.page(id, { full_name: "Ada", email: "ada@example.com" });
    expect(answer.status).toBe(410);
    expect(answer.html).toContain("<h1>This form has expired</h1>");
  });

  it("puts a problem the engine found beside its field", async () => {
    // The page believes partial submissions are allowed; the engine knows they are not.
    t = staleReads((session) => ({ ...session, allowPartial: true }));
    const { id } = await t.session((await t.form()).id);
    const answer = await t.page(id, { full_name: "Ada", "submit-as": "partial" });
    expect(answer.status).toBe(400);
    expect(fieldBlock(answer.html, "email")).toContain('<p class="error" id="f-email-error">This field is required.</p>');
    expect(await t.status(id)).toBe("open");
  });
});
