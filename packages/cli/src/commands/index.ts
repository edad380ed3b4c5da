import { ApiError, NetworkError, TimeoutError } from "@agent-sessions/client";
import type { CliIo } from "../cli.js";
import { UsageError } from "../errors.js";
import { actionsGroup } from "./actions.js";
import { type CommandContext, type CommandGroup, commandHelp, groupHelp, parseCommand, URL_ENV } from "./command.js";
import { formsGroup } from "./forms.js";
import { sessionsGroup } from "./sessions.js";
import { threadsGroup } from "./threads.js";
import { waitsGroup } from "./waits.js";
import { webhooksGroup } from "./webhooks.js";

/** The command groups that talk to a server, by name. */
export const COMMAND_GROUPS: Readonly<Record<string, CommandGroup>> = {
  forms: formsGroup,
  sessions: sessionsGroup,
  threads: threadsGroup,
  actions: actionsGroup,
  webhooks: webhooksGroup,
  waits: waitsGroup,
};

/**
 * Runs `agent-sessions <group> <command> …` and resolves with the exit code: 0 on success, 2 on a
 * usage error, 1 when the server refused or could not be reached. Every error is one line on stderr.
 */
export async function runGroup(group: CommandGroup, args: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    io.err(groupHelp(group));
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    io.out(groupHelp(group));
    return 0;
  }
  const command = Object.hasOwn(group.commands, name) ? group.commands[name] : undefined;
  const where = command ? `agent-sessions ${group.name} ${name}` : `agent-sessions ${group.name}`;
  let context: CommandContext | undefined;
  try {
    if (!command) {
      throw new UsageError(`unknown command '${name}'; the commands are: ${Object.keys(group.commands).join(", ")}`);
    }
    const parsed = parseCommand(command, rest, io);
    if (parsed === null) {
      io.out(commandHelp(group, name, command));
      return 0;
    }
    context = { ...parsed, io };
    return await command.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${where}: ${error.message} (see '${where} --help')\n`);
      return 2;
    }
    io.err(`${where}: ${describeFailure(error, context)}\n`);
    return 1;
  }
}

function describeFailure(error: unknown, context: CommandContext | undefined): string {
  if (error instanceof ApiError) {
    const hint = error.status === 401 ? "; check --api-key or AGENT_SESSIONS_API_KEY" : "";
    return `${error.message} (${error.status} ${error.error}${hint})`;
  }
  if (error instanceof NetworkError || error instanceof TimeoutError) {
    const server = context?.client().baseUrl ?? "the server";
    const reason = error instanceof TimeoutError ? `no answer within ${error.timeoutMs} ms` : error.message.slice(error.request.length + 2);
    return `cannot reach ${server} (${reason}); is 'agent-sessions serve' running there? (set ${URL_ENV} or --url)`;
  }
  return error instanceof Error ? error.message : String(error);
}
