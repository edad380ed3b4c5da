import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { beforeEach, describe, expect, it } from "vitest";

// A wait's options over HTTP (issue 18): on_timeout, pattern, since, remind_before, and timed_out.

const KEY = "cust_your_api_key";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);

function setup() {
  const clock = { now: T0 };
  const engine = createEngine({ store: new MemoryStore(), clock: () => clock.now });
  const router = createRouter({
    engine,
    apiKeys: [{ orgId: "org_00000000000000000000000000000001", key: KEY }],
    publicUrl: "https://forms.example.com",
  });
  async function call(method: string, path: string, body?: unknown) {
    const init: RequestInit = { method, headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await router.fetch(new Request(`http://localhost${path}`, init));
    return { status: response.status, body: (await response.json()) as any };
  }
  return { engine, call, clock };
}

describe("wait options over HTTP", () => {
  let t: ReturnType<typeof setup>;
  let session: string;
  let inbox: string;
  beforeEach(async () => {
    t = setup();
    session = (await t.call("POST", "/api/v1/sessions", { name: "otp" })).body.id;
    inbox = (await t.call("POST", `/api/v1/sessions/${session}/inboxes`, { ttlSeconds: 3600 })).body.id;
  });
  const createWait = (extra: Record<string, unknown>) =>
    t.call("POST", `/api/v1/sessions/${session}/waits`, { type: "otp", inboxId: inbox, timeoutSeconds: 60, ...extra });

  it("answers a wait created without options as before, with timed_out: false", async () => {
    const created = await createWait({});
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^wait_[0-9a-f]{32}$/),
      sessionId: session,
      type: "otp",
      inboxId: inbox,
      status: "pending",
      timeoutSeconds: 60,
      createdAt: "2025-01-15T10:30:00.000Z",
      expiresAt: "2025-01-15T10:31:00.000Z",
      completedAt: null,
      result: null,
      timed_out: false,
    });
  });

  it("shows the options it was created with, since in UTC", async () => {
    const created = await createWait({
      on_timeout: { resolve_with: { code: null, reason: "no mail" } },
      pattern: "PIN (\\d{4})",
      since: "2025-01-15T12:29:00+02:00",
      remind_before: [30, 10],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "pending",
      timed_out: false,
      on_timeout: { resolve_with: { code: null, reason: "no mail" } },
      pattern: "PIN (\\d{4})",
      since: "2025-01-15T10:29:00.000Z",
      remind_before: [30, 10],
    });
    expect((await t.call("GET", `/api/v1/waits/${created.body.id}`)).body).toEqual(created.body);
    expect((await createWait({ on_timeout: "fail" })).body.on_timeout).toBe("fail");
  });

  it("answers a held long-poll with the resolve_with value once the clock passes the timeout", async () => {
    const { body: wait } = await createWait({ on_timeout: { resolve_with: { code: "000000", fallback: true } } });
    const started = Date.now();
    const held = t.call("GET", `/api/v1/waits/${wait.id}?timeout=10`);
    setTimeout(() => {
      t.clock.now += 61_000;
      void t.engine.tick();
    }, 100);
    const answered = await held;
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({
      id: wait.id,
      status: "completed",
      timed_out: true,
      result: { code: "000000", fallback: true },
      completedAt: "2025-01-15T10:31:00.000Z",
    });
    expect(Date.now() - started).toBeLessThan(5000);
    const { body: timeline } = await t.call("GET", `/api/v1/sessions/${session}/timeline`);
    const ending = timeline.events.find((event: { type: string }) => event.type === "wait.completed");
    expect(ending).toMatchObject({ timestamp: "2025-01-15T10:31:00.000Z", payload: { waitId: wait.id, timedOut: true } });
    expect(timeline.events.map((event: { type: string }) => event.type)).not.toContain("wait.timed_out");
  });

  it("completes a wait with a pattern only by a message it matches, with the group as the code", async () => {
    const { body: wait } = await createWait({ type: "message", pattern: "ref ([A-Z]{3}-\\d{3})" });
    await t.call("POST", `/api/v1/inboxes/${inbox}/messages`, { from: "a@b.co", subject: "Code", body: "Your code: 482913" });
    expect((await t.call("GET", `/api/v1/waits/${wait.id}`)).body.status).toBe("pending");
    await t.call("POST", `/api/v1/inboxes/${inbox}/messages`, { from: "a@b.co", subject: "Booking", body: "Your ref ABC-123" });
    expect((await t.call("GET", `/api/v1/waits/${wait.id}`)).body).toMatchObject({
      status: "completed",
      timed_out: false,
      result: { code: "ABC-123" },
    });
  });

  it("skips messages received before since", async () => {
    await t.call("POST", `/api/v1/inboxes/${inbox}/messages`, { from: "a@b.co", subject: "Code", body: "Your code: 111111" });
    t.clock.now += 5_000;
    const skipping = await createWait({ since: "2025-01-15T10:30:01Z" });
    expect(skipping.body.status).toBe("pending");
    const taking = await createWait({});
    expect(taking.body).toMatchObject({ status: "completed", result: { code: "111111" } });
  });

  it("records a wait.expiring event at each reminder's moment", async () => {
    const { body: wait } = await createWait({ remind_before: [30] });
    t.clock.now += 45_000;
    await t.engine.tick();
    const { body: timeline } = await t.call("GET", `/api/v1/sessions/${session}/timeline`);
    const reminders = timeline.events.filter((event: { type: string }) => event.type === "wait.expiring");
    expect(reminders).toEqual([
      {
        id: expect.any(String),
        timestamp: "2025-01-15T10:30:30.000Z",
        type: "wait.expiring",
        payload: { waitId: wait.id, expiresAt: "2025-01-15T10:31:00.000Z", remindBefore: 30 },
      },
    ]);
  });

  it.each([
    [{ pattern: "(a" }, "pattern is not a regular expression the linear-time engine (RE2 syntax) accepts: missing closing ): `(a`"],
    [
      { pattern: "(?=x)(\\d+)" },
      "pattern is not a regular expression the linear-time engine (RE2 syntax) accepts: invalid or unsupported Perl syntax: `(?=`",
    ],
    [{ pattern: "(a)\\1" }, "pattern is not a regular expression the linear-time engine (RE2 syntax) accepts: invalid escape sequence: `\\1`"],
    [{ pattern: "\\d{6}" }, "pattern: must have exactly one capture group, around the code (it has 0); use (?:…) for other groups"],
    [{ pattern: "(a)(b)" }, "pattern: must have exactly one capture group, around the code (it has 2); use (?:…) for other groups"],
    [{ pattern: `(${"a".repeat(499)})` }, "pattern: must be at most 500 characters"],
    [{ pattern: "" }, "pattern: must not be empty"],
    [{ pattern: 42 }, "pattern: must be a string"],
    [{ since: "yesterday" }, "since: must be an ISO 8601 date-time with a time zone, like 2025-01-15T10:30:00Z"],
    [{ since: "2025-01-15T10:30:00" }, "since: must be an ISO 8601 date-time with a time zone, like 2025-01-15T10:30:00Z"],
    [{ since: "2025-02-30T10:30:00Z" }, "since: '2025-02-30T10:30:00Z' names no moment from 1970 on"],
    [{ since: "2025-01-15T10:31:01Z" }, "since: must not be after the wait times out (2025-01-15T10:31:00.000Z): no message could complete it"],
    [{ on_timeout: "explode" }, 'on_timeout: must be "fail" or {"resolve_with": <any JSON value>}'],
    [{ on_timeout: {} }, 'on_timeout: must be "fail" or {"resolve_with": <any JSON value>}'],
    [{ on_timeout: { resolve_with: 1, x: 2 } }, 'on_timeout: must be "fail" or {"resolve_with": <any JSON value>}'],
    [{ on_timeout: { resolveWith: 1 } }, 'on_timeout: must be "fail" or {"resolve_with": <any JSON value>}'],
    [{ on_timeout: { resolve_with: "x".repeat(17_000) } }, "on_timeout.resolve_with: must be at most 16384 bytes as JSON (got 17002)"],
    [{ onTimeout: "fail" }, "onTimeout is not a known field"],
    [{ remind_before: 600 }, "remind_before: must be an array"],
    [{ remind_before: [0] }, "remind_before[0]: must be at least 1"],
    [{ remind_before: [60, 60] }, "remind_before: must not repeat an item"],
    [{ remind_before: Array.from({ length: 11 }, (_, i) => i + 1) }, "remind_before: must hold at most 10 items"],
    [{ remindBefore: [60] }, "remindBefore is not a known field"],
  ])("refuses %j with a 400 naming the field", async (extra, message) => {
    const answered = await createWait(extra);
    expect(answered).toEqual({ status: 400, body: { error: "Invalid request", message } });
  });
});
