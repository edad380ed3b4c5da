import { parseArgs } from "node:util";
import { type AgentSessionsClient, createClient } from "@agent-sessions/client";
import type { CliIo } from "../cli.js";
import { UsageError } from "../errors.js";

/** The environment variable with the server's URL. */
export const URL_ENV = "AGENT_SESSIONS_URL";
/** The environment variable with the API key the commands send. */
export const API_KEY_ENV = "AGENT_SESSIONS_API_KEY";
/** Where the commands look for a server when neither `--url` nor `AGENT_SESSIONS_URL` says. */
export const DEFAULT_URL = "http://127.0.0.1:3000";

type FlagSpec = { readonly type: "string" | "boolean"; readonly multiple?: boolean; readonly short?: string };
type FlagValue = string | boolean | (string | boolean)[] | undefined;

/** What a command's `run` gets: its positionals, its flags, a client, and where to write. */
export interface CommandContext {
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, FlagValue>>;
  /** `--json`: print the API's answer as JSON instead of a table. */
  readonly json: boolean;
  readonly io: CliIo;
  /** The client for `--url`/`AGENT_SESSIONS_URL` and `--api-key`/`AGENT_SESSIONS_API_KEY`. */
  client(): AgentSessionsClient;
}

/** One subcommand, e.g. `sessions create`. */
export interface Command {
  /** The arguments after the command's name, e.g. `<form> [--expires-in <seconds>]`. */
  readonly usage: string;
  readonly summary: string;
  /** Its own options, one a line, as printed in its help (the common ones are added). */
  readonly options?: string;
  /** More about it, printed after the usage line. */
  readonly details?: string;
  readonly flags?: Readonly<Record<string, FlagSpec>>;
  /** The names of its positional arguments, all required. */
  readonly positionals: readonly string[];
  /** Allows more positionals than named (the rest of the line), e.g. `KEY=VALUE…`. */
  readonly variadic?: boolean;
  run(context: CommandContext): Promise<number>;
}

/** A group of subcommands, e.g. `sessions`. */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: Readonly<Record<string, Command>>;
}

const COMMON_FLAGS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const COMMON_OPTIONS = `  --url <url>             The server (default: $${URL_ENV}, else ${DEFAULT_URL})
  --api-key <key>         The API key (default: $${API_KEY_ENV})
  --json                  Print the answer as JSON, for scripts
  -h, --help              Show this help`;

/** The help of a command. */
export function commandHelp(group: CommandGroup, name: string, command: Command): string {
  const options = command.options ? `${command.options}\n${COMMON_OPTIONS}` : COMMON_OPTIONS;
  const details = command.details ? `\n${command.details}\n` : "";
  return `Usage: agent-sessions ${group.name} ${name} ${command.usage}\n\n${command.summary}\n${details}\nOptions:\n${options}\n`;
}

/** The help of a group: its subcommands. */
export function groupHelp(group: CommandGroup): string {
  const width = Math.max(...Object.keys(group.commands).map((name) => name.length)) + 2;
  const lines = Object.entries(group.commands).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`);
  return `Usage: agent-sessions ${group.name} <command> [options]\n\n${group.summary}\n\nCommands:\n${lines.join("\n")}\n\nRun 'agent-sessions ${group.name} <command> --help' for the options of a command.\n`;
}

/** Parses a command's arguments; `null` means `--help` was asked for. */
export function parseCommand(command: Command, args: readonly string[], io: CliIo): Omit<CommandContext, "io"> | null {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...COMMON_FLAGS, ...command.flags }, strict: true, allowPositionals: true });
  } catch (error) {
    // node:util's messages run to several sentences; the first one names the problem.
    const message = error instanceof Error ? (error.message.split(/\.\s/)[0] ?? error.message) : String(error);
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  const missing = command.positionals.slice(positionals.length);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((name) => `<${name}>`).join(" and ")}`);
  if (!command.variadic && positionals.length > command.positionals.length) {
    throw new UsageError(`unexpected argument '${positionals[command.positionals.length]}'`);
  }
  for (const name of command.positionals) {
    const value = positionals[command.positionals.indexOf(name)]!;
    if (value.trim() === "") throw new UsageError(`<${name}> must not be empty`);
  }
  let client: AgentSessionsClient | undefined;
  return {
    positionals,
    flags: values,
    json: values.json === true,
    client: () => (client ??= connect(values, io)),
  };
}

function connect(values: Record<string, FlagValue>, io: CliIo): AgentSessionsClient {
  const url = typeof values.url === "string" ? values.url : io.env[URL_ENV] || DEFAULT_URL;
  const urlSource = typeof values.url === "string" ? "--url" : io.env[URL_ENV] ? URL_ENV : "default URL";
  const apiKey = typeof values["api-key"] === "string" ? values["api-key"] : io.env[API_KEY_ENV];
  if (apiKey === undefined || apiKey.trim() === "") {
    throw new UsageError(`no API key: set ${API_KEY_ENV} or pass --api-key (serve prints a development key when it starts)`);
  }
  try {
    return createClient({ baseUrl: url, apiKey });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.startsWith("baseUrl: ") ? `${urlSource}: ${message.slice("baseUrl: ".length)}` : message);
  }
}
