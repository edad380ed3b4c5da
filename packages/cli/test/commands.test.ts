// The resource commands of the real binary (forms, sessions, threads, actions, webhooks) against a
// real `serve` process, as seed 000 writes them; --json output parsed; bad input named in one line.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@agent-sessions/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { bin, run } from "./binary.js";
import { type Started, start, stop, waitForOutput } from "./processes.js";

const KEY = "cli-test-key";
/** A second key of the same organization, with a label: its decisions record `decided_by: "org_cli/ops-bot"`. */
const LABELLED_KEY = "cli-test-labelled-key";
let server: Started;
let url: string;
let env: Record<string, string>;
let receiver: Server;
let hooks: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "agent-sessions-cli-"));
const formFile = join(dir, "form.json");

beforeAll(async () => {
  server = start(
    process.execPath,
    [bin, "serve", "--port", "0", "--api-key", `org_cli:${KEY}`, "--api-key", `org_cli/ops-bot:${LABELLED_KEY}`, "--allow-private-webhooks"],
    {
      env: { AGENT_SESSIONS_STORE: "memory", AGENT_SESSIONS_API_KEYS: undefined, PORT: undefined },
    },
  );
  const banner = await waitForOutput(server, (stdout) => stdout.includes("Press Ctrl-C to stop."));
  url = /listening on (http:\/\/\S+)/.exec(banner)![1]!;
  env = { AGENT_SESSIONS_URL: url, AGENT_SESSIONS_API_KEY: KEY };
  receiver = createServer((request, response) => {
    hooks.push(String(request.headers["webhook-id"]));
    request.resume().on("end", () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  writeFileSync(
    formFile,
    JSON.stringify({
      name: "Support intake",
      slug: "support-intake",
      allowPartial: true,
      fields: [
        { name: "email", label: "Email", type: "email", required: true },
        { name: "issue", type: "textarea", required: true },
        { name: "session_id", type: "hidden" },
      ],
    }),
  );
  const created = await cli(["forms", "create", "--file", formFile, "--json"]);
  expect(created.code, created.stderr).toBe(0);
});

afterAll(async () => {
  await stop(server, "SIGKILL");
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

/** Runs the binary with the server's URL and key in the environment. */
async function cli(args: string[], extra: Record<string, string | undefined> = {}) {
  return run(args, { ...env, ...extra });
}

/** Runs with --json and parses standard output. */
async function json<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const result = await cli([...args, "--json"]);
  expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as T;
}

/** A failure: the exit code, and exactly one line on stderr that matches. */
async function fails(args: string[], code: number, message: RegExp, extra: Record<string, string | undefined> = {}) {
  const result = await cli(args, extra);
  expect(result.code, result.stdout).toBe(code);
  expect(result.stderr.trimEnd().split("\n"), result.stderr).toHaveLength(1);
  expect(result.stderr.trimEnd()).toMatch(message);
  expect(result.stdout).toBe("");
}

const submit = (id: string, fields: Record<string, string>) =>
  fetch(`${url}/f/${id}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) });

describe("forms", () => {
  it("create --file, list and get, as tables and as JSON", async () => {
    const list = await json<{ data: { slug: string; id: string }[]; pagination: { total: number } }>(["forms", "list"]);
    expect(list.data.map((form) => form.slug)).toEqual(["support-intake"]);
    expect(list.pagination.total).toBe(1);
    const table = await cli(["forms", "list"]);
    expect(table.stdout).toMatch(/^ID\s+SLUG\s+NAME\s+FIELDS\s+CREATED\n/);
    expect(table.stdout).toContain("support-intake  Support intake  email,issue,session_id");
    expect(table.stdout).toContain("1-1 of 1");

    const form = await json<{ id: string; fields: unknown[] }>(["forms", "get", "support-intake"]);
    expect(form.id).toBe(list.data[0]!.id);
    expect(form.fields).toHaveLength(3);
    expect((await cli(["forms", "get", form.id])).stdout).toMatch(/email\s+email\s+yes\s+Email/);
  });

  it("names a missing file, a file that is not JSON, and the field the server refuses", async () => {
    await fails(["forms", "create"], 2, /^agent-sessions forms create: --file is required/);
    await fails(["forms", "create", "--file", join(dir, "nope.json")], 2, /--file: cannot read .*nope\.json: no such file/);
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ name: ");
    await fails(["forms", "create", "--file", broken], 2, /--file: .*broken\.json is not JSON/);
    const extra = join(dir, "extra.json");
    writeFileSync(extra, JSON.stringify({ name: "X", fields: [{ name: "a", type: "text" }], colour: "red" }));
    await fails(["forms", "create", "--file", extra], 1, /^agent-sessions forms create: .*colour.*\(400 Invalid request\)$/);
  });
});

describe("sessions (form sessions, seed 000)", () => {
  it("creates with the seed's command line verbatim, extends by 1800 and reads it back", async () => {
    const created = await cli(["sessions", "create", "support-intake", "--expires-in", "3600", "--prefill", "email=user@example.com"]);
    expect(created.code, created.stderr).toBe(0);
    const id = /^id\s+(sess_[0-9a-f]{32})$/m.exec(created.stdout)![1]!;
    expect(created.stdout).toMatch(new RegExp(`^url\\s+${url}/f/${id}$`, "m"));
    expect(created.stdout).toMatch(/^status\s+created$/m);

    const before = await json<{ expires_at: string; prefill: object }>(["sessions", "get", id]);
    expect(before.prefill).toEqual({ email: "user@example.com" });
    const extended = await cli(["sessions", "extend", id, "--by", "1800"]);
    expect(extended.code, extended.stderr).toBe(0);
    const after = await json<{ expires_at: string }>(["sessions", "get", id]);
    expect(Date.parse(after.expires_at) - Date.parse(before.expires_at)).toBe(1800 * 1000);

    const withMetadata = await json<{ metadata: object; expires_at: string; created_at: string }>([
      "sessions",
      "create",
      "support-intake",
      "--expires-in",
      "60",
      "--metadata",
      "thread_id=thread_42",
      "--prefill",
      "session_id=sess_internal_ref",
    ]);
    expect(withMetadata.metadata).toEqual({ thread_id: "thread_42" });
    expect(Date.parse(withMetadata.expires_at) - Date.parse(withMetadata.created_at)).toBe(60_000);

    const reminded = await json<{ remind_before: number[] }>(["sessions", "create", "support-intake", "--remind-before", "600, 60"]);
    expect(reminded.remind_before).toEqual([600, 60]);
  });

  it("waits for the submission and prints it; JSON too; an expired session exits 1", async () => {
    const { id } = await json<{ id: string }>(["sessions", "create", "support-intake", "--prefill", "email=user@example.com"]);
    const waiting = cli(["sessions", "wait", id]);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await submit(id, { email: "user@example.com", issue: "It broke" })).status).toBe(200);
    const waited = await waiting;
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toBe(""); // not a terminal: no spinner
    expect(waited.stdout).toMatch(/^submitted at \S+\nFIELD\s+VALUE\nemail\s+user@example\.com\nissue\s+It broke\n$/);

    const again = await json<{ status: string; submission: { values: object; partial: boolean } }>(["sessions", "wait", id]);
    expect(again).toMatchObject({ status: "submitted", submission: { values: { email: "user@example.com", issue: "It broke" }, partial: false } });

    const { id: short } = await json<{ id: string }>(["sessions", "create", "support-intake", "--expires-in", "1"]);
    await fails(["sessions", "wait", short], 1, new RegExp(`^agent-sessions sessions wait: ${short} expired at \\S+ without a submission$`));
    const { id: open } = await json<{ id: string }>(["sessions", "create", "support-intake"]);
    await fails(["sessions", "wait", open, "--timeout", "0.5"], 1, new RegExp(`${open} is still waiting for a submission after 0.5 s`));
  });

  it("gets workflow sessions too", async () => {
    const client = createClient({ baseUrl: url, apiKey: KEY });
    const workflow = await client.sessions.create({ name: "user-signup-flow", metadata: { environment: "staging" } });
    expect(await json(["sessions", "get", workflow.id])).toMatchObject({ id: workflow.id, name: "user-signup-flow", status: "active" });
  });

  it("creates a wait with its options, holds until a matching message completes it, and names what is wrong", async () => {
    const client = createClient({ baseUrl: url, apiKey: KEY });
    const workflow = await client.sessions.create({ name: "sign-in" });
    const inbox = await client.inboxes.create(workflow.id, { ttlSeconds: 600 });
    const created = await json<{ id: string }>([
      "waits",
      "create",
      workflow.id,
      inbox.id,
      "--timeout",
      "60",
      "--pattern",
      "PIN (\\d{4})",
      "--since",
      "2025-01-15T10:30:00Z",
      "--resolve-with",
      '{"code":null}',
      "--remind-before",
      "30,10",
    ]);
    expect(created).toMatchObject({
      type: "otp",
      status: "pending",
      timeoutSeconds: 60,
      timed_out: false,
      on_timeout: { resolve_with: { code: null } },
      pattern: "PIN (\\d{4})",
      since: "2025-01-15T10:30:00.000Z",
      remind_before: [30, 10],
    });
    const held = cli(["waits", "wait", created.id, "--timeout", "10", "--json"]);
    await client.messages.create(inbox.id, { from: "bank@example.com", subject: "Sign-in", body: "Your code is 123456" });
    await client.messages.create(inbox.id, { from: "bank@example.com", subject: "Sign-in", body: "Your PIN 4321" });
    const answered = await held;
    expect(answered.code, answered.stderr).toBe(0);
    expect(JSON.parse(answered.stdout)).toMatchObject({ id: created.id, status: "completed", timed_out: false, result: { code: "4321" } });
    expect(await json(["waits", "get", created.id])).toMatchObject({ status: "completed" });

    const plain = await json<{ id: string }>([
      "waits",
      "create",
      workflow.id,
      inbox.id,
      "--timeout",
      "60",
      "--type",
      "message",
      "--on-timeout",
      "fail",
    ]);
    expect(plain).toMatchObject({ type: "message", on_timeout: "fail" });
    await fails(
      ["waits", "create", workflow.id, inbox.id, "--timeout", "60", "--on-timeout", "explode"],
      2,
      /^agent-sessions waits create: --on-timeout: 'explode' is not fail or resolve_with=<json>/,
    );
    await fails(["waits", "create", workflow.id, inbox.id, "--timeout", "60", "--resolve-with", "{nope"], 2, /--resolve-with: '\{nope' is not JSON/);
    await fails(
      ["waits", "create", workflow.id, inbox.id, "--timeout", "60", "--remind-before", "0,60"],
      2,
      /--remind-before: '0,60' is not a comma-separated list/,
    );
    await fails(["waits", "create", workflow.id, inbox.id], 2, /--timeout is required/);
    await fails(
      ["waits", "create", workflow.id, inbox.id, "--timeout", "60", "--pattern", "(?=x)(\\d+)"],
      1,
      /pattern is not a regular expression the linear-time engine \(RE2 syntax\) accepts: invalid or unsupported Perl syntax: `\(\?=` \(400 Invalid request\)$/,
    );
    await fails(
      ["waits", "create", workflow.id, inbox.id, "--timeout", "60", "--since", "tomorrow"],
      1,
      /since: must be an ISO 8601 date-time with a time zone/,
    );
    const short = await json<{ id: string }>(["waits", "create", workflow.id, inbox.id, "--timeout", "60"]);
    await fails(["waits", "wait", short.id, "--timeout", "0.2"], 1, new RegExp(`${short.id} is still pending`));
  });

  it("lists form sessions, newest first, by status", async () => {
    const { id: waiting } = await json<{ id: string }>(["sessions", "create", "support-intake"]);
    const { id: answered } = await json<{ id: string }>(["sessions", "create", "support-intake"]);
    expect((await submit(answered, { email: "user@example.com", issue: "Listed" })).status).toBe(200);
    const submitted = await json<{ data: { id: string; status: string }[] }>(["sessions", "list", "--status", "submitted", "--limit", "100"]);
    expect(submitted.data.map((s) => s.id)).toContain(answered);
    expect(submitted.data.map((s) => s.id)).not.toContain(waiting);
    expect(new Set(submitted.data.map((s) => s.status))).toEqual(new Set(["submitted"]));
    const newest = await json<{ data: { id: string }[]; pagination: { total: number } }>(["sessions", "list", "--limit", "2"]);
    expect(newest.data.map((s) => s.id)).toEqual([answered, waiting]);
    const table = await cli(["sessions", "list", "--limit", "1"]);
    expect(table.stdout).toMatch(new RegExp(`^ID\\s+FORM\\s+STATUS\\s+EXPIRES\\s+CREATED\n${answered}\\s`));
    expect(table.stdout).toContain(`1-1 of ${newest.pagination.total}; --offset 1 for more`);
    await fails(["sessions", "list", "--status", "done"], 2, /--status: 'done' is not one of created, open, submitted, expired/);
  });

  it("refuses an unknown form, a malformed --prefill, a bad number and a missing key, each in one line", async () => {
    await fails(["sessions", "create", "no-such-form"], 1, /^agent-sessions sessions create: Form no-such-form not found \(404 Not found\)$/);
    await fails(
      ["sessions", "create", "support-intake", "--prefill", "email"],
      2,
      /^agent-sessions sessions create: --prefill: 'email' is not <field>=<value> \(e\.g\. --prefill email=user@example\.com\)/,
    );
    await fails(["sessions", "create", "support-intake", "--prefill", "=x"], 2, /--prefill: '=x' is not <field>=<value>/);
    await fails(["sessions", "create", "support-intake", "--prefill", "nmae=x"], 1, /prefill\.nmae.*\(400 Invalid request\)$/);
    await fails(
      ["sessions", "create", "support-intake", "--expires-in", "soon"],
      2,
      /--expires-in: 'soon' is not a whole number of seconds \(1 or more\)/,
    );
    await fails(
      ["sessions", "create", "support-intake", "--remind-before", "10m"],
      2,
      /--remind-before: '10m' is not a comma-separated list of whole numbers of seconds \(e\.g\. --remind-before 600,60\)/,
    );
    await fails(
      ["sessions", "create", "support-intake", "--remind-before", "60,60"],
      1,
      /remind_before: must not repeat an item \(400 Invalid request\)$/,
    );
    await fails(["sessions", "extend", "sess_x"], 2, /--by is required/);
    await fails(
      ["sessions", "create", "support-intake"],
      2,
      /^agent-sessions sessions create: no API key: set AGENT_SESSIONS_API_KEY or pass --api-key/,
      {
        AGENT_SESSIONS_API_KEY: undefined,
      },
    );
    await fails(["sessions", "create", "support-intake", "--api-key", "wrong"], 1, /Invalid or missing API key \(401 Unauthorized; check --api-key/);
    await fails(["sessions", "get"], 2, /^agent-sessions sessions get: missing <id> \(see 'agent-sessions sessions get --help'\)$/);
    await fails(["sessions", "get", "a", "b"], 2, /unexpected argument 'b'/);
    await fails(["sessions", "get", "sess_x", "--colour"], 2, /unknown option '--colour'/);
    await fails(["sessions", "frobnicate"], 2, /unknown command 'frobnicate'; the commands are: create, extend, get, list, wait/);
    await fails(["sessions", "get", "sess_x", "--url", "localhost:3000"], 2, /--url: 'localhost:3000' must start with http:\/\/ or https:\/\//);
    await fails(
      ["forms", "list"],
      1,
      /^agent-sessions forms list: cannot reach http:\/\/127\.0\.0\.1:9 \(.*\); is 'agent-sessions serve' running there\?/,
      {
        AGENT_SESSIONS_URL: "http://127.0.0.1:9",
      },
    );
  });
});

describe("threads and actions (seed 002)", () => {
  it("sets, removes and shows context variables, confirms and cancels actions, closes the thread", async () => {
    const created = await json<{ thread_id: string }>(["threads", "create", "USER_PLAN=free"]);
    const id = created.thread_id;
    const vars = await json<{ context_variables: object }>(["threads", "vars", id, "USER_PLAN=enterprise", "ACCOUNT_STATUS=active", "SEATS:=5"]);
    expect(vars.context_variables).toEqual({ USER_PLAN: "enterprise", ACCOUNT_STATUS: "active", SEATS: 5 });
    const removed = await json<{ context_variables: object }>(["threads", "vars", id, "--unset", "ACCOUNT_STATUS"]);
    expect(removed.context_variables).toEqual({ USER_PLAN: "enterprise", SEATS: 5 });
    const shown = await cli(["threads", "vars", id]);
    expect(shown.stdout).toMatch(/^VARIABLE\s+VALUE\nUSER_PLAN\s+enterprise\nSEATS\s+5\n$/);
    await fails(["threads", "vars", id, "userPlan=x"], 1, /context_variables\.userPlan: keys must be UPPERCASE_SNAKE_CASE/);
    await fails(["threads", "vars", id, "SEATS:=five"], 2, /SEATS: 'five' is not JSON/);
    await fails(["threads", "vars", id, "PLAN"], 2, /'PLAN' is not KEY=VALUE or KEY:=JSON/);

    const client = createClient({ baseUrl: url, apiKey: KEY });
    const first = await client.actions.propose(id, { tool: "send_email", preview: { to: "user@example.com" } });
    const second = await client.actions.propose(id, { tool: "refund", preview: { amount: 5 } });
    const confirmed = await json<{ status: string; callback_id: string }>(["actions", "confirm", id, first.action_id]);
    expect(confirmed.callback_id).toMatch(/^cb_/);
    const cancelled = await cli(["actions", "cancel", id, second.action_id]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/^status\s+cancelled$/m);
    expect(cancelled.stdout).toMatch(/^message\s+Action cancelled$/m);
    expect(await json(["actions", "get", id, second.action_id])).toMatchObject({ status: "cancelled", cancel_reason: "person" });
    await fails(["actions", "confirm", id, second.action_id], 1, /\(409 Conflict\)$/);
    await fails(["actions", "confirm", id], 2, /missing <action_id>/);

    const closed = await json<{ thread_id: string; duration_seconds: number; billable: boolean }>(["threads", "close", id]);
    expect(closed).toMatchObject({ thread_id: id, duration_seconds: expect.any(Number), billable: expect.any(Boolean) });
    expect((await json<{ status: string }>(["threads", "get", id])).status).toBe("closed");
  });
});

describe("human decisions on actions (issue 18)", () => {
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const argsFile = file("args.json", { to: "ana@example.com", subject: "Hi" });
  const schemaFile = file("schema.json", {
    type: "object",
    properties: { to: { type: "string" }, subject: { type: "string" } },
    required: ["to"],
    additionalProperties: false,
  });

  it("proposes with arguments, a schema and reminders, refuses an edit the schema refuses, confirms an edited file, shows who decided", async () => {
    const { thread_id: id } = await json<{ thread_id: string }>(["threads", "create"]);
    const proposed = await cli([
      "actions",
      "propose",
      id,
      "--tool",
      "send_email",
      "--preview",
      '{"to":"ana@example.com"}',
      "--args-file",
      argsFile,
      "--args-schema-file",
      schemaFile,
      "--on-expire",
      "deny",
      "--remind-before",
      "600,60",
      "--expires-in",
      "3600",
    ]);
    expect(proposed.code, proposed.stderr).toBe(0);
    const actionId = /^action_id\s+(act_\S+)$/m.exec(proposed.stdout)![1]!;
    expect(proposed.stdout).toMatch(/^status\s+pending$/m);
    expect(proposed.stdout).toMatch(/^args\s+\{"to":"ana@example\.com","subject":"Hi"\}$/m);
    expect(proposed.stdout).toMatch(/^on_expire\s+deny$/m);
    expect(proposed.stdout).toMatch(/^remind_before\s+600, 60$/m);
    expect(proposed.stdout).toMatch(new RegExp(`^review_url\\s+${url}/r/\\S+$`, "m"));
    expect(proposed.stdout).not.toMatch(/original_args/);

    const shown = await json<Record<string, unknown>>(["actions", "show", id, actionId]);
    expect(shown).toMatchObject({
      status: "pending",
      args: { to: "ana@example.com", subject: "Hi" },
      args_changed: false,
      args_schema: { required: ["to"] },
      on_expire: "deny",
      remind_before: [600, 60],
      decided_by: null,
    });
    // The deadline is counted from the moment of the write that records created_at.
    expect(Date.parse(shown.expires_at as string) - Date.parse(shown.created_at as string)).toBe(3600 * 1000);

    await fails(["actions", "confirm", id, actionId, "--args-file", file("bad.json", { to: 42 })], 1, /args\.to.*\(400 Invalid request\)$/);
    expect((await json<{ status: string }>(["actions", "get", id, actionId])).status).toBe("pending");

    const edited = file("edited.json", { to: "bob@example.com", subject: "Hi" });
    const confirmed = await cli(["actions", "confirm", id, actionId, "--args-file", edited, "--json"], { AGENT_SESSIONS_API_KEY: LABELLED_KEY });
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(JSON.parse(confirmed.stdout)).toMatchObject({ status: "processing", callback_id: expect.stringMatching(/^cb_/) });

    const after = await cli(["actions", "show", id, actionId]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^args\s+\{"to":"bob@example\.com","subject":"Hi"\}$/m);
    expect(after.stdout).toMatch(/^original_args\s+\{"to":"ana@example\.com","subject":"Hi"\}$/m);
    expect(after.stdout).toMatch(/^args_changed\s+true$/m);
    expect(after.stdout).toMatch(/^decided_by\s+org_cli\/ops-bot$/m);
    expect(after.stdout).toMatch(/^decided_via\s+api$/m);
    expect(after.stdout).toMatch(/^decided_at\s+\d{4}-\d{2}-\d{2}T\S+Z$/m);
    expect(after.stdout).toMatch(/^callback_id\s+cb_\S+$/m);
    expect(await json(["actions", "get", id, actionId])).toMatchObject({
      args: { to: "bob@example.com", subject: "Hi" },
      original_args: { to: "ana@example.com", subject: "Hi" },
      args_changed: true,
      decided_by: "org_cli/ops-bot",
      decided_via: "api",
    });
  });

  it("proposes for approvers with a link each, shows their approvals, denies with a reason under the key's default label", async () => {
    const { thread_id: id } = await json<{ thread_id: string }>(["threads", "create"]);
    const proposed = await cli([
      "actions",
      "propose",
      id,
      "--tool",
      "refund",
      "--preview-file",
      file("preview.json", { amount: 5 }),
      "--approver",
      "ana@example.com",
      "--approver",
      "bob@example.com",
      "--approvals-required",
      "2",
    ]);
    expect(proposed.code, proposed.stderr).toBe(0);
    const actionId = /^action_id\s+(act_\S+)$/m.exec(proposed.stdout)![1]!;
    expect(proposed.stdout).toMatch(/^approvals\s+0 of 2$/m);
    const links = new RegExp(`\\nAPPROVER\\s+REVIEW URL\\nana@example\\.com\\s+(${url}/r/\\S+)\\nbob@example\\.com\\s+(${url}/r/\\S+)\\n$`).exec(
      proposed.stdout,
    );
    expect(links, proposed.stdout).not.toBeNull();
    expect(new Set([links![1], links![2], /^review_url\s+(\S+)$/m.exec(proposed.stdout)![1]]).size).toBe(3);

    const shown = await cli(["actions", "show", id, actionId]);
    expect(shown.stdout).toMatch(/\nAPPROVER\s+APPROVED AT\nana@example\.com\s+-\nbob@example\.com\s+-\n$/);
    expect(shown.stdout).not.toContain("/r/"); // the links are shown once, when proposed

    const denied = await cli(["actions", "deny", id, actionId, "--reason", "wrong recipient"]);
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toMatch(/^status\s+cancelled$/m);
    const label = `key_${createHash("sha256").update(KEY).digest("hex").slice(0, 8)}`;
    const after = await cli(["actions", "show", id, actionId]);
    expect(after.stdout).toMatch(/^reason\s+wrong recipient$/m);
    expect(after.stdout).toMatch(/^cancel_reason\s+person$/m);
    expect(after.stdout).toMatch(new RegExp(`^decided_by\\s+org_cli/${label}$`, "m"));
    expect(await json(["actions", "show", id, actionId])).toMatchObject({ status: "cancelled", reason: "wrong recipient", decided_via: "api" });
    await fails(
      ["actions", "confirm", id, actionId],
      1,
      /cannot confirm action act_\S+: it is cancelled \(decided by org_cli\/key_[0-9a-f]{8}\) \(409 Conflict\)$/,
    );
  });

  it("names what is wrong with a proposal or a decision in one line", async () => {
    const { thread_id: id } = await json<{ thread_id: string }>(["threads", "create"]);
    const propose = (...flags: string[]) => ["actions", "propose", id, ...flags];
    await fails(propose("--preview", "{}"), 2, /^agent-sessions actions propose: --tool is required/);
    await fails(propose("--tool", "x"), 2, /--preview or --preview-file is required/);
    await fails(propose("--tool", "x", "--preview", "{}", "--preview-file", argsFile), 2, /give --preview or --preview-file, not both/);
    await fails(propose("--tool", "x", "--preview", "{to"), 2, /--preview: '\{to' is not JSON/);
    await fails(
      propose("--tool", "x", "--preview", "{}", "--args-file", join(dir, "nope.json")),
      2,
      /--args-file: cannot read .*nope\.json: no such file/,
    );
    await fails(
      propose("--tool", "x", "--preview", "{}", "--remind-before", "600,soon"),
      2,
      /--remind-before: 'soon' is not a whole number of seconds/,
    );
    await fails(
      propose("--tool", "x", "--preview", "{}", "--approvals-required", "0"),
      2,
      /--approvals-required: '0' is not a whole number \(1 or more\)/,
    );
    await fails(
      propose("--tool", "x", "--preview", "{}", "--on-expire", "explode"),
      1,
      /on_expire: must be one of cancel, deny \(400 Invalid request\)$/,
    );
    await fails(propose("--tool", "x", "--preview", "{}", "--approvals-required", "2"), 1, /approvals_required: .*\(400 Invalid request\)$/);
    await fails(
      propose("--tool", "x", "--preview", "{}", "--args", '{"to":1}', "--args-schema-file", schemaFile),
      1,
      /args\.to.*\(400 Invalid request\)$/,
    );
    const { action_id: actionId } = await json<{ action_id: string }>(propose("--tool", "x", "--preview", "{}"));
    await fails(["actions", "confirm", id, actionId, "--args", "{}", "--args-file", argsFile], 2, /give --args or --args-file, not both/);
    await fails(["actions", "deny", id, actionId, "--reason", "x".repeat(1001)], 1, /reason.*\(400 Invalid request\)$/);
    expect((await json<{ status: string }>(["actions", "show", id, actionId])).status).toBe("pending");
  });
});

describe("webhooks", () => {
  it("adds an endpoint with its secret, lists it, shows its deliveries and removes it", async () => {
    hooks = [];
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const added = await cli(["webhooks", "add", hookUrl, "--event", "session.*", "--description", "audit"]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^secret\s+whsec_\S+$/m);
    expect(added.stdout).toContain("not shown again");
    const id = /^id\s+(wh_\S+)$/m.exec(added.stdout)![1]!;

    const listed = await json<{ data: { id: string; events: string[] }[] }>(["webhooks", "list"]);
    expect(listed.data.find((endpoint) => endpoint.id === id)).toMatchObject({ events: ["session.*"] });
    expect(JSON.stringify(listed)).not.toContain("whsec_");

    await json(["sessions", "create", "support-intake"]);
    await expect.poll(() => hooks.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect
      .poll(async () => (await json<{ data: unknown[] }>(["webhooks", "deliveries", id])).data.length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const table = await cli(["webhooks", "deliveries", id]);
    // Other sessions of the organization (one made to expire in 1 s, earlier in this file) may have
    // their session.* events delivered too: this session's row is one of the table's, not always its first.
    expect(table.stdout).toMatch(
      /^ATTEMPTED\s+EVENT\s+ATTEMPT\s+STATUS\s+CODE\s+MS\s+ERROR\n(?:.*\n)*?\S+\s+session\.created\s+1\s+succeeded\s+204\s+/,
    );

    expect(await json(["webhooks", "remove", id])).toEqual({ id, deleted: true });
    await fails(["webhooks", "deliveries", id], 1, /\(404 Not found\)$/);
    await fails(["webhooks", "add", "not a url"], 1, /url.*\(400 Invalid request\)$/);
  });
});

describe("help", () => {
  it("answers --help on every group and command with its usage, exit 0", async () => {
    // Each command's help in process (the binary runs the same main); a spawn costs a second on a busy machine.
    const inProcess = async (args: string[]) => {
      let out = "";
      expect(await main(args, { env: {}, out: (text) => void (out += text), err: () => {} }), args.join(" ")).toBe(0);
      return out;
    };
    const top = await run(["--help"]);
    expect(top.stdout).toMatch(/forms\s+Create, list and show forms/);
    expect(top.stdout).toContain("AGENT_SESSIONS_API_KEY");
    const groups = {
      forms: ["create", "list", "get"],
      sessions: ["create", "extend", "get", "list", "wait"],
      threads: ["create", "get", "vars", "close"],
      actions: ["propose", "show", "confirm", "deny", "cancel", "get"],
      webhooks: ["add", "list", "deliveries", "remove"],
      waits: ["create", "get", "wait"],
    };
    for (const [group, commands] of Object.entries(groups)) {
      const help = await run([group, "--help"]);
      expect(help.code).toBe(0);
      for (const command of commands) expect(help.stdout).toContain(`  ${command}`);
      for (const command of commands) {
        const own = await inProcess([group, command, "--help"]);
        expect(own).toMatch(new RegExp(`^Usage: agent-sessions ${group} ${command} `));
        expect(own).toContain("--json");
      }
    }
    const propose = await inProcess(["actions", "propose", "--help"]);
    for (const flag of [
      "--tool",
      "--preview-file",
      "--args-file",
      "--args-schema-file",
      "--approver",
      "--approvals-required",
      "--on-expire",
      "--remind-before",
      "--expires-in",
    ]) {
      expect(propose).toContain(flag);
    }
    expect(propose).toContain("cancel (default) or deny");
    expect(await inProcess(["actions", "confirm", "--help"])).toContain("--args-file <path>");
    expect(await inProcess(["actions", "deny", "--help"])).toContain("--reason <text>");
    expect(await inProcess(["serve", "--help"])).toContain("<org>/<label>:<key>");
    expect(await inProcess(["serve", "--help"])).toContain("--retain <duration>");
    expect(top.stdout).toMatch(/purge\s+Remove records terminal for longer than a duration/);
    const bare = await run(["sessions"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("Usage: agent-sessions sessions <command>");
  });
});

describe("sessions wait on a terminal", () => {
  it("draws a spinner with the elapsed time on stderr, erases it, then prints the submission", async () => {
    const { id } = await json<{ id: string }>(["sessions", "create", "support-intake", "--prefill", "email=user@example.com"]);
    let out = "";
    let err = "";
    const io = { env, out: (text: string) => void (out += text), err: (text: string) => void (err += text), errIsTTY: true };
    const waiting = main(["sessions", "wait", id], io);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await submit(id, { email: "user@example.com", issue: "Spinner" });
    expect(await waiting).toBe(0);
    expect(err).toMatch(new RegExp(`\\r[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for ${id} to be submitted \\(0s\\)`));
    expect(err).toContain("(1s)");
    expect(err.endsWith("\r\x1b[K")).toBe(true);
    expect(out).toMatch(/^submitted at .*\nFIELD\s+VALUE\nemail\s+user@example\.com\nissue\s+Spinner\n$/);
  });
});
