// Errors, retries, idempotency keys, timeouts and aborts, with failures injected between the client and the router.
import { ApiError, createClient, type FetchLike, NetworkError, TimeoutError } from "@agent-sessions/client";
import { describe, expect, it } from "vitest";
import { inProcess } from "./router.js";

/** Fails the first `times` requests that `match`: before they reach the router, or after it answered. */
function failing(
  times: number,
  how: "before" | "after" | { status: number; headers?: Record<string, string> },
  match = (_init: RequestInit) => true,
) {
  let left = times;
  return (next: FetchLike): FetchLike =>
    async (input, init) => {
      if (left <= 0 || !match(init)) return next(input, init);
      left--;
      if (how === "before") throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
      if (how === "after") {
        await next(input, init); // the server did the work; the answer is lost on the way back
        throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
      }
      return new Response(JSON.stringify({ error: "Service Unavailable", message: "try later" }), {
        status: how.status,
        headers: { "content-type": "application/json", ...how.headers },
      });
    };
}

const isPost = (init: RequestInit) => init.method === "POST";

describe("ApiError", () => {
  it("carries status, error, message, request, requestId and retryAfter", async () => {
    const { client } = inProcess({
      interpose: (next) => async (input, init) => {
        const answer = await next(input, init);
        const headers = new Headers(answer.headers);
        headers.set("x-request-id", "req_123");
        return new Response(answer.body, { status: answer.status, headers });
      },
    });
    const error = (await client.sessions.get("sess_00000000000000000000000000000000").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ name: "ApiError", status: 404, error: "Not found", requestId: "req_123", retryAfter: null });
    expect(error.message).toMatch(/not found/i);
    expect(error.request).toBe("GET /api/v1/sessions/sess_00000000000000000000000000000000");
    expect(error.body).toEqual({ error: "Not found", message: error.message });

    const invalid = (await client.sessions.create({ name: "" }).catch((e: unknown) => e)) as ApiError;
    expect(invalid).toMatchObject({ status: 400, error: "Invalid request" });
    expect(invalid.message).toMatch(/^name/);
  });

  it("keeps a non-JSON error page as text and still says what failed", async () => {
    const { client } = inProcess({
      client: { retries: 0 },
      interpose: () => async () =>
        new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "retry-after": "7" } }),
    });
    const error = (await client.forms.list().catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 502, error: "Bad Gateway", retryAfter: 7, body: "<html>Bad gateway</html>" });
    expect(error.message).toBe("GET /v1/forms answered 502: <html>Bad gateway</html>");
  });
});

describe("retries", () => {
  it("retries a create whose answer was lost, under the same Idempotency-Key: one session, the first answer", async () => {
    const { client, calls } = inProcess({ interpose: failing(2, "after", isPost) });
    const session = await client.sessions.create({ name: "user-signup-flow" });
    const posts = calls.filter((call) => call.method === "POST");
    expect(posts.length).toBe(3);
    const keys = new Set(posts.map((call) => call.headers.get("idempotency-key")));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    const all = await client.sessions.list();
    expect(all.data.map((s) => s.id)).toEqual([session.id]);
  });

  it("sends a fresh key per logical create, and the caller's own key when given", async () => {
    const { client, calls } = inProcess();
    await client.sessions.create({ name: "one" });
    await client.sessions.create({ name: "two" });
    await client.sessions.create({ name: "three" }, { idempotencyKey: "my-key" });
    const again = await client.sessions.create({ name: "three" }, { idempotencyKey: "my-key" });
    const keys = calls.map((call) => call.headers.get("idempotency-key"));
    expect(new Set(keys.slice(0, 2)).size).toBe(2);
    expect(keys.slice(2)).toEqual(["my-key", "my-key"]);
    expect((await client.sessions.list()).data.filter((s) => s.name === "three").map((s) => s.id)).toEqual([again.id]);
    await expect(client.sessions.create({ name: "four" }, { idempotencyKey: "my-key" })).rejects.toMatchObject({ status: 422 });
  });

  it("retries GETs on network errors, 5xx and 429 (honouring Retry-After), but not 501", async () => {
    const refused = inProcess({ interpose: failing(2, "before") });
    await expect(refused.client.sessions.list()).resolves.toMatchObject({ data: [] });
    expect(refused.calls.length).toBe(1);

    const unavailable = inProcess({ interpose: failing(2, { status: 503 }) });
    await expect(unavailable.client.forms.list()).resolves.toMatchObject({ data: [] });

    const limited = inProcess({ interpose: failing(1, { status: 429, headers: { "retry-after": "0.3" } }) });
    const began = Date.now();
    await limited.client.agents.list();
    expect(Date.now() - began).toBeGreaterThanOrEqual(280);

    const unimplemented = inProcess({ interpose: failing(1, { status: 501 }) });
    await expect(unimplemented.client.forms.list()).rejects.toMatchObject({ status: 501 });
  });

  it("gives up after `retries` more attempts with the last error", async () => {
    const down = inProcess({ interpose: failing(10, "before"), client: { retries: 3 } });
    const error = await down.client.sessions.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toBe("GET /api/v1/sessions: fetch failed (ECONNREFUSED)");

    const attempts: number[] = [];
    const counted = inProcess({
      client: { retries: 3 },
      interpose: () => async () => {
        attempts.push(Date.now());
        return new Response("{}", { status: 500 });
      },
    });
    await expect(counted.client.sessions.get("sess_x", { retries: 1 })).rejects.toMatchObject({ status: 500 });
    expect(attempts.length).toBe(2);
  });

  it("never retries a POST without an Idempotency-Key, nor a PATCH", async () => {
    const unkeyed = (init: RequestInit) => init.method !== "GET" && !(init.headers as Record<string, string>)["idempotency-key"];
    const { client, calls } = inProcess({ interpose: failing(5, "after", unkeyed) });
    const created = await client.sessions.create({ name: "y" });
    await expect(client.sessions.complete(created.id)).rejects.toBeInstanceOf(NetworkError);
    expect(calls.filter((call) => call.url.endsWith("/complete")).length).toBe(1);

    const form = await client.forms.create({ name: "F", slug: "f", fields: [{ name: "a", type: "text" }] });
    const formSession = await client.formSessions.create(form.id);
    await expect(client.formSessions.extend(formSession.id, { expires_in: 10 })).rejects.toBeInstanceOf(NetworkError);
    expect(calls.filter((call) => call.method === "PATCH").length).toBe(1);
  });

  it("asks again while the first attempt under its key is still in progress (409)", async () => {
    let first = true;
    const { client, calls } = inProcess({
      interpose: (next) => async (input, init) => {
        if (!first) return next(input, init);
        first = false;
        return new Response(JSON.stringify({ error: "Conflict", message: "Idempotency-Key: a request with this key is still in progress" }), {
          status: 409,
        });
      },
    });
    await client.threads.create({});
    expect(calls.length).toBe(1);

    // An ordinary conflict is final.
    const conflicts = inProcess({ interpose: failing(1, { status: 409 }) });
    await expect(conflicts.client.threads.create({})).rejects.toMatchObject({ status: 409 });
    expect(conflicts.calls.length).toBe(0);
  });
});

