import type { Thread } from "@agent-sessions/client";
import { threadKind } from "@agent-sessions/core";
import type { CommandContext, CommandGroup } from "./command.js";
import { printJson, printTable, show } from "./output.js";
import { contextVariables, list } from "./values.js";

function printVariables(context: CommandContext, thread: Thread): void {
  if (context.json) {
    printJson(context.io, thread);
    return;
  }
  const entries = Object.entries(thread.context_variables);
  if (entries.length === 0) context.io.out(`${thread.thread_id} has no context variables\n`);
  else printTable(context.io, ["VARIABLE", "VALUE"], entries);
}

const { contextVariables: MAX_VARIABLES, contextVariablesBytes: MAX_BYTES } = threadKind.limits;
const VARIABLE_DETAILS = `Each VARIABLE is KEY=text (a string) or KEY:=json (any JSON value, e.g. COUNT:=3).
Keys are UPPERCASE_SNAKE_CASE; a thread keeps at most ${MAX_VARIABLES} variables and ${kilobytes(MAX_BYTES)}.`;

/** `4096` as `4 KB`; a size that is no whole number of kilobytes in bytes. */
function kilobytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${bytes} bytes`;
}

/** `agent-sessions threads …`: conversation threads of seed 002. */
export const threadsGroup: CommandGroup = {
  name: "threads",
  summary: "Conversation threads (seed 002): context variables, closing",
  commands: {
    create: {
      usage: "[VARIABLE]...",
      summary: "Start a thread, optionally with context variables",
      details: VARIABLE_DETAILS,
      positionals: [],
      variadic: true,
      async run(context) {
        const variables = contextVariables(context.positionals, []);
        return show(context, await context.client().threads.create(Object.keys(variables).length > 0 ? { context_variables: variables } : {}));
      },
    },
    get: {
      usage: "<thread_id>",
      summary: "Show a thread: status, context variables, pending actions",
      positionals: ["thread_id"],
      async run(context) {
        return show(context, await context.client().threads.get(context.positionals[0]!));
      },
    },
    vars: {
      usage: "<thread_id> [VARIABLE]... [--unset KEY]...",
      summary: "Show a thread's context variables, or set and remove some",
      details: `${VARIABLE_DETAILS}\nWith no VARIABLE and no --unset, prints the current variables.`,
      options: "  --unset <KEY>           Remove a variable; repeat for more",
      flags: { unset: { type: "string", multiple: true } },
      positionals: ["thread_id"],
      variadic: true,
      async run(context) {
        const [threadId, ...entries] = context.positionals;
        const variables = contextVariables(entries, list(context.flags.unset));
        const client = context.client();
        const thread =
          Object.keys(variables).length === 0
            ? await client.threads.get(threadId!)
            : await client.threads.updateContext(threadId!, { context_variables: variables });
        printVariables(context, thread);
        return 0;
      },
    },
    close: {
      usage: "<thread_id>",
      summary: "Close a thread: stops billing and cancels its pending actions",
      positionals: ["thread_id"],
      async run(context) {
        return show(context, await context.client().threads.close(context.positionals[0]!));
      },
    },
  },
};
