import { ApiError, type FormSession } from "@agent-sessions/client";
import { agentSessionKind, FORM_SESSION_STATUSES } from "@agent-sessions/core";
import { UsageError } from "../errors.js";
import type { CommandContext, CommandGroup } from "./command.js";
import { LIST_FLAGS, LIST_OPTIONS, listQuery } from "./forms.js";
import { printJson, printRecord, printTable, show, showPage } from "./output.js";
import { startSpinner } from "./spinner.js";
import { list, pairs, seconds, secondsList, wholeNumber } from "./values.js";

type FormSessionStatus = FormSession["status"];

function printFormSession(context: CommandContext, session: FormSession): void {
  if (context.json) {
    printJson(context.io, session);
    return;
  }
  const { submission, ...rest } = session;
  printRecord(context.io, rest);
  if (submission) {
    context.io.out("\n");
    printSubmission(context, session);
  }
}

function printSubmission(context: CommandContext, session: FormSession): void {
  const submission = session.submission!;
  const partial = submission.partial ? `, partial: missing ${submission.missing_fields.join(", ")}` : "";
  context.io.out(`submitted at ${submission.submitted_at}${partial}\n`);
  printTable(context.io, ["FIELD", "VALUE"], Object.entries(submission.values));
}

/** Reads any session by its id: a form session (`sess_`, or else a workflow), an agent session, a thread. */
async function anySession(context: CommandContext, id: string): Promise<{ form: FormSession } | { other: object }> {
  const client = context.client();
  if (id.startsWith(`${agentSessionKind.prefix}_`)) return { other: await client.agentSessions.get(id) };
  if (id.startsWith("thread_")) return { other: await client.threads.get(id) };
  try {
    return { form: await client.formSessions.get(id) };
  } catch (error) {
    // Workflow sessions (seed 001) share the sess_ prefix and live under /api/v1/sessions.
    if (error instanceof ApiError && error.status === 404) return { other: await client.sessions.get(id) };
    throw error;
  }
}

/** Waits for a form session to be submitted or to expire, re-reading the event feed. */
async function waitForSubmission(context: CommandContext, id: string, timeoutSeconds: number | null): Promise<FormSession | null> {
  const client = context.client();
  let session = await client.formSessions.get(id);
  if (session.status === "submitted" || session.status === "expired") return session;
  const deadline = new AbortController();
  const timer = timeoutSeconds === null ? undefined : setTimeout(() => deadline.abort(new Error("deadline")), timeoutSeconds * 1000);
  const spinner = startSpinner(context.io, `waiting for ${id} to be submitted`);
  try {
    for await (const event of client.sessions.events(id, { signal: deadline.signal })) {
      if (event.type === "submission.created" || event.type === "session.expired") break;
    }
  } catch (error) {
    if (!deadline.signal.aborted) throw error;
    return null;
  } finally {
    clearTimeout(timer);
    spinner.stop();
  }
  session = await client.formSessions.get(id);
  return session;
}

