import { createRequire } from "node:module";
import { COMMAND_GROUPS, runGroup } from "./commands/index.js";
import { ENCRYPTION_KEY_FILE_ENV } from "./encryption-keys.js";
import { LOG_LEVEL_ENV } from "./logs.js";
import { runMigrate } from "./migrate.js";
import {
  ALLOW_PRIVATE_WEBHOOKS_ENV,
  ALLOWED_HOSTS_ENV,
  API_KEYS_ENV,
  CONSOLE_ENV,
  parseServeArgs,
  RATE_LIMIT_ENV,
  RETAIN_ENV,
  type ServeOptions,
  TRUST_PROXY_ENV,
  UsageError,
} from "./options.js";
import { runPurge } from "./purge.js";
import { type RunningServer, startServer } from "./serve.js";
import { DEFAULT_STORE, describeStore, STORE_ENV, STORE_FORMS } from "./stores.js";

/** Where the command line writes, and what it reads; the process's own by default. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Whether `err` writes to a terminal: then `sessions wait` shows a spinner there. Default: false. */
  readonly errIsTTY?: boolean;
}

const processIo: CliIo = {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTTY: process.stderr.isTTY === true,
};

const HELP = `Usage: agent-sessions <command> [options]

Sessions for AI agents, with humans and with time.

Commands:
  serve          Run every agent-sessions HTTP endpoint on a port
  migrate        Create or upgrade the tables of an SQL store
  purge          Remove records terminal for longer than a duration (--older-than 30d [--dry-run])
  forms          Create, list and show forms (create --file form.json)
  sessions       Form sessions: create, extend, get, wait for a submission; list workflow sessions
  threads        Conversation threads: context variables (vars), close
  actions        An agent's pending actions: propose, show, confirm (edited), deny (a reason)
  webhooks       Add and list webhook endpoints, show their deliveries
  waits          Wait for a message or a one-time code in a workflow session's inbox

The commands that talk to a server read AGENT_SESSIONS_URL (default: http://127.0.0.1:3000) and
AGENT_SESSIONS_API_KEY, or --url and --api-key; --json prints the answer as JSON.

Options:
  -h, --help     Show this help
  -v, --version  Print the version

Run 'agent-sessions <command> --help' for the options of a command.
`;

const SERVE_HELP = `Usage: agent-sessions serve [options]

Runs every agent-sessions HTTP endpoint (forms, workflows, threads, agents, the hosted form page)
on node:http. Its worker persists expiries and timeouts, delivers webhooks and runs confirmed
actions, at once after the write that made the work and at least every second. Ctrl-C stops it.

Options:
  --port <n>              Port to listen on (default: $PORT, else 3000; 0 picks a free port)
  --host <address>        Address to bind (default: 127.0.0.1; 0.0.0.0 for every interface)
  --store <store>         Where sessions are kept (default: $${STORE_ENV}, else ${DEFAULT_STORE}):
${STORE_FORMS.map((form) => `                            ${form}`).join("\n")}
                          An SQL store is migrated at start.
  --api-key <org>:<key>   An API key and the organization it belongs to; repeat for more.
                          <org>/<label>:<key> names the key too: its decisions on actions
                          record decided_by "<org>/<label>" (label: 1 to 64 of A-Z a-z 0-9
                          _ . -; default: key_ and the first 8 hex digits of its SHA-256)
  --public-url <url>      Origin of hosted form URLs, e.g. https://forms.example.com
                          (default: a request's own origin when its host is one serve
                          listens on or one of --allowed-hosts, else the listening address)
  --allowed-hosts <hosts> Hosts whose requests may name hosted URLs after themselves, e.g.
                          forms.example.com,api.example.com:8443,.corp.example (a leading dot
                          takes subdomains too; no port means any port); repeatable
  --rate-limit <limits>   off, on (the default), or rule=limit/seconds and rule=off, comma-
                          separated; the rules and their defaults: auth-failures=20/60 and
                          anonymous=200/10 per client address, per-key=2000/2 per API key
  --trust-proxy <proxies> loopback, or the addresses of your reverse proxies: their
                          X-Forwarded-For/-Host/-Proto are believed (by default none is)
  --encryption-key-file <file>
                          Encrypt what the store keeps (AES-256-GCM) with the keys in <file>:
                          one a line as <id>:<base64 of 32 bytes> (make one with openssl
                          rand -base64 32), the current key first, then older ones, which
                          still read what they encrypted
  --allow-private-webhooks
                          Let webhook endpoints target loopback, private and other special-
                          purpose addresses and local names (refused by default; for local
                          development)
  --log-level <level>     debug, info (the default), warn, error or silent: JSON lines on
                          stderr, one per request at info (hosted-page ids and review tokens
                          masked, no query) and one per background failure at error
  --retain <duration>     Remove records terminal for longer than this (30d, 12h, 90m), with
                          their timelines, aliases, idempotency entries, delivery logs and
                          waiting outbox messages, a batch of each kind every worker round
                          (default: kept forever; see agent-sessions purge)
  --no-console            Do not serve the console (by default at /console: sign in with an
                          API key to see sessions, timelines, pending actions and webhooks)
  -h, --help              Show this help

Environment:
  PORT                    Port, when --port is not given
  ${STORE_ENV}    Store, when --store is not given
  ${API_KEYS_ENV}
                          API keys as "orgA:keyA,orgB/ops-bot:keyB", when no --api-key is given
  ${ALLOW_PRIVATE_WEBHOOKS_ENV}=1
                          Same as --allow-private-webhooks
  ${ALLOWED_HOSTS_ENV}, ${RATE_LIMIT_ENV}, ${TRUST_PROXY_ENV}, ${RETAIN_ENV}
                          Same as --allowed-hosts, --rate-limit, --trust-proxy, --retain
  ${ENCRYPTION_KEY_FILE_ENV}
                          Same as --encryption-key-file, when it is not given
  ${LOG_LEVEL_ENV}
                          Same as --log-level
  ${CONSOLE_ENV}=0
                          Same as --no-console

Requests past a rate limit answer 429 with Retry-After and RateLimit headers; a request that
fails authentication past its address's limit gets 429, but a valid key from that address still
works. On a Redis store every instance shares the limits. Requests node:http refuses (headers over
16 KiB, malformed HTTP, headers not in within 20 s or a body not within 60 s) answer JSON too.

With no API key at all, serve makes a development key for the organization "dev" and prints it.
`;

