// The seed documents' own client usage, run with @agent-sessions/client against a live server, on
// any runtime: node seeds.mjs <base url> <api key> (or bun, or deno run --allow-net).
// It throws (and exits non-zero) on the first answer that differs from what the seeds document.
import { ApiError, createClient } from "../../packages/client/dist/index.js";

const [baseUrl, apiKey] = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
if (!baseUrl || !apiKey) throw new Error("usage: seeds.mjs <base url> <api key>");
const client = createClient({ baseUrl, apiKey });
const check = (condition, what) => {
  if (!condition) throw new Error(`seeds: ${what}`);
  console.log(`ok ${what}`);
};

// Seed 001: workflow sessions, verbatim.
const session = await client.sessions.create({ name: "user-signup-flow", metadata: { environment: "staging" } });
check(/^sess_[0-9a-f]{32}$/.test(session.id) && session.status === "active", "sessions.create");
const sessions = await client.sessions.list({ status: "active", limit: 20, offset: 0 });
check(sessions.data.length >= 1 && sessions.pagination.limit === 20, "sessions.list returns { data, pagination }");
const inbox = await client.inboxes.create(session.id, { ttlSeconds: 3600 });
const wait = await client.waits.create(session.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 120 });
const fetched = await client.sessions.get(session.id);
check(fetched.inboxes[0] === inbox.id && fetched.waits[0] === wait.id, "sessions.get has .inboxes and .waits");
const done = client.waits.waitFor(wait.id);
await new Promise((resolve) => setTimeout(resolve, 100));
await client.messages.create(inbox.id, { from: "no-reply@example.com", subject: "Your code", body: "Your verification code is 482913" });
const completedWait = await done;
check(completedWait.status === "completed" && completedWait.result?.code === "482913", "waits.waitFor resolves with the OTP");
const timeline = await client.sessions.timeline(session.id);
check(timeline.events.map((event) => event.type).includes("wait.completed"), "sessions.timeline has .events");
const replay = await client.sessions.replay(session.id);
check(replay.steps[0]?.action === "create_inbox" && replay.steps[1]?.action === "create_wait", "sessions.replay has the steps");
const seen = [];
for await (const event of client.sessions.events(session.id)) {
  seen.push(event.type);
  if (event.type === "wait.completed") break;
}
check(seen[0] === "session.created", "for await (const event of client.sessions.events(id))");
check((await client.sessions.complete(session.id)).status === "completed", "sessions.complete");

// Seed 000: a form and a session of it, created by slug, then extended.
const slug = `support-intake-${Math.random().toString(16).slice(2, 8)}`;
await client.forms.create({
  name: "Support intake",
  slug,
  fields: [
    { name: "email", type: "email", required: true },
    { name: "session_id", type: "hidden" },
  ],
});
const formSession = await client.formSessions.create(slug, {
  expires_in: 3600,
  prefill: { email: "user@example.com", session_id: "sess_internal_ref" },
  metadata: { thread_id: "thread_42" },
});
check(formSession.status === "created" && formSession.url.endsWith(`/f/${formSession.id}`), "formSessions.create gives the hosted url");
const extended = await client.formSessions.extend(formSession.id, { expires_in: 1800 });
check(Date.parse(extended.expires_at) - Date.parse(formSession.expires_at) === 1_800_000, "formSessions.extend by 1800 s");

// Seed 002: context variables, a cancelled action, closing.
const thread = await client.threads.create();
const updated = await client.threads.updateContext(thread.thread_id, { context_variables: { USER_PLAN: "enterprise", ACCOUNT_STATUS: "active" } });
check(updated.context_variables.USER_PLAN === "enterprise", "threads.updateContext");
const action = await client.actions.propose(thread.thread_id, { tool: "send_email", preview: { to: "user@example.com" } });
const cancelled = await client.actions.cancel(thread.thread_id, action.action_id);
check(cancelled.status === "cancelled" && cancelled.message === "Action cancelled", "actions.cancel");
check((await client.threads.close(thread.thread_id)).thread_id === thread.thread_id, "threads.close");

// Seed 003: an agent session, and its refusal of a malformed agent id.
const agent = await client.agents.create({ name: "Support bot" });
const agentSession = await client.agentSessions.create({ agent_id: agent.id, tags: ["debugging", "urgent"], title: "Debug login issue" });
check(agentSession.status === "started" && agentSession.agent_id === agent.id, "agentSessions.create");
const refused = await client.agentSessions.create({ agent_id: "agent_nope" }).catch((error) => error);
check(refused instanceof ApiError && refused.status === 400 && refused.message.includes("Invalid agent ID"), "ApiError with status, error, message");
