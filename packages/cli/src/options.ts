import { isIP } from "node:net";
import { type EncryptionKey, InvalidInputError, parseDuration } from "@agent-sessions/core";
import { type ApiKey, hostMatcher, type RateLimitOptions, type RateLimitSetting } from "@agent-sessions/router";
import { ENCRYPTION_KEY_FILE_ENV, readEncryptionKeyFile } from "./encryption-keys.js";
import { parseFlags, UsageError } from "./errors.js";
import { LOG_LEVEL_ENV, type LogLevel, parseLogLevel } from "./logs.js";
import { type StoreSpec, storeSpecOf } from "./stores.js";

export { UsageError } from "./errors.js";

/** Everything `agent-sessions serve` needs, resolved from its flags and the environment. */
export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly store: StoreSpec;
  /** The configured keys; empty means "make a development key". */
  readonly apiKeys: readonly ApiKey[];
  /** The origin hosted form URLs start with; `null` for each request's own origin. */
  readonly publicUrl: string | null;
  /** Lets webhook endpoints target loopback, private and other special-purpose addresses (local development). Default: false. */
  readonly allowPrivateWebhooks?: boolean;
  /** Hosts besides the listening address whose requests name hosted URLs after themselves (without `publicUrl`). */
  readonly allowedHosts?: readonly string[];
  /** The router's rate limits, its defaults for rules not named; `false` turns them off. Default: on. */
  readonly rateLimit?: Omit<RateLimitOptions, "limiter"> | false;
  /** Proxies whose `X-Forwarded-For`, `-Proto` and `-Host` are believed: `"loopback"` or their addresses. Default: none. */
  readonly trustProxy?: "loopback" | readonly string[] | false;
  /** The key ring that encrypts what the store keeps, the current key first; absent or empty: no encryption. */
  readonly encryptionKeys?: readonly EncryptionKey[];
  /** How much it logs (JSON lines on stderr): `debug`, `info`, `warn`, `error` or `silent`. Default: `info`. */
  readonly logLevel?: LogLevel;
  /** Milliseconds terminal records are kept before the worker removes them (`--retain 30d`); absent keeps them. */
  readonly retainMs?: number;
  /** Serves the console under `/console` (sign-in with an API key). Default: true; `--no-console` turns it off. */
  readonly console?: boolean;
}

/** The environment variable that lists API keys as `orgA:keyA,orgB/label:keyB` (a label names the key in its decisions). */
export const API_KEYS_ENV = "AGENT_SESSIONS_API_KEYS";

/** The environment variable that, set to `1`, allows webhooks to private addresses. */
export const ALLOW_PRIVATE_WEBHOOKS_ENV = "AGENT_SESSIONS_ALLOW_PRIVATE_WEBHOOKS";

/** The environment variable listing allowed hosts, as `--allowed-hosts` does. */
export const ALLOWED_HOSTS_ENV = "AGENT_SESSIONS_ALLOWED_HOSTS";

/** The environment variable with the rate limits, as `--rate-limit` takes them. */
export const RATE_LIMIT_ENV = "AGENT_SESSIONS_RATE_LIMIT";

/** The environment variable naming trusted proxies, as `--trust-proxy` does. */
export const TRUST_PROXY_ENV = "AGENT_SESSIONS_TRUST_PROXY";

/** The environment variable with how long terminal records are kept, as `--retain` takes it. */
export const RETAIN_ENV = "AGENT_SESSIONS_RETAIN";

/** The environment variable that, set to `0`, turns the console off, as `--no-console` does. */
export const CONSOLE_ENV = "AGENT_SESSIONS_CONSOLE";

/** The rules of `--rate-limit`, by the name the flag and the `RateLimit` headers give them. */
const RATE_LIMIT_RULES = { "auth-failures": "authFailures", "per-key": "perKey", anonymous: "anonymous" } as const;

