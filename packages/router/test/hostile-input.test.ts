import { createEngine } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import { beforeEach, describe, expect, it } from "vitest";

// The rows of issue 16's table that the JSON boundary, the id check and the list parameters
// answer, replayed through the router on the memory store; the same answers on every store come
// from their being given before any store is asked (the fuzz suite runs them on each).

const KEY = "key_of_org_a";
const ORG = "org_00000000000000000000000000000001";

function setup() {
  const store = new MemoryStore();
  const engine = createEngine({ store });
  const errors: unknown[] = [];
  const router = createRouter({ engine, apiKeys: [{ orgId: ORG, key: KEY }], onError: (error) => errors.push(error) });
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...headers } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await router.fetch(new Request(`http://localhost${path}`, init));
    const text = await response.text();
    let json: any = text;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, body: json, type: response.headers.get("content-type") ?? "" };
  }
  /** Every list of the organization, with its total: what a refused request must leave as it was. */
  async function lists() {
    const paths = ["/api/v1/sessions", "/v1/forms", "/v1/agents", "/v1/sessions", "/v1/webhooks"];
    const answers = await Promise.all(paths.map((path) => call("GET", path)));
    for (const answer of answers) expect(answer.status).toBe(200);
    return answers.map((answer) => answer.body);
  }
  return { store, engine, router, call, lists, errors };
}

/** JSON text of `levels` arrays, one inside the next. */
const deepArrays = (levels: number) => `${"[".repeat(levels)}1${"]".repeat(levels)}`;

