#!/usr/bin/env node
// The end-to-end smoke test: every session kind over real HTTP, with nothing but fetch, so it runs
// against any server that mounts the router (the examples, `agent-sessions serve`).
// Usage: node smoke.mjs <base url> <api key>
import { pathToFileURL } from "node:url";

/**
 * Runs the smoke test against `baseUrl` (where the router is mounted, no trailing slash) with an
 * API key; throws on the first response that differs from the documented one.
 * @param {{ baseUrl: string, key: string, log?: (line: string) => void }} options
 * @returns {Promise<{ requests: number, hostedPage: number }>}
 */
export async function runSmoke({ baseUrl, key, log = () => {} }) {
  const base = baseUrl.replace(/\/+$/, "");
  let requests = 0;

  async function call(method, path, { body, status, auth = true, accept } = {}) {
    const headers = {};
    if (auth) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    if (accept) headers.accept = accept;
    const url = path.startsWith("http") ? path : `${base}${path}`;
    const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    requests++;
    const text = await response.text();
    const expected = Array.isArray(status) ? status : [status ?? 200];
    if (!expected.includes(response.status)) {
      throw new Error(`${method} ${path}: expected ${expected.join(" or ")}, got ${response.status}: ${text.slice(0, 300)}`);
    }
    const type = response.headers.get("content-type") ?? "";
    return { status: response.status, type, body: type.includes("json") ? JSON.parse(text) : text };
  }
  const check = (condition, what) => {
    if (!condition) throw new Error(`smoke: ${what}`);
  };
  const unique = Math.random().toString(16).slice(2, 10);

  // No key, no entry.
  const denied = await call("GET", "/api/v1/sessions", { auth: false, status: 401 });
  check(denied.body.error === "Unauthorized" && denied.body.message === "Invalid or missing API key", "401 body as seed 001 shows it");
  log("401 without a key");

  // A workflow session (seed 001) waiting for an OTP that arrives while a client long-polls.
  const workflow = (await call("POST", "/api/v1/sessions", { body: { name: "user-signup-flow", metadata: { environment: "staging" } }, status: 201 }))
    .body;
  check(/^sess_[0-9a-f]{32}$/.test(workflow.id) && workflow.status === "active", `workflow created: ${JSON.stringify(workflow)}`);
  const inbox = (await call("POST", `/api/v1/sessions/${workflow.id}/inboxes`, { body: { ttlSeconds: 3600 }, status: 201 })).body;
  check(inbox.id.startsWith("inb_"), "inbox id");
  const wait = (
    await call("POST", `/api/v1/sessions/${workflow.id}/waits`, { body: { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 }, status: 201 })
  ).body;
  check(wait.id.startsWith("wait_") && wait.status === "pending", "wait pending");
  const pollStarted = Date.now();
  const poll = call("GET", `/api/v1/waits/${wait.id}?timeout=5`);
  await new Promise((resolve) => setTimeout(resolve, 150));
  const message = (
    await call("POST", `/api/v1/inboxes/${inbox.id}/messages`, {
      body: { from: "no-reply@example.com", subject: "Your verification code", body: "Your code is 482913" },
      status: 201,
    })
  ).body;
  check(message.id.startsWith("msg_"), "message id");
  const completed = (await poll).body;
  const pollMs = Date.now() - pollStarted;
  check(completed.status === "completed" && completed.result?.code === "482913", `wait completed with the code: ${JSON.stringify(completed)}`);
  check(pollMs < 4500, `the long-poll was woken by the message, not by its timeout (${pollMs} ms)`);
  const replay = (await call("POST", `/api/v1/sessions/${workflow.id}/replay`)).body;
  check(replay.steps.map((step) => step.action).join(",") === "create_inbox,create_wait", "replay steps");
  const timeline = (await call("GET", `/api/v1/sessions/${workflow.id}/timeline`)).body;
  check(
    timeline.events.some((event) => event.type === "wait.completed"),
    "wait.completed on the timeline",
  );
  const done = (await call("POST", `/api/v1/sessions/${workflow.id}/complete`)).body;
  check(done.status === "completed" && typeof done.completedAt === "string", "workflow completed");
  log(`workflow: inbox, OTP wait long-polled (${pollMs} ms), code 482913, replay, complete`);

  // A form and a form session (seed 000), its hosted page, and an extension.
  const slug = `support-intake-${unique}`;
  const form = (
    await call("POST", "/v1/forms", {
      body: {
        name: "Support intake",
        slug,
        fields: [
          { name: "email", label: "Email", type: "email", required: true },
          { name: "issue", label: "What happened?", type: "textarea", required: true },
          { name: "session_id", type: "hidden" },
        ],
        allowPartial: true,
      },
      status: 201,
    })
  ).body;
  check(form.id.startsWith("form_"), "form id");
  const session = (
    await call("POST", `/v1/forms/${slug}/sessions`, {
      body: { expires_in: 3600, prefill: { email: "user@example.com" }, metadata: { thread_id: "thread_42" } },
      status: 201,
    })
  ).body;
  check(
    session.id.startsWith("sess_") && session.status === "created" && session.url === `${base}/f/${session.id}`,
    `form session: ${JSON.stringify(session)}`,
  );
  const page = await call("GET", session.url, { auth: false, status: [200, 404] });
  if (page.status === 200) {
    check(page.type.includes("text/html") && page.body.includes("user@example.com"), "hosted page is HTML with the prefill");
    log(`hosted page ${session.url}: 200 HTML`);
  } else {
    log(`hosted page ${session.url}: 404 (the hosted page route is not mounted in this build)`);
  }
  const read = (await call("GET", `/v1/sessions/${session.id}`)).body;
  check(
    read.id === session.id && read.url === session.url && read.metadata.thread_id === "thread_42",
    `form session read back: ${JSON.stringify(read)}`,
  );
  const extended = (await call("PATCH", `/v1/sessions/${session.id}`, { body: { expires_in: 1800 } })).body;
  const pushedBy = (Date.parse(extended.expires_at) - Date.parse(session.expires_at)) / 1000;
  check(pushedBy === 1800, `extend pushed expires_at by 1800 s (got ${pushedBy})`);
  log("form session: created, read back, hosted url, extended by 1800 s");
  if (page.status === 200) {
    // The person submits the page as a browser does: an urlencoded post to the page's own URL.
    const posted = await fetch(session.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: "person@example.com", issue: "The login button does nothing & then 500s" }).toString(),
    });
    requests++;
    const thanks = await posted.text();
    check(
      posted.status === 200 && (posted.headers.get("content-type") ?? "").includes("text/html"),
      `hosted submit answers 200 HTML (got ${posted.status})`,
    );
    check(!thanks.includes("<form"), "the answer to the submit is the thank-you page, not the form again");
    const submitted = (await call("GET", `/v1/sessions/${session.id}`)).body;
    check(
      submitted.status === "submitted" &&
        submitted.submission?.values?.email === "person@example.com" &&
        submitted.submission?.values?.issue === "The login button does nothing & then 500s",
      `the API reads the submitted values: ${JSON.stringify(submitted)}`,
    );
    log("hosted page: submitted as an urlencoded form, the API reads the values");
  }

  // A conversation thread (seed 002): context variables, a pending action confirmed, a close.
  const thread = (await call("POST", "/api/v1/threads", { body: { context_variables: { USER_PLAN: "pro" } }, status: 201 })).body;
  check(thread.thread_id.startsWith("thread_") && thread.status === "active", "thread created");
  const updated = (
    await call("PATCH", `/api/v1/sessions/${thread.thread_id}`, {
      body: { context_variables: { USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" } },
    })
  ).body;
  check(updated.context_variables.USER_PLAN === "enterprise" && updated.context_variables.ACCOUNT_STATUS === "active", "context updated");
  const refused = await call("PATCH", `/api/v1/sessions/${thread.thread_id}`, { body: { context_variables: { userPlan: "pro" } }, status: 400 });
  check(refused.body.message.includes("userPlan"), "a lower-case key is refused by name");
  const action = (
    await call("POST", `/api/v1/sessions/${thread.thread_id}/actions`, {
      body: { tool: "send_email", preview: { to: "user@example.com", subject: "Order Confirmation" }, expires_in: 300 },
      status: 201,
    })
  ).body;
  check(action.action_id.startsWith("act_") && action.status === "pending", "action proposed");
  const confirmed = (
    await call("POST", `/api/v1/sessions/${thread.thread_id}/actions/${action.action_id}`, { body: { confirmed: true }, status: 202 })
  ).body;
  check(confirmed.callback_id?.startsWith("cb_"), `confirm answers 202 with a callback id: ${JSON.stringify(confirmed)}`);
  const closed = (await call("POST", `/api/v1/sessions/${thread.thread_id}/close`)).body;
  check(Number.isInteger(closed.duration_seconds) && typeof closed.billable === "boolean", `close: ${JSON.stringify(closed)}`);
  log(`thread: context variables, action confirmed (202), closed (${closed.duration_seconds} s, billable ${closed.billable})`);

  // An agent and an agent session (seed 003).
  const agent = (await call("POST", "/v1/agents", { body: { name: `support-agent-${unique}` }, status: 201 })).body;
  check(/^agent_[0-9a-f]{32}$/.test(agent.id), "agent id is agent_ and 32 hex");
  const agentSession = (
    await call("POST", "/v1/sessions", {
      body: { agent_id: agent.id, title: "Debug login issue", tags: ["debugging", "urgent"] },
      status: 201,
    })
  ).body;
  check(agentSession.id.startsWith("session_") && agentSession.agent_id === agent.id && agentSession.status === "started", "agent session");
  const invalid = await call("POST", "/v1/sessions", { body: { agent_id: "agent_nope" }, status: 400 });
  check(invalid.body.message.includes("Invalid agent ID"), "a malformed agent id is refused");
  log("agent session: created for its agent");

  return { requests, hostedPage: page.status };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [baseUrl, key] = process.argv.slice(2);
  if (!baseUrl || !key) {
    console.error("usage: node smoke.mjs <base url> <api key>");
    process.exit(2);
  }
  const started = Date.now();
  const { requests } = await runSmoke({ baseUrl, key, log: (line) => console.log(`ok  ${line}`) });
  console.log(`smoke: ${requests} requests passed in ${Date.now() - started} ms`);
}