const SERVE_FLAGS = {
  port: { type: "string" },
  host: { type: "string" },
  store: { type: "string" },
  "api-key": { type: "string", multiple: true },
  "public-url": { type: "string" },
  "allow-private-webhooks": { type: "boolean" },
  "allowed-hosts": { type: "string", multiple: true },
  "rate-limit": { type: "string", multiple: true },
  "trust-proxy": { type: "string" },
  "encryption-key-file": { type: "string" },
  "log-level": { type: "string" },
  retain: { type: "string" },
  "no-console": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The parsed command line of `serve`: `help` set means print the help and nothing else. */
export type ServeCommandLine = { readonly help: true } | { readonly help: false; readonly options: ServeOptions };

/**
 * Parses `serve`'s arguments (after the word `serve`). Flags win over the environment: `--port`
 * over `PORT`, `--api-key` over `AGENT_SESSIONS_API_KEYS`.
 */
export function parseServeArgs(args: readonly string[], env: Readonly<Record<string, string | undefined>>): ServeCommandLine {
  // `pnpm start -- --port 4000` hands the `--` on; serve takes no positionals, so it has no meaning.
  const { values } = parseStrict(args[0] === "--" ? args.slice(1) : args);
  if (values.help) return { help: true };

  const store = storeSpecOf(values.store, env);
  const fromFlags = values["api-key"] ?? [];
  const apiKeys =
    fromFlags.length > 0 ? fromFlags.map((entry) => parseApiKey(entry, "--api-key")) : parseApiKeyList(env[API_KEYS_ENV] ?? "", API_KEYS_ENV);
  refuseSharedKeys(apiKeys);

  return {
    help: false,
    options: {
      port: parsePort(values.port ?? env.PORT ?? "3000", values.port === undefined && env.PORT !== undefined ? "PORT" : "--port"),
      host: parseHost(values.host ?? "127.0.0.1"),
      store,
      apiKeys,
      publicUrl: values["public-url"] === undefined ? null : parsePublicUrl(values["public-url"]),
      allowPrivateWebhooks: values["allow-private-webhooks"] === true || parseSwitch(env[ALLOW_PRIVATE_WEBHOOKS_ENV], ALLOW_PRIVATE_WEBHOOKS_ENV),
      allowedHosts:
        values["allowed-hosts"] !== undefined
          ? values["allowed-hosts"].flatMap((list) => parseAllowedHosts(list, "--allowed-hosts"))
          : parseAllowedHosts(env[ALLOWED_HOSTS_ENV] ?? "", ALLOWED_HOSTS_ENV),
      rateLimit:
        values["rate-limit"] !== undefined
          ? parseRateLimit(values["rate-limit"].join(","), "--rate-limit")
          : parseRateLimit(env[RATE_LIMIT_ENV] ?? "", RATE_LIMIT_ENV),
      trustProxy: parseTrustProxy(
        values["trust-proxy"] ?? env[TRUST_PROXY_ENV] ?? "",
        values["trust-proxy"] !== undefined ? "--trust-proxy" : TRUST_PROXY_ENV,
      ),
      ...encryptionKeys(values["encryption-key-file"], env[ENCRYPTION_KEY_FILE_ENV]),
      ...(values["log-level"] !== undefined
        ? { logLevel: parseLogLevel(values["log-level"], "--log-level") }
        : env[LOG_LEVEL_ENV]
          ? { logLevel: parseLogLevel(env[LOG_LEVEL_ENV], LOG_LEVEL_ENV) }
          : {}),
      ...retention(values.retain ?? env[RETAIN_ENV], values.retain !== undefined ? "--retain" : RETAIN_ENV),
      console:
        values["no-console"] !== true && (env[CONSOLE_ENV] === undefined || env[CONSOLE_ENV] === "" || parseSwitch(env[CONSOLE_ENV], CONSOLE_ENV)),
    },
  };
}

/** The key ring of `--encryption-key-file`, else of the file the environment names; none when neither does. */
function encryptionKeys(flag: string | undefined, fromEnv: string | undefined): { encryptionKeys?: EncryptionKey[] } {
  if (flag !== undefined) return { encryptionKeys: readEncryptionKeyFile(flag, "--encryption-key-file") };
  if (fromEnv !== undefined && fromEnv !== "") return { encryptionKeys: readEncryptionKeyFile(fromEnv, ENCRYPTION_KEY_FILE_ENV) };
  return {};
}

/** `--retain` (or its variable) as `retainMs`: none when unset, empty or `off`. */
function retention(text: string | undefined, source: string): { retainMs?: number } {
  if (text === undefined || text.trim() === "" || text.trim() === "off") return {};
  return { retainMs: parseDurationFlag(text, source) };
}

/**
 * A duration flag (`--retain 30d`, `--older-than 12h`) read by core's `parseDuration`, the same
 * reader as the engine's options, its mistake a usage error naming the flag.
 */
export function parseDurationFlag(text: string, source: string): number {
  try {
    return parseDuration(text, source);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(error.message);
    throw error;
  }
}

function parseStrict(args: readonly string[]) {
  return parseFlags(args, SERVE_FLAGS);
}

/** An on/off environment variable: unset, empty or `0` is off, `1` is on; anything else is a mistake. */
function parseSwitch(text: string | undefined, source: string): boolean {
  if (text === undefined || text === "" || text === "0") return false;
  if (text === "1") return true;
  throw new UsageError(`${source}: '${text}' is not 1 or 0`);
}

function parsePort(text: string, source: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65_535) {
    throw new UsageError(`${source}: '${text}' is not a port; give a whole number from 0 to 65535 (0 picks a free port)`);
  }
  return Number(text);
}

function parseHost(text: string): string {
  if (text.trim() === "" || /\s/.test(text)) throw new UsageError(`--host: '${text}' is not an address or host name`);
  return text;
}

function parsePublicUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--public-url: '${text}' is not a URL; give an origin such as https://forms.example.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--public-url: '${text}' must start with http:// or https://`);
  }
  if (url.search || url.hash) throw new UsageError(`--public-url: '${text}' must not have a query or a fragment`);
  return text.replace(/\/+$/, "");
}

