import type { PendingAction, ProposeActionInput, ProposedAction } from "@agent-sessions/client";
import { OnExpire, threadKind } from "@agent-sessions/core";
import { UsageError } from "../errors.js";
import type { Command, CommandContext, CommandGroup } from "./command.js";
import { printJson, printRecord, printTable, show } from "./output.js";
import { jsonOption, list, wholeNumber } from "./values.js";

const { defaultActionExpiresInSeconds, approvers: MAX_APPROVERS, reasonChars } = threadKind.limits;
const ON_EXPIRE = OnExpire.anyOf.map((literal) => literal.const);

/**
 * Prints an action for a person: what it is, its arguments (and the proposed ones when a person
 * changed them), who decided, how, when and why, and its approvals; the optional parts only when
 * the action uses them. With `--json`, the API's answer as it is.
 */
function printAction(context: CommandContext, action: PendingAction | ProposedAction): void {
  if (context.json) {
    printJson(context.io, action);
    return;
  }
  const links = "review_url" in action ? action : null;
  printRecord(context.io, {
    action_id: action.action_id,
    thread_id: action.thread_id,
    tool: action.tool,
    status: action.status,
    preview: action.preview,
    args: action.args,
    ...(action.args_changed ? { original_args: action.original_args, args_changed: true } : {}),
    expires_at: action.expires_at,
    decided_at: action.decided_at,
    decided_by: action.decided_by,
    decided_via: action.decided_via,
    ...(action.reason !== null ? { reason: action.reason } : {}),
    ...(action.cancel_reason !== null ? { cancel_reason: action.cancel_reason } : {}),
    ...(action.on_expire !== "cancel" ? { on_expire: action.on_expire } : {}),
    ...(action.remind_before.length > 0 ? { remind_before: action.remind_before.join(", ") } : {}),
    ...(action.approvers.length > 0 ? { approvals: `${action.approvals.length} of ${action.approvals_required}` } : {}),
    ...(action.callback_id !== null ? { callback_id: action.callback_id, attempts: action.attempts } : {}),
    ...(action.status === "succeeded" ? { result: action.result } : {}),
    ...(action.error !== null ? { error: action.error } : {}),
    ...(action.completed_at !== null ? { completed_at: action.completed_at } : {}),
    ...(links ? { review_url: links.review_url } : {}),
  });
  if (links?.review_urls) {
    context.io.out("\n");
    printTable(context.io, ["APPROVER", "REVIEW URL"], Object.entries(links.review_urls));
  } else if (action.approvers.length > 0) {
    const approvedAt = new Map(action.approvals.map((approval) => [approval.approver, approval.approved_at]));
    context.io.out("\n");
    printTable(
      context.io,
      ["APPROVER", "APPROVED AT"],
      action.approvers.map((approver) => [approver, approvedAt.get(approver)]),
    );
  }
}

/** What `actions propose` sends, from its flags. */
function proposal(context: CommandContext): ProposeActionInput {
  const { flags } = context;
  if (typeof flags.tool !== "string") throw new UsageError("--tool is required: the name of the tool to run once a person says yes");
  const preview = jsonOption(flags, "preview");
  if (preview === undefined) throw new UsageError("--preview or --preview-file is required: what the person is shown, a JSON object");
  const args = jsonOption(flags, "args");
  const argsSchema = jsonOption(flags, "args-schema");
  const approvers = list(flags.approver);
  const remindBefore = list(flags["remind-before"])
    .flatMap((entry) => entry.split(","))
    .map((entry) => wholeNumber("--remind-before", entry.trim(), 1, "seconds"));
  return {
    tool: flags.tool,
    preview: preview as ProposeActionInput["preview"],
    ...(args !== undefined ? { args } : {}),
    ...(argsSchema !== undefined ? { args_schema: argsSchema as ProposeActionInput["args_schema"] } : {}),
    ...(approvers.length > 0 ? { approvers } : {}),
    ...(typeof flags["approvals-required"] === "string"
      ? { approvals_required: wholeNumber("--approvals-required", flags["approvals-required"], 1) }
      : {}),
    ...(typeof flags["on-expire"] === "string" ? { on_expire: flags["on-expire"] as ProposeActionInput["on_expire"] } : {}),
    ...(remindBefore.length > 0 ? { remind_before: remindBefore } : {}),
    ...(typeof flags["expires-in"] === "string" ? { expires_in: wholeNumber("--expires-in", flags["expires-in"], 1, "seconds") } : {}),
  };
}

/** `show`, and `get` by its older name. */
const showCommand: Command = {
  usage: "<thread_id> <action_id>",
  summary: "Show an action: its status, arguments (and the proposed ones if changed), who decided, how, when and why, approvals",
  positionals: ["thread_id", "action_id"],
  async run(context) {
    const [threadId, actionId] = context.positionals;
    printAction(context, await context.client().actions.get(threadId!, actionId!));
    return 0;
  },
};