/**
 * Runs the `agent-sessions` command line and resolves with the process's exit code: 0 on success
 * (for `serve`, once a signal has stopped it), 2 on a usage error, 1 on a failure to start.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.err(HELP);
        return 2;
      case "-h":
      case "--help":
      case "help":
        io.out(HELP);
        return 0;
      case "-v":
      case "--version":
        io.out(`${version()}\n`);
        return 0;
      case "serve": {
        const parsed = parseServeArgs(rest, io.env);
        if (parsed.help) {
          io.out(SERVE_HELP);
          return 0;
        }
        return await runServe(parsed.options, io);
      }
      case "migrate":
        return await runMigrate(rest, io);
      case "purge":
        return await runPurge(rest, io);
      case "forms":
      case "sessions":
      case "threads":
      case "actions":
      case "webhooks":
      case "waits":
        return await runGroup(COMMAND_GROUPS[command]!, rest, io);
      default:
        throw new UsageError(
          command.startsWith("-")
            ? `unknown option '${command}'`
            : `unknown command '${command}'; the commands are: serve, migrate, purge, ${Object.keys(COMMAND_GROUPS).join(", ")}`,
        );
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const where = command === "serve" || command === "migrate" || command === "purge" ? `agent-sessions ${command}` : "agent-sessions";
      io.err(`${where}: ${error.message} (see '${where} --help')\n`);
      return 2;
    }
    io.err(`agent-sessions: ${describe(error)}\n`);
    return 1;
  }
}

async function runServe(options: ServeOptions, io: CliIo): Promise<number> {
  let server: RunningServer;
  try {
    server = await startServer(options, { writeLog: (line) => io.err(line) });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE") throw new Error(`port ${options.port} on ${options.host} is already in use; pick another with --port`);
    if (code === "EACCES") throw new Error(`no permission to listen on ${options.host}:${options.port}`);
    throw error;
  }
  io.out(banner(server, options));
  server.logger.info("started", { url: server.url, store: describeStore(options.store) });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.err(`agent-sessions: ${signal} again, closing connections now\n`);
        void server.close(0);
        return;
      }
      stopping = true;
      io.out(`agent-sessions: ${signal}, stopping\n`);
      server.logger.info("stopping", { signal });
      server.close().then(
        () => {
          server.logger.info("stopped");
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve(0);
        },
        (error: unknown) => {
          io.err(`agent-sessions: could not close cleanly: ${describe(error)}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

function banner(server: RunningServer, options: ServeOptions): string {
  const lines = [`agent-sessions serve: listening on ${server.url} (store: ${describeStore(options.store)})`];
  let key = "$AGENT_SESSIONS_API_KEY"; // what the other commands read
  if (server.devKey) {
    key = server.apiKeys[0]!.key;
    lines.push(`No API key given: a development key for organization "${server.apiKeys[0]!.orgId}", valid until this process stops:`, `  ${key}`);
  } else {
    const orgs = [...new Set(server.apiKeys.map((entry) => entry.orgId))];
    lines.push(`API keys: ${server.apiKeys.length} for ${orgs.length === 1 ? "organization" : "organizations"} ${orgs.join(", ")}`);
  }
  if (options.publicUrl) lines.push(`Hosted form URLs start with ${options.publicUrl}/f/`);
  lines.push(options.console === false ? "Console: off (--no-console)" : `Console: ${server.url}/console (sign in with an API key)`);
  if (options.rateLimit === false) lines.push("Rate limits: off (--rate-limit off)");
  const keys = options.encryptionKeys ?? [];
  if (keys.length > 0)
    lines.push(`Encryption at rest: on, with key ${keys[0]!.id}${keys.length > 1 ? ` (and ${keys.length - 1} older for reading)` : ""}`);
  if (options.retainMs !== undefined) lines.push(`Retention: records terminal for longer than ${duration(options.retainMs)} are removed`);
  lines.push(
    "Try it:",
    `  curl -s -X POST ${server.url}/api/v1/sessions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"name":"user-signup-flow"}'`,
    "Press Ctrl-C to stop.",
  );
  return `${lines.join("\n")}\n`;
}

/** Milliseconds in the largest whole unit, as `--retain` takes them: 30d, 12h, 90m, 45s. */
function duration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function version(): string {
  // ../package.json from both src/ and dist/.
  return (createRequire(import.meta.url)("../package.json") as { version: string }).version;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