/** Parses a comma-separated list of hosts: `name`, `name:port`, `.domain` (its subdomains too), `[IPv6]:port`. */
export function parseAllowedHosts(list: string, source: string): string[] {
  const hosts = list
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  try {
    hostMatcher(hosts, source);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  return hosts;
}

/**
 * Parses the rate limits: `off`, `on` (the defaults), or a comma-separated list of
 * `<rule>=<limit>/<seconds>` and `<rule>=off` for the rules auth-failures, per-key and anonymous;
 * the rules not named keep their defaults.
 */
export function parseRateLimit(text: string, source: string): Omit<RateLimitOptions, "limiter"> | false {
  const value = text.trim().toLowerCase();
  if (value === "off") return false;
  if (value === "" || value === "on") return {};
  const settings: Partial<Record<(typeof RATE_LIMIT_RULES)[keyof typeof RATE_LIMIT_RULES], RateLimitSetting | false>> = {};
  for (const entry of value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    const match = /^([a-z-]+)=(?:(off)|(\d{1,9})\/(\d{1,8}(?:\.\d{1,3})?)s?)$/.exec(entry);
    const rule = match ? RATE_LIMIT_RULES[match[1] as keyof typeof RATE_LIMIT_RULES] : undefined;
    if (!match || rule === undefined) {
      throw new UsageError(
        `${source}: '${entry}' is not off, on, or <rule>=<limit>/<seconds> or <rule>=off with a rule of ${Object.keys(RATE_LIMIT_RULES).join(", ")}`,
      );
    }
    if (match[2] === "off") {
      settings[rule] = false;
      continue;
    }
    const limit = Number(match[3]);
    const windowSeconds = Number(match[4]);
    if (limit < 1 || windowSeconds <= 0 || windowSeconds > 86_400) {
      throw new UsageError(`${source}: '${entry}' needs a limit of at least 1 and a window above 0, at most 86400 seconds`);
    }
    settings[rule] = { limit, windowSeconds };
  }
  return settings;
}

/** Parses the trusted proxies: `loopback`, or a comma-separated list of IP addresses; empty or `off` trusts none. */
export function parseTrustProxy(text: string, source: string): "loopback" | string[] | false {
  const value = text.trim();
  if (value === "" || value === "off") return false;
  if (value === "loopback") return "loopback";
  const addresses = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const address of addresses) {
    if (isIP(address) === 0) throw new UsageError(`${source}: '${address}' is not an IP address; give loopback or the addresses of your proxies`);
  }
  return addresses;
}

/** What a key's label may hold: it is recorded as who decided (`decided_by: "<org>/<label>"`). */
const KEY_LABEL = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses one `orgId:key` or `orgId/label:key` entry; the key may itself contain colons. The label
 * names the key in the decisions it makes; it is split off at the last `/` before the colon.
 */
export function parseApiKey(entry: string, source: string): ApiKey {
  const colon = entry.indexOf(":");
  const owner = colon < 0 ? "" : entry.slice(0, colon).trim();
  const key = colon < 0 ? "" : entry.slice(colon + 1).trim();
  const slash = owner.lastIndexOf("/");
  const orgId = slash < 0 ? owner : owner.slice(0, slash).trim();
  const label = slash < 0 ? undefined : owner.slice(slash + 1).trim();
  if (orgId === "" || key === "") {
    throw new UsageError(`${source}: '${redact(entry)}' is not <orgId>:<key> or <orgId>/<label>:<key>`);
  }
  if (label !== undefined && !KEY_LABEL.test(label)) {
    throw new UsageError(`${source}: '${redact(entry)}' has a label that is not 1 to 64 of A-Z, a-z, 0-9, _, . and -`);
  }
  if (/[\s,]/.test(key)) throw new UsageError(`${source}: the key of organization '${orgId}' must not contain spaces or commas`);
  return label === undefined ? { orgId, key } : { orgId, key, label };
}

/** Parses `orgA:keyA,orgB/label:keyB`; blank entries are ignored. */
export function parseApiKeyList(list: string, source: string): ApiKey[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => parseApiKey(entry, source));
}

function refuseSharedKeys(keys: readonly ApiKey[]): void {
  const owners = new Map<string, ApiKey>();
  for (const entry of keys) {
    const owner = owners.get(entry.key);
    if (owner !== undefined && owner.orgId !== entry.orgId) {
      throw new UsageError(`API keys: one key is given to two organizations ('${owner.orgId}' and '${entry.orgId}'); each key belongs to one`);
    }
    if (owner !== undefined && owner.label !== entry.label) {
      throw new UsageError(`API keys: one key of organization '${entry.orgId}' is given two labels; each key has one`);
    }
    owners.set(entry.key, entry);
  }
}

// A malformed entry may still hold a real key: show only its organization part.
function redact(entry: string): string {
  const colon = entry.indexOf(":");
  return colon < 0 ? "…" : `${entry.slice(0, colon)}:…`;
}
