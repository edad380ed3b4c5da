import type { CreateWaitInput, Wait } from "@agent-sessions/client";
import { UsageError } from "../errors.js";
import type { CommandContext, CommandGroup } from "./command.js";
import { printJson, show } from "./output.js";
import { startSpinner } from "./spinner.js";
import { seconds, secondsList, wholeNumber } from "./values.js";

const TYPES = ["otp", "message"] as const;

/** A JSON value from a flag, naming the flag when it is not JSON. */
function jsonValue(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: '${text}' is not JSON (e.g. ${flag} '{"code":null}', or '"000000"' for a string)`);
  }
}

/** `on_timeout` from `--on-timeout fail|resolve_with=<json>` or `--resolve-with <json>` (at most one of them). */
function onTimeout(flags: CommandContext["flags"]): CreateWaitInput["on_timeout"] {
  const given = flags["on-timeout"];
  const resolveWith = flags["resolve-with"];
  if (typeof given === "string" && typeof resolveWith === "string") throw new UsageError("give --on-timeout or --resolve-with, not both");
  if (typeof resolveWith === "string") return { resolve_with: jsonValue("--resolve-with", resolveWith) };
  if (typeof given !== "string") return undefined;
  if (given === "fail") return "fail";
  if (given.startsWith("resolve_with=")) return { resolve_with: jsonValue("--on-timeout resolve_with", given.slice("resolve_with=".length)) };
  throw new UsageError(`--on-timeout: '${given}' is not fail or resolve_with=<json> (e.g. --on-timeout 'resolve_with={"code":null}')`);
}

/** A wait's outcome as one line: why `wait` exits 1 when it did not complete. */
function unfinished(wait: Wait): string | null {
  if (wait.status === "completed") return null;
  if (wait.status === "pending") return `${wait.id} is still pending`;
  if (wait.status === "timed_out") return `${wait.id} timed out at ${wait.expiresAt} without a message`;
  return `${wait.id} was cancelled: its session ended`;
}

/** `agent-sessions waits …`: waits for a message or a one-time code in a workflow session's inbox (seed 001). */
export const waitsGroup: CommandGroup = {
  name: "waits",
  summary: "Waits of workflow sessions (seed 001): wait for a message or a one-time code in an inbox",
  commands: {
    create: {
      usage:
        "<session_id> <inbox_id> --timeout <seconds> [--type otp|message] [--pattern <regex>] [--since <time>] [--on-timeout fail|resolve_with=<json>] [--resolve-with <json>] [--remind-before <seconds>,...]",
      summary: "Wait for a message (or a one-time code) in an inbox of a workflow session",
      details: `A message already in the inbox that no wait took (and not received before --since) completes it at once.
With --pattern, only a message the pattern matches (its subject first, then its body) completes it,
and result.code is what the pattern's one capture group took.`,
      options: `  --timeout <seconds>     How long it waits (required)
  --type <type>           otp (a message with a code; the default) or message (any message)
  --pattern <regex>       A regular expression with exactly one capture group, around the code
                          (RE2 syntax, matched in linear time: no lookarounds or backreferences)
  --since <time>          Ignore messages received before this ISO 8601 time (e.g. 2025-01-15T10:30:00Z)
  --on-timeout <what>     At the timeout: fail (the default), or resolve_with=<json> to complete
                          with that value, marked timed_out
  --resolve-with <json>   Same as --on-timeout resolve_with=<json>
  --remind-before <seconds>,...
                          Send a wait.expiring event and webhook this many seconds before it
                          times out, once each (e.g. 600,60)`,
      flags: {
        timeout: { type: "string" },
        type: { type: "string" },
        pattern: { type: "string" },
        since: { type: "string" },
        "on-timeout": { type: "string" },
        "resolve-with": { type: "string" },
        "remind-before": { type: "string" },
      },
      positionals: ["session_id", "inbox_id"],
      async run(context) {
        const { flags } = context;
        const [sessionId, inboxId] = context.positionals;
        if (typeof flags.timeout !== "string") throw new UsageError("--timeout is required: how many seconds the wait lasts");
        const type = flags.type ?? "otp";
        if (!(TYPES as readonly unknown[]).includes(type)) throw new UsageError(`--type: '${String(type)}' is not one of ${TYPES.join(", ")}`);
        const timeout = onTimeout(flags);
        const wait = await context.client().waits.create(sessionId!, {
          type: type as (typeof TYPES)[number],
          inboxId: inboxId!,
          timeoutSeconds: wholeNumber("--timeout", flags.timeout, 1, "seconds"),
          ...(timeout === undefined ? {} : { on_timeout: timeout }),
          ...(typeof flags.pattern === "string" ? { pattern: flags.pattern } : {}),
          ...(typeof flags.since === "string" ? { since: flags.since } : {}),
          ...(typeof flags["remind-before"] === "string" ? { remind_before: secondsList("--remind-before", flags["remind-before"]) } : {}),
        });
        return show(context, wait);
      },
    },
    get: {
      usage: "<wait_id>",
      summary: "Show a wait: its status and, once completed, its result",
      positionals: ["wait_id"],
      async run(context) {
        return show(context, await context.client().waits.get(context.positionals[0]!));
      },
    },
    wait: {
      usage: "<wait_id> [--timeout <seconds>]",
      summary: "Hold until a wait completes (by a message, or with its resolve_with value), then print it",
      details:
        "Shows a spinner and the elapsed time on standard error while it waits (when that is a terminal).\nExits 1 if the wait times out or is cancelled, or is still pending after --timeout.",
      options: "  --timeout <seconds>     Give up after this long (default: until the wait ends)",
      flags: { timeout: { type: "string" } },
      positionals: ["wait_id"],
      async run(context) {
        const id = context.positionals[0]!;
        const timeout = typeof context.flags.timeout === "string" ? seconds("--timeout", context.flags.timeout) : undefined;
        const spinner = startSpinner(context.io, `waiting for ${id}`);
        let wait: Wait;
        try {
          wait = await context.client().waits.waitFor(id, timeout === undefined ? {} : { timeoutSeconds: timeout });
        } finally {
          spinner.stop();
        }
        const problem = unfinished(wait);
        if (problem !== null) {
          if (context.json) printJson(context.io, wait);
          throw new Error(problem);
        }
        return show(context, wait);
      },
    },
  },
};
