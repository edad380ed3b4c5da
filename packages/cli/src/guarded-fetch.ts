import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { classifyAddress, type FetchFunction, type WebhookSender } from "@agent-sessions/core";
import { WebhookClient } from "./webhook-client.js";

/** Resolves a host name to every address it has, as `dns.lookup` with `all: true` does. */
export type LookupAll = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

/** What the guarded fetch checks against; by default the system resolver and `classifyAddress`. */
export interface GuardedFetchOptions {
  /** Connects to any address, loopback and private networks too (tests, local development); the checks below are skipped. Default: false. */
  readonly allowPrivateAddresses?: boolean;
  /** Why an address must not be connected to (`"a special-purpose address (loopback)"`), or null when it may. */
  readonly refusal?: (address: string) => string | null;
  /** The resolver the connection uses. */
  readonly lookup?: LookupAll;
}

/** A special-purpose address, or a resolver answer that is no address at all, is refused. */
function specialPurposeRefusal(address: string): string | null {
  const judged = classifyAddress(address);
  if (judged === null) return "no IP address";
  return judged.specialPurpose === null ? null : `a special-purpose address (${judged.specialPurpose})`;
}

const systemLookup: LookupAll = (hostname, options) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/**
 * A `fetch` over the keep-alive client of `webhook-client.ts` (POSTs of text bodies only), for an
 * engine on Node that takes `fetch`: `createEngine({ store, fetch: createGuardedFetch() })`;
 * `createWebhookSender` is the leaner form `serve` uses. Private targets are refused unless
 * `allowPrivateAddresses`: the engine checks a target's name before each delivery, but a name can resolve to a public address for that check
 * and to a special-purpose one a moment later for the request (DNS rebinding). Here the check
 * happens inside the connection's own lookup, so the address connected to is the address checked.
 * Redirects are never followed, as the engine asks.
 */
export function createGuardedFetch(options: GuardedFetchOptions = {}): FetchFunction {
  const guarded = guardedClient(options);
  return (input, init = {}) => {
    const url = guarded.check(new URL(typeof input === "string" || input instanceof URL ? input : input.url));
    if (url instanceof Error) return Promise.reject(url);
    const body = typeof init.body === "string" ? init.body : init.body == null ? "" : null;
    if (body === null) return Promise.reject(new TypeError("the guarded fetch sends text bodies only"));
    if ((init.method ?? "POST").toUpperCase() !== "POST") return Promise.reject(new TypeError("the guarded fetch sends POST requests only"));
    return guarded.client.post(url, headerEntries(init.headers), body, init.signal ? { signal: init.signal } : {}).then(
      // A Response takes statuses 200–599 only; anything else is no answer a receiver gives.
      (status) => new Response(null, { status: status >= 200 && status <= 599 ? status : 502 }),
    );
  };
}

/**
 * The guarded fetch's sender as the engine's leaner `WebhookSender`, which `serve` uses:
 * `createEngine({ store, sendWebhook: createWebhookSender() })`. The time limit is kept by the
 * connection's own timer, so no AbortSignal is made per delivery.
 */
export function createWebhookSender(options: GuardedFetchOptions = {}): WebhookSender {
  const guarded = guardedClient(options);
  return (target, { headers, body, timeoutMs }) => {
    const url = guarded.check(target);
    if (url instanceof Error) return Promise.reject(url);
    return guarded.client.post(url, Object.entries(headers), body, { timeoutMs });
  };
}

/** How many host names a sender remembers whether they are IP addresses. */
const LITERAL_HOSTS = 1024;

/** The checked lookup, its client, and the check of a URL made before connecting. */
function guardedClient(options: GuardedFetchOptions) {
  const refusal = options.allowPrivateAddresses === true ? () => null : (options.refusal ?? specialPurposeRefusal);
  const lookup = checkedLookup(options.lookup ?? systemLookup, refusal);
  // Its own pool of connections: a shared one would hand it sockets that other code connected
  // without this lookup, and so to addresses nobody checked.
  const client = new WebhookClient({ lookup });
  // Whether each host name of the URLs sent to is an IP address: a burst to one endpoint parses it once.
  const literals = new Map<string, boolean>();
  const literalRefusal = (hostname: string): string | null => {
    let literal = literals.get(hostname);
    if (literal === undefined) {
      literal = classifyAddress(hostname) !== null;
      if (literals.size >= LITERAL_HOSTS) literals.clear();
      literals.set(hostname, literal);
    }
    return literal ? refusal(hostname) : null;
  };
  return {
    client,
    check(url: URL): URL | Error {
      if (url.protocol !== "http:" && url.protocol !== "https:") return new TypeError(`webhook URL must be http or https, not ${url.protocol}`);
      // An IP address is connected to without a lookup, so it is judged here.
      const literal = literalRefusal(url.hostname);
      return literal === null ? url : new Error(`refused: ${url.hostname} is ${literal}`);
    },
  };
}

/** The request's headers as name and value pairs, from any form `fetch` takes. */
function headerEntries(headers: HeadersInit | undefined): Iterable<[string, string]> {
  if (headers === undefined) return [];
  if (headers instanceof Headers || Array.isArray(headers)) return headers as Iterable<[string, string]>;
  return Object.entries(headers as Record<string, string>);
}

/** The connection's lookup: fails for a name with any address `refusal` refuses, else answers as asked. */
const checkedLookup =
  (lookupAll: LookupAll, refusal: (address: string) => string | null): LookupFunction =>
  (hostname, options, callback) => {
    const { all: _all, ...rest } = options;
    lookupAll(hostname, { ...rest, all: true }).then(
      (addresses) => {
        for (const entry of addresses) {
          const refused = refusal(entry.address);
          if (refused !== null) {
            const denial = Object.assign(new Error(`refused: ${hostname} resolves to ${entry.address}, ${refused}`), { code: "EPRIVATEADDRESS" });
            return callback(denial, "", 0);
          }
        }
        if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