describe("hostile input through the router", () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it("row 1-2: refuses free-form JSON nested past 32 levels with a 400 naming the path, and writes nothing", async () => {
    const before = await t.lists();
    const created = await t.call("POST", "/api/v1/sessions", `{"name":"x","metadata":{"a":${deepArrays(2500)}}}`);
    expect(created.status).toBe(400);
    expect(created.body).toEqual({
      error: "Invalid request",
      message: expect.stringMatching(/^metadata\.a(\[0\])+.*: nested deeper than 32 levels$/),
    });
    expect(await t.lists()).toEqual(before);

    const workflow = await t.call("POST", "/api/v1/sessions", { name: "x" });
    const thread = await t.call("POST", "/api/v1/threads", {});
    const agent = await t.call("POST", "/v1/agents", { name: "a" });
    const hostile: Array<[string, string, string]> = [
      ["POST", "/v1/agents", `{"name":"a","capabilities":[{"ref":"r","config":{"c":${deepArrays(5000)}}}]}`],
      ["POST", `/api/v1/sessions/${workflow.body.id}/steps`, `{"action":"a","durationMs":1,"input":${deepArrays(100000)}}`],
      ["POST", `/api/v1/sessions/${workflow.body.id}/steps`, `{"action":"a","durationMs":1,"output":{"o":${deepArrays(40)}}}`],
      ["POST", `/api/v1/sessions/${thread.body.thread_id}/actions`, `{"tool":"t","preview":{"p":${deepArrays(3000)}}}`],
      ["PATCH", `/api/v1/sessions/${thread.body.thread_id}`, `{"context_variables":{"A":${deepArrays(3000)}}}`],
      ["POST", "/api/v1/threads", `{"metadata":{"m":${deepArrays(33)}}}`],
      ["POST", "/v1/sessions", `{"agent_id":"${agent.body.id}","capabilities":[{"ref":"r","config":{"c":${deepArrays(3000)}}}]}`],
    ];
    for (const [method, path, body] of hostile) {
      const answer = await t.call(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.body.message, `${method} ${path}`).toMatch(/: nested deeper than 32 levels$/);
    }
    // 32 levels inside an open value are fine.
    expect((await t.call("POST", "/api/v1/threads", `{"metadata":{"m":${deepArrays(32)}}}`)).status).toBe(201);
    expect(t.errors).toEqual([]);
  });

  it("row 3: refuses NUL and lone surrogates in any text with a 400 naming the field, and ids that cannot be ids with a 404", async () => {
    const bad: Array<[string, string, string, string]> = [
      ["POST", "/api/v1/sessions", '{"name":"a\\u0000b"}', "name: must not contain the NUL character (U+0000)"],
      ["POST", "/api/v1/sessions", '{"name":"a\\ud800b"}', "name: must be well-formed Unicode (it holds a lone surrogate)"],
      ["POST", "/api/v1/sessions", '{"name":"x","metadata":{"k\\u0000":1}}', "metadata: keys must not contain the NUL character (U+0000) (k\\u0000)"],
      [
        "POST",
        "/v1/forms",
        '{"name":"f","fields":[{"name":"a","type":"text","label":"\\udc00"}]}',
        "fields[0].label: must be well-formed Unicode (it holds a lone surrogate)",
      ],
      ["POST", "/api/v1/threads", '{"context_variables":{"A":"\\u0000"}}', "context_variables.A: must not contain the NUL character (U+0000)"],
    ];
    for (const [method, path, body, message] of bad) {
      expect(await t.call(method, path, body)).toMatchObject({ status: 400, body: { error: "Invalid request", message } });
    }
    const ids = ["%00", "a%00b", "..%2f..%2fetc", "x".repeat(3000), "sess_%00", "thread_zz", "%ED%9F%BF"];
    for (const id of ids) {
      for (const path of [
        `/v1/forms/${id}`,
        `/v1/sessions/${id}`,
        `/api/v1/sessions/${id}`,
        `/api/v1/sessions/${id}/timeline`,
        `/api/v1/inboxes/${id}`,
        `/api/v1/waits/${id}`,
        `/v1/webhooks/${id}`,
        `/api/v1/sessions/${id}/events`,
      ]) {
        const answer = await t.call("GET", path);
        expect(answer.status, path).toBe(404);
        expect(answer.body.message.length, path).toBeLessThan(120);
      }
      expect((await t.call("POST", `/v1/forms/${id}/sessions`, {})).status).toBe(404);
      expect((await t.call("PATCH", `/api/v1/sessions/${id}`, { context_variables: {} })).status).toBe(404);
    }
    expect(t.errors).toEqual([]);
  });

  it("row 6: refuses a limit or offset that is not an exact whole number in range, and a repeated one", async () => {
    for (const query of [
      "offset=1e30",
      "offset=9007199254740993",
      "offset=-1",
      "offset=1.5",
      "limit=0",
      "limit=101",
      "limit=1&limit=2",
      "cursor=%00",
    ]) {
      for (const path of ["/api/v1/sessions", "/v1/sessions", "/v1/forms", "/v1/agents", "/v1/webhooks"]) {
        const answer = await t.call("GET", `${path}?${query}`);
        expect(answer.status, `${path}?${query}`).toBe(400);
        expect(Object.keys(answer.body).sort()).toEqual(["error", "message"]);
      }
    }
    const last = await t.call("GET", `/api/v1/sessions?offset=${Number.MAX_SAFE_INTEGER}`);
    expect(last).toMatchObject({ status: 200, body: { data: [], pagination: { offset: Number.MAX_SAFE_INTEGER, total: 0 } } });
  });

  it("row 9: refuses a metadata key of 201 characters and takes one of 200", async () => {
    expect((await t.call("POST", "/api/v1/sessions", { name: "x", metadata: { ["k".repeat(200)]: 1 } })).status).toBe(201);
    const refused = await t.call("POST", "/api/v1/sessions", { name: "x", metadata: { ["k".repeat(201)]: 1 } });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/^metadata: keys must be at most 200 characters \(one has 201/);
  });

  it("row 10: keeps usage counters exact, refusing a sum past 2^53 - 1 and a counter past it", async () => {
    const agent = await t.call("POST", "/v1/agents", { name: "a" });
    const session = await t.call("POST", "/v1/sessions", { agent_id: agent.body.id });
    const path = `/v1/sessions/${session.body.id}/messages`;
    expect((await t.call("POST", path, `{"role":"user","content":"hi","usage":{"input_tokens":1e308}}`)).status).toBe(400);
    expect((await t.call("POST", path, { role: "user", content: "hi", usage: { input_tokens: 2 ** 53 + 2 } })).status).toBe(400);
    const badKey = await t.call("POST", path, { role: "user", content: "hi", usage: { "Input-Tokens": "many" } });
    expect(badKey).toMatchObject({ status: 400, body: { message: "usage.Input-Tokens is not a valid key: keys must match ^[a-z][a-z0-9_]*$" } });
    expect(
      (await t.call("POST", path, { role: "user", content: "hi", usage: { input_tokens: Number.MAX_SAFE_INTEGER - 1, constructor: 1 } })).status,
    ).toBe(200);
    const over = await t.call("POST", path, { role: "assistant", content: "yo", usage: { input_tokens: 2 } });
    expect(over).toMatchObject({ status: 400, body: { message: "usage.input_tokens: the session's total would pass 9007199254740991" } });
    const read = await t.call("GET", `/v1/sessions/${session.body.id}`);
    expect(read.body.usage).toEqual({ input_tokens: Number.MAX_SAFE_INTEGER - 1, constructor: 1 });
    expect(read.body.status).toBe("active");
  });

  it("row 7: refuses form fields named after members of every JavaScript object", async () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      const refused = await t.call("POST", "/v1/forms", {
        name: "f",
        fields: [
          { name: "email", type: "email" },
          { name, type: "text" },
        ],
      });
      expect(refused.status, name).toBe(400);
      expect(refused.body.message).toBe(`fields[1].name: "${name}" is reserved: every JavaScript object has a member of that name`);
    }
    expect((await t.call("GET", "/v1/forms")).body.pagination.total).toBe(0);
  });

  it("row 7: a submission naming a prototype member is refused as an unknown field, not taken from the prototype", async () => {
    const form = await t.call("POST", "/v1/forms", { name: "f", fields: [{ name: "topic", type: "text", required: true }] });
    const session = await t.call("POST", `/v1/forms/${form.body.id}/sessions`, { prefill: { topic: "printer" } });
    const id = session.body.id;
    for (const values of [JSON.parse('{"__proto__": "x", "topic": "fire"}'), { constructor: "x" }, { toString: "x" }]) {
      await expect(t.engine.formSessions.submit(id, { values })).rejects.toMatchObject({
        code: "invalid_input",
        message: expect.stringMatching(/is not a field of this form$/),
      });
    }
    expect((await t.engine.formSessions.submit(id, { values: { topic: "fire" } })).submission?.values).toEqual({ topic: "fire" });
  });
});