/** `agent-sessions sessions …`: form sessions, as seed 000 uses the word. */
export const sessionsGroup: CommandGroup = {
  name: "sessions",
  summary: "Form sessions (seed 000): create one from a form, extend it, read it, wait for its submission",
  commands: {
    create: {
      usage: "<form> [--expires-in <seconds>] [--remind-before <seconds>,...] [--prefill <field>=<value>]... [--metadata <key>=<value>]...",
      summary: "Create a session of a form (by id or slug) and print its hosted URL",
      options: `  --expires-in <seconds>  Seconds until it expires (default: 3600)
  --remind-before <seconds>,...
                          Send a session.expiring event and webhook this many seconds before
                          it expires, once each (e.g. 600,60)
  --prefill <field>=<value>
                          A value shown in the form beforehand; repeat for more
  --metadata <key>=<value>
                          Metadata kept with the session; repeat for more`,
      flags: {
        "expires-in": { type: "string" },
        "remind-before": { type: "string" },
        prefill: { type: "string", multiple: true },
        metadata: { type: "string", multiple: true },
      },
      positionals: ["form"],
      async run(context) {
        const { flags } = context;
        const prefill = pairs("--prefill", list(flags.prefill), "email=user@example.com", "field");
        const metadata = pairs("--metadata", list(flags.metadata), "thread_id=thread_42", "key");
        const session = await context.client().formSessions.create(context.positionals[0]!, {
          ...(typeof flags["expires-in"] === "string" ? { expires_in: wholeNumber("--expires-in", flags["expires-in"], 1, "seconds") } : {}),
          ...(typeof flags["remind-before"] === "string" ? { remind_before: secondsList("--remind-before", flags["remind-before"]) } : {}),
          ...(Object.keys(prefill).length > 0 ? { prefill } : {}),
          ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
        });
        printFormSession(context, session);
        return 0;
      },
    },
    extend: {
      usage: "<id> --by <seconds>",
      summary: "Push a session's expiry later (only while it is created or open)",
      options: "  --by <seconds>          How many seconds later it expires",
      flags: { by: { type: "string" } },
      positionals: ["id"],
      async run(context) {
        const by = context.flags.by;
        if (typeof by !== "string") throw new UsageError("--by is required: how many seconds later the session expires");
        const session = await context.client().formSessions.extend(context.positionals[0]!, { expires_in: wholeNumber("--by", by, 1, "seconds") });
        printFormSession(context, session);
        return 0;
      },
    },
    get: {
      usage: "<id>",
      summary: "Show a session: a form session with its submission, or a workflow session, agent session or thread",
      positionals: ["id"],
      async run(context) {
        const found = await anySession(context, context.positionals[0]!);
        if (!("form" in found)) return show(context, found.other);
        printFormSession(context, found.form);
        return 0;
      },
    },
    list: {
      usage: "[--status created|open|submitted|expired] [--limit <n>] [--offset <n>]",
      summary: "List form sessions (GET /v1/sessions), newest first",
      options: `  --status <status>       Only sessions in this status: ${FORM_SESSION_STATUSES.join(", ")}\n${LIST_OPTIONS}`,
      flags: { status: { type: "string" }, ...LIST_FLAGS },
      positionals: [],
      async run(context) {
        const status = context.flags.status;
        if (status !== undefined && !(FORM_SESSION_STATUSES as readonly string[]).includes(String(status))) {
          throw new UsageError(`--status: '${String(status)}' is not one of ${FORM_SESSION_STATUSES.join(", ")}`);
        }
        const page = await context.client().formSessions.list({
          ...listQuery(context),
          ...(status ? { status: status as FormSessionStatus } : {}),
        });
        return showPage(context, page, ["ID", "FORM", "STATUS", "EXPIRES", "CREATED"], (s) => [
          s.id,
          s.form_id,
          s.status,
          s.expires_at,
          s.created_at,
        ]);
      },
    },
    wait: {
      usage: "<id> [--timeout <seconds>]",
      summary: "Wait until a form session is submitted, then print the submission",
      details:
        "Shows a spinner and the elapsed time on standard error while it waits (when that is a terminal).\nExits 1 if the session expires first, or is still open after --timeout.",
      options: "  --timeout <seconds>     Give up after this long (default: wait until it is submitted or expires)",
      flags: { timeout: { type: "string" } },
      positionals: ["id"],
      async run(context) {
        const id = context.positionals[0]!;
        const timeout = typeof context.flags.timeout === "string" ? seconds("--timeout", context.flags.timeout) : null;
        const session = await waitForSubmission(context, id, timeout);
        if (session === null) throw new Error(`${id} is still waiting for a submission after ${timeout} s`);
        if (session.status === "expired") {
          if (context.json) printJson(context.io, session);
          throw new Error(`${id} expired at ${session.expires_at} without a submission`);
        }
        if (context.json) printJson(context.io, session);
        else printSubmission(context, session);
        return 0;
      },
    },
  },
};