describe("timeouts and aborts", () => {
  const hanging: FetchLike = (_input, init) =>
    new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true }));

  it("abandons an attempt after timeoutMs, retries it, then throws a TimeoutError", async () => {
    let attempts = 0;
    const client = createClient({
      baseUrl: "http://x.test",
      apiKey: "k",
      timeoutMs: 50,
      retries: 1,
      backoff: { baseMs: 1 },
      fetch: (input, init) => {
        attempts++;
        return hanging(input, init);
      },
    });
    const began = Date.now();
    const error = await client.sessions.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timeoutMs: 50, message: "GET /api/v1/sessions: no answer within 50 ms" });
    expect(attempts).toBe(2);
    expect(Date.now() - began).toBeLessThan(1000);
  });

  it("gives a long-poll its hold time on top of the timeout", async () => {
    const { client } = inProcess({ client: { timeoutMs: 100 } });
    const session = await client.sessions.create({ name: "held" });
    const inbox = await client.inboxes.create(session.id, { ttlSeconds: 60 });
    const wait = await client.waits.create(session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 60 });
    await expect(client.waits.get(wait.id, { timeout: 0.4 })).resolves.toMatchObject({ status: "pending" });
  });

  it("rejects at once with the caller's reason when its signal aborts, without retrying", async () => {
    let attempts = 0;
    const client = createClient({
      baseUrl: "http://x.test",
      apiKey: "k",
      fetch: (input, init) => {
        attempts++;
        return hanging(input, init);
      },
    });
    const controller = new AbortController();
    const began = Date.now();
    setTimeout(() => controller.abort(new Error("user left")), 30);
    await expect(client.sessions.create({ name: "x" }, { signal: controller.signal })).rejects.toThrow("user left");
    expect(Date.now() - began).toBeLessThan(500);
    expect(attempts).toBe(1);
    await expect(client.sessions.list({}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect(attempts).toBe(1);
  });

  it("aborts during the backoff between attempts", async () => {
    const controller = new AbortController();
    const client = createClient({
      baseUrl: "http://x.test",
      apiKey: "k",
      backoff: { baseMs: 10_000, maxMs: 10_000 },
      fetch: async () => {
        setTimeout(() => controller.abort(new Error("stop")), 20);
        throw new TypeError("fetch failed");
      },
    });
    const began = Date.now();
    await expect(client.sessions.list({}, { signal: controller.signal })).rejects.toThrow("stop");
    expect(Date.now() - began).toBeLessThan(1000);
  });
});

describe("options", () => {
  it("refuses a bad baseUrl, apiKey, timeoutMs or retries by name", () => {
    expect(() => createClient({ baseUrl: "localhost:3000", apiKey: "k" })).toThrow(/^baseUrl: 'localhost:3000'/);
    expect(() => createClient({ baseUrl: "ftp://x", apiKey: "k" })).toThrow("baseUrl: 'ftp://x' must start with http:// or https://");
    expect(() => createClient({ baseUrl: "http://x", apiKey: "" })).toThrow(/^apiKey: must be a non-empty string/);
    expect(() => createClient({ baseUrl: "http://x", apiKey: "k", timeoutMs: 0 })).toThrow("timeoutMs: must be a number of at least 1");
    expect(() => createClient({ baseUrl: "http://x", apiKey: "k", retries: -1 })).toThrow("retries: must be a number of at least 0");
  });

  it("sends the key as a Bearer token, JSON bodies, the caller's headers, and keeps a base path", async () => {
    const seen: Request[] = [];
    const client = createClient({
      baseUrl: "http://x.test/agent-sessions/",
      apiKey: "secret",
      headers: { "x-trace": "t1" },
      fetch: async (input, init) => {
        seen.push(new Request(input, init));
        return Response.json({ data: [], pagination: { limit: 5, offset: 0, total: 0, nextCursor: null } });
      },
    });
    await client.sessions.list({ status: "active", limit: 5, offset: undefined });
    await client.forms.get("support intake/x");
    expect(seen[0]!.url).toBe("http://x.test/agent-sessions/api/v1/sessions?status=active&limit=5");
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer secret");
    expect(seen[0]!.headers.get("x-trace")).toBe("t1");
    expect(seen[1]!.url).toBe("http://x.test/agent-sessions/v1/forms/support%20intake%2Fx");
  });
});
