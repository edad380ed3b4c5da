import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter, hostMatcher, type RouterOptions } from "@agent-sessions/router";
import { describe, expect, it } from "vitest";

const ORG = "org_00000000000000000000000000000001";
const KEY = "hosted_url_key_0123456789abcdef";
const FORM = { name: "Intake", slug: "intake", fields: [{ name: "email", type: "email" }] };

function setup(options: Partial<RouterOptions> = {}) {
  const store = new MemoryStore();
  const router = createRouter({ engine: createEngine({ store }), apiKeys: [{ orgId: ORG, key: KEY }], rateLimit: false, ...options });
  const call = async (origin: string, method: string, path: string, body?: unknown) => {
    const response = await router.fetch(
      new Request(`${origin}${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const sessionCount = async () => (await store.list(ORG, { kind: "form_session", limit: 100 })).total;
  return { router, call, sessionCount };
}

/** Creates the form (from loopback) and then a session of it from `origin`. */
async function createFrom(context: ReturnType<typeof setup>, origin: string) {
  await context.call("http://localhost", "POST", "/v1/forms", FORM);
  return context.call(origin, "POST", "/v1/forms/intake/sessions", {});
}

describe("hosted form URLs without publicUrl", () => {
  it("refuses a create naming a host nobody allowed, with a 400 and nothing written", async () => {
    const context = setup();
    const refused = await createFrom(context, "http://evil.example");
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      error: "Invalid request",
      message: "Host: 'evil.example' is not a host that hosted form URLs may name; the server lists them in its publicUrl or allowedHosts",
    });
    expect(await context.sessionCount()).toBe(0);
  });

  it.each(["http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:4000", "http://app.localhost", "https://localhost"])(
    "names loopback %s after itself by default",
    async (origin) => {
      const context = setup();
      const created = await createFrom(context, origin);
      expect(created.status).toBe(201);
      expect(created.body.url).toBe(`${origin}/f/${created.body.id}`);
    },
  );

  it("names the hosts of allowedHosts after themselves, ports and subdomains as listed, and no others", async () => {
    const context = setup({ allowedHosts: ["forms.example.com", "api.example.com:8443", ".corp.example"] });
    await context.call("http://localhost", "POST", "/v1/forms", FORM);
    const url = async (origin: string) => {
      const created = await context.call(origin, "POST", "/v1/forms/intake/sessions", {});
      return created.status === 201 ? created.body.url.replace(/\/f\/.*$/, "") : created.status;
    };
    expect(await url("https://forms.example.com")).toBe("https://forms.example.com");
    expect(await url("http://forms.example.com:9000")).toBe("http://forms.example.com:9000");
    expect(await url("https://api.example.com:8443")).toBe("https://api.example.com:8443");
    expect(await url("https://api.example.com")).toBe(400);
    expect(await url("http://corp.example")).toBe("http://corp.example");
    expect(await url("http://eu.intake.corp.example")).toBe("http://eu.intake.corp.example");
    expect(await url("http://evilcorp.example")).toBe(400);
    expect(await url("http://forms.example.com.evil.example")).toBe(400);
    // A list replaces the loopback default.
    expect(await url("http://localhost:3000")).toBe(400);
  });

  it("refuses an extend from a host nobody allowed before it changes the session", async () => {
    const context = setup();
    const created = await createFrom(context, "http://localhost");
    const refused = await context.call("http://evil.example", "PATCH", `/v1/sessions/${created.body.id}`, { expires_in: 3600 });
    expect(refused.status).toBe(400);
    const after = await context.call("http://localhost", "GET", `/v1/sessions/${created.body.id}`);
    expect(after.body.expires_at).toBe(created.body.expires_at);
  });
});

describe("hosted form URLs with publicUrl", () => {
  it("takes an origin as before, whatever the request's host", async () => {
    const created = await createFrom(setup({ publicUrl: "https://forms.example.com/" }), "http://evil.example");
    expect(created.body.url).toBe(`https://forms.example.com/f/${created.body.id}`);
  });

  it("takes a function of the request, and names only a server relative to the document in the OpenAPI document for it", async () => {
    const seen: string[] = [];
    const context = setup({
      publicUrl: (request) => {
        seen.push(new URL(request.url).host);
        return "https://eu.forms.example.com/prefix/";
      },
    });
    const created = await createFrom(context, "http://evil.example");
    expect(created.body.url).toBe(`https://eu.forms.example.com/prefix/f/${created.body.id}`);
    expect(seen).toEqual(["evil.example"]);
    const document = (await (await context.router.fetch(new Request("http://localhost/openapi.json"))).json()) as { servers?: unknown };
    // No origin the function might answer: the API is where the document was fetched from.
    expect(document.servers).toEqual([{ url: ".", description: "Where this document was fetched from" }]);
  });

  it("asks the function once per request, however many sessions a list shows", async () => {
    let calls = 0;
    const context = setup({
      publicUrl: () => {
        calls++;
        return "https://forms.example.com";
      },
    });
    await context.call("http://localhost", "POST", "/v1/forms", FORM);
    for (let i = 0; i < 3; i++) await context.call("http://localhost", "POST", "/v1/forms/intake/sessions", {});
    calls = 0;
    const list = await context.call("http://localhost", "GET", "/v1/sessions");
    expect(list.body.data).toHaveLength(3);
    expect(calls).toBe(1);
  });
});

describe("hostMatcher", () => {
  const url = (text: string) => new URL(text);

  it("matches a port when one is listed, a scheme's default port when the URL has none, and any port otherwise", () => {
    const matches = hostMatcher(["a.example:80", "b.example:443", "c.example", "[::1]:3000", "192.0.2.1"]);
    expect(matches(url("http://a.example/"))).toBe(true);
    expect(matches(url("https://a.example/"))).toBe(false);
    expect(matches(url("https://b.example/"))).toBe(true);
    expect(matches(url("http://c.example:1234/"))).toBe(true);
    expect(matches(url("http://[::1]:3000/"))).toBe(true);
    expect(matches(url("http://[::1]:3001/"))).toBe(false);
    expect(matches(url("http://192.0.2.1:9/"))).toBe(true);
    expect(matches(url("http://C.EXAMPLE/"))).toBe(true);
  });

  it.each(["", "*", "http://a.example", "a.example/path", "user@a.example", "a.example:0", "a.example:70000", "a.example:", "::1", "a b"])(
    "refuses the pattern %j",
    (pattern) => {
      expect(() => hostMatcher([pattern])).toThrow(/is not a host/);
    },
  );

  it("refuses a bad allowedHosts entry when the router is made", () => {
    expect(() => setup({ allowedHosts: ["https://forms.example.com"] })).toThrow("allowedHosts: 'https://forms.example.com' is not a host");
  });
});
