import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { beforeEach, describe, expect, it } from "vitest";

/** Human decisions over the JSON API (issue 18): propose with arguments and approvers, decide with edits and reasons. */

const ORG = "org_00000000000000000000000000000001";
const KEY = "cust_your_api_key";
const LABELLED = "key_of_the_ops_team";
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0);

const SCHEMA = {
  type: "object",
  properties: { to: { type: "string", format: "email" }, amount: { type: "integer", maximum: 500 }, note: { type: "string", pattern: "^[a-z ]*$" } },
  required: ["to"],
  additionalProperties: false,
};

function setup() {
  const clock = { now: T0 };
  const engine = createEngine({ store: new MemoryStore(), clock: () => clock.now });
  const router = createRouter({
    engine,
    apiKeys: [
      { orgId: ORG, key: KEY },
      { orgId: ORG, key: LABELLED, label: "ops" },
    ],
    publicUrl: "https://review.example.com",
  });
  async function call(method: string, path: string, body?: unknown, key = KEY) {
    const init: RequestInit = { method, headers: { "content-type": "application/json", authorization: `Bearer ${key}` } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await router.fetch(new Request(`http://localhost${path}`, init));
    return { status: response.status, body: (await response.json()) as any };
  }
  return { engine, call, clock };
}

describe("human decisions over the API", () => {
  let t: ReturnType<typeof setup>;
  let thread: string;
  beforeEach(async () => {
    t = setup();
    thread = (await t.call("POST", "/api/v1/threads", {})).body.thread_id;
  });

  const propose = (extra: Record<string, unknown> = {}) =>
    t.call("POST", `/api/v1/sessions/${thread}/actions`, {
      tool: "refund",
      preview: { summary: "Refund order 42" },
      args: { to: "ada@example.com", amount: 20 },
      args_schema: SCHEMA,
      ...extra,
    });

  it("answers a proposal with its review links, each a capability of at least 128 random bits", async () => {
    const proposed = await propose({
      approvers: ["ana@example.com", "ben@example.com"],
      approvals_required: 2,
      on_expire: "deny",
      remind_before: [600, 60],
    });
    expect(proposed.status).toBe(201);
    expect(proposed.body).toMatchObject({
      status: "pending",
      args: { to: "ada@example.com", amount: 20 },
      original_args: { to: "ada@example.com", amount: 20 },
      args_changed: false,
      args_schema: SCHEMA,
      approvers: ["ana@example.com", "ben@example.com"],
      approvals_required: 2,
      approvals: [],
      on_expire: "deny",
      remind_before: [600, 60],
      decided_by: null,
      decided_via: null,
      reason: null,
    });
    const link = /^https:\/\/review\.example\.com\/r\/thread_[0-9a-f]{32}\.act_[0-9a-f]{32}\.([A-Za-z0-9_-]{43})$/;
    expect(proposed.body.review_url).toMatch(link);
    expect(Object.keys(proposed.body.review_urls)).toEqual(["ana@example.com", "ben@example.com"]);
    const secrets = [proposed.body.review_url, ...Object.values(proposed.body.review_urls)].map((url) => link.exec(url as string)![1]);
    expect(new Set(secrets).size).toBe(3);
    // The secrets are shown once: a read of the action shows none of them.
    const read = await t.call("GET", `/api/v1/sessions/${thread}/actions/${proposed.body.action_id}`);
    expect(JSON.stringify(read.body)).not.toContain(secrets[0]);
    expect(read.body.review_url).toBeUndefined();
  });

  it("keeps the seed's proposal as it was: no arguments, no approvers, one review link", async () => {
    const proposed = await t.call("POST", `/api/v1/sessions/${thread}/actions`, { tool: "send_email", preview: { to: "ada@example.com" } });
    expect(proposed.status).toBe(201);
    expect(proposed.body).toMatchObject({ args: null, args_changed: false, approvers: [], approvals_required: 1, on_expire: "cancel" });
    expect(proposed.body.review_urls).toBeUndefined();
  });

  it.each([
    [{ args: { to: "not an email" } }, "args.to"],
    [{ args: { to: "ada@example.com", amount: 501 } }, "args.amount"],
    [{ args_schema: { type: "object", properties: { note: { type: "string", pattern: "(?=a)b" } } } }, "args_schema.properties.note.pattern"],
    [{ args_schema: { patternProperties: { "^a": {} } } }, "args_schema.patternProperties"],
    [{ args_schema: "object" }, "args_schema"],
    [{ approvers: ["ana@example.com", "ana@example.com"] }, "approvers"],
    [{ approvers: [] }, "approvers"],
    [{ approvers: ["ana@example.com"], approvals_required: 2 }, "approvals_required"],
    [{ approvals_required: 2 }, "approvals_required"],
    [{ on_expire: "explode" }, "on_expire"],
    [{ remind_before: [0] }, "remind_before"],
    [{ remind_before: [60, 60] }, "remind_before"],
    [{ remind_before: "600" }, "remind_before"],
    [{ approvals: 3 }, "approvals"],
  ])("refuses %j naming %s", async (extra, field) => {
    const answer = await propose(extra);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain(field);
    const listed = await t.call("GET", `/api/v1/sessions/${thread}`);
    expect(listed.body.pending_actions).toEqual([]);
  });

  it("runs edited arguments once a person confirms them, and keeps what was proposed", async () => {
    const action = (await propose()).body.action_id;
    const bad = await t.call("POST", `/api/v1/sessions/${thread}/actions/${action}`, {
      confirmed: true,
      args: { to: "ada@example.com", amount: 9000 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain("args.amount");
    expect((await t.call("GET", `/api/v1/sessions/${thread}/actions/${action}`)).body.status).toBe("pending");
    t.clock.now += 5000;
    const confirmed = await t.call("POST", `/api/v1/sessions/${thread}/actions/${action}`, {
      confirmed: true,
      args: { to: "bo@example.com", amount: 25 },
    });
    expect(confirmed.status).toBe(202);
    expect(Object.keys(confirmed.body).sort()).toEqual(["action_id", "callback_id", "message", "status", "thread_id"]);
    const read = (await t.call("GET", `/api/v1/sessions/${thread}/actions/${action}`)).body;
    expect(read).toMatchObject({
      status: "processing",
      args: { to: "bo@example.com", amount: 25 },
      original_args: { to: "ada@example.com", amount: 20 },
      args_changed: true,
      decided_at: "2025-01-15T10:30:05.000Z",
      decided_by: expect.stringMatching(new RegExp(`^${ORG}/key_[0-9a-f]{8}$`)),
      decided_via: "api",
    });
  });

  it("keeps a reason with a no and carries it in action.cancelled, with who decided", async () => {
    const action = (await propose()).body.action_id;
    const denied = await t.call("POST", `/api/v1/sessions/${thread}/actions/${action}`, { confirmed: false, reason: "wrong recipient" }, LABELLED);
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ status: "cancelled", message: "Action cancelled" });
    const read = (await t.call("GET", `/api/v1/sessions/${thread}/actions/${action}`)).body;
    expect(read).toMatchObject({
      status: "cancelled",
      cancel_reason: "person",
      reason: "wrong recipient",
      decided_by: `${ORG}/ops`,
      decided_via: "api",
    });
    const events = await t.engine.timeline(ORG, thread);
    expect(events.find((event) => event.type === "action.cancelled")?.payload).toMatchObject({
      reason: "wrong recipient",
      decided_by: `${ORG}/ops`,
      decided_via: "api",
    });
  });

  it.each([
    [{ confirmed: true, reason: "why not" }, "reason"],
    [{ confirmed: false, args: { to: "bo@example.com" } }, "args"],
    [{ confirmed: false, reason: "x".repeat(1001) }, "reason"],
    [{ confirmed: false, reason: 5 }, "reason"],
    [{ confirmed: true, approver: "ana" }, "approver"],
  ])("refuses the decision %j naming %s, and the action stays pending", async (body, field) => {
    const action = (await propose()).body.action_id;
    const answer = await t.call("POST", `/api/v1/sessions/${thread}/actions/${action}`, body);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain(field);
    expect((await t.call("GET", `/api/v1/sessions/${thread}/actions/${action}`)).body.status).toBe("pending");
  });

  it("records a denial by the deadline with on_expire deny, and answers a later decision 410", async () => {
    const action = (await propose({ on_expire: "deny", expires_in: 60 })).body.action_id;
    t.clock.now += 61_000;
    const read = (await t.call("GET", `/api/v1/sessions/${thread}/actions/${action}`)).body;
    expect(read).toMatchObject({ status: "cancelled", cancel_reason: "denied", decided_by: "expiry", decided_via: "expiry" });
    expect((await t.call("POST", `/api/v1/sessions/${thread}/actions/${action}`, { confirmed: true })).status).toBe(410);
  });
});