/** A "no" (`deny`, and `cancel` by the seed's name), with an optional reason. */
function denyCommand(summary: string): Command {
  return {
    usage: '<thread_id> <action_id> [--reason "…"]',
    summary,
    options: `  --reason <text>         Why not, kept on the action and sent in action.cancelled for the agent
                          to read (at most ${reasonChars} characters)`,
    flags: { reason: { type: "string" } },
    positionals: ["thread_id", "action_id"],
    async run(context) {
      const [threadId, actionId] = context.positionals;
      const reason = context.flags.reason;
      return show(context, await context.client().actions.deny(threadId!, actionId!, typeof reason === "string" ? { reason } : {}));
    },
  };
}

/** `agent-sessions actions …`: an agent's pending actions and a person's decisions on them (seed 002, issue 18). */
export const actionsGroup: CommandGroup = {
  name: "actions",
  summary: "Pending actions of threads (seed 002): propose a tool call, confirm it (with edited arguments) or deny it (with a reason)",
  commands: {
    propose: {
      usage: "<thread_id> --tool <name> (--preview <json> | --preview-file <path>) [options]",
      summary: "Propose a tool call that waits for a person's yes; prints its review link, and each approver's",
      details: `The review link needs no API key: it shows the action, and Approve / Deny. With --approver,
each approver gets a link of their own, which records who decided; the action runs when
--approvals-required of them approved (default 1), and any deny cancels it; a confirm or deny
over the API (an API key) decides outright. A file may be '-' (standard input). For example:
  agent-sessions actions propose thread_… --tool send_email --preview '{"to":"ana@example.com"}' \\
    --args-file args.json --args-schema-file schema.json \\
    --approver ana@example.com --approver bob@example.com --approvals-required 2 \\
    --on-expire deny --remind-before 600,60 --expires-in 3600`,
      options: `  --tool <name>           The tool to run once confirmed (required)
  --preview <json>        What the person is shown, a JSON object (or --preview-file <path>)
  --args <json>           The tool call's arguments, which a person may edit before confirming
                          (or --args-file <path>)
  --args-schema <json>    A JSON Schema the arguments, and every edit of them, must satisfy
                          (or --args-schema-file <path>)
  --approver <who>        A name or email address that decides on its own link; repeat for
                          more (at most ${MAX_APPROVERS})
  --approvals-required <n>
                          Distinct approvers who must approve (default 1, at most the approvers)
  --on-expire <outcome>   What the deadline does to an undecided action: ${ON_EXPIRE[0]} (default) or ${ON_EXPIRE.slice(1).join(", ")}
  --remind-before <s,...> Seconds before the deadline to send action.expiring, e.g. 600,60
  --expires-in <seconds>  Seconds the person has to decide (default: ${defaultActionExpiresInSeconds})`,
      flags: {
        tool: { type: "string" },
        preview: { type: "string" },
        "preview-file": { type: "string" },
        args: { type: "string" },
        "args-file": { type: "string" },
        "args-schema": { type: "string" },
        "args-schema-file": { type: "string" },
        approver: { type: "string", multiple: true },
        "approvals-required": { type: "string" },
        "on-expire": { type: "string" },
        "remind-before": { type: "string", multiple: true },
        "expires-in": { type: "string" },
      },
      positionals: ["thread_id"],
      async run(context) {
        const input = proposal(context);
        printAction(context, await context.client().actions.propose(context.positionals[0]!, input));
        return 0;
      },
    },
    show: showCommand,
    confirm: {
      usage: "<thread_id> <action_id> [--args-file <path> | --args <json>]",
      summary: "Confirm a pending action: its tool runs asynchronously (202, with a callback_id), with edited arguments if given",
      details: `Edited arguments are checked against the action's args_schema: if they do not satisfy it,
the server answers 400 naming the path (e.g. args.to) and the action stays pending.`,
      options: `  --args-file <path>      The arguments to run with, as JSON ('-' reads standard input)
  --args <json>           The same, given inline`,
      flags: { args: { type: "string" }, "args-file": { type: "string" } },
      positionals: ["thread_id", "action_id"],
      async run(context) {
        const [threadId, actionId] = context.positionals;
        const args = jsonOption(context.flags, "args");
        return show(context, await context.client().actions.confirm(threadId!, actionId!, args !== undefined ? { args } : {}));
      },
    },
    deny: denyCommand("Deny a pending action (200, cancelled), with an optional reason the agent can read"),
    cancel: denyCommand("Cancel a pending action: the same as deny"),
    get: { ...showCommand, summary: "The same as show" },
  },
};
