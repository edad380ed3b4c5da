import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { classifyAddress, type FetchFunction } from "@agent-sessions/core";

/** How much of a receiver's answer is read; the status is what counts, the body is dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Resolves a host name to every address it has, as `dns.lookup` with `all: true` does. */
export type LookupAll = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

/** What the guarded fetch checks against, for tests; by default the system resolver and `classifyAddress`. */
export interface GuardedFetchOptions {
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
 * The `fetch` `serve` sends webhooks with when private targets are refused. The engine checks a
 * target's name before each delivery, but a name can resolve to a public address for that check
 * and to a special-purpose one a moment later for the request (DNS rebinding). Here the check
 * happens inside the connection's own lookup, so the address connected to is the address checked.
 * Redirects are never followed, as the engine asks.
 */
export function createGuardedFetch(options: GuardedFetchOptions = {}): FetchFunction {
  const refusal = options.refusal ?? specialPurposeRefusal;
  const lookup = checkedLookup(options.lookup ?? systemLookup, refusal);
  // Its own agents, as the global ones are configured: the global pool would hand it sockets that
  // other code connected without this lookup, and so to addresses nobody checked.
  const pooling = { keepAlive: true, scheduling: "lifo", timeout: 5000, lookup } as const;
  const agents = { http: new HttpAgent(pooling), https: new HttpsAgent(pooling) };
  return (input, init = {}) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Promise.reject(new TypeError(`webhook URL must be http or https, not ${url.protocol}`));
    }
    // An IP address is connected to without a lookup, so it is judged here.
    const literal = classifyAddress(url.hostname) === null ? null : refusal(url.hostname);
    if (literal !== null) return Promise.reject(new Error(`refused: ${url.hostname} is ${literal}`));
    const headers = new Headers(init.headers);
    const body = typeof init.body === "string" ? init.body : init.body == null ? "" : null;
    if (body === null) return Promise.reject(new TypeError("the guarded fetch sends text bodies only"));
    headers.set("content-length", String(Buffer.byteLength(body)));

    return new Promise<Response>((resolve, reject) => {
      const secure = url.protocol === "https:";
      const outgoing = (secure ? httpsRequest : httpRequest)(url, {
        method: init.method ?? "GET",
        headers: Object.fromEntries(headers),
        agent: secure ? agents.https : agents.http,
        lookup,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      outgoing.on("error", reject);
      outgoing.on("response", (incoming) => {
        readAnswer(incoming).then((text) => {
          // A Response takes statuses 200–599 only; anything else is no answer a receiver gives.
          const status = incoming.statusCode !== undefined && incoming.statusCode >= 200 && incoming.statusCode <= 599 ? incoming.statusCode : 502;
          resolve(new Response(nullBodyStatus(status) ? null : text, { status, headers: answerHeaders(incoming) }));
        }, reject);
      });
      outgoing.end(body);
    });
  };
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

function readAnswer(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
    });
    incoming.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    incoming.on("error", reject);
  });
}

function answerHeaders(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

function nullBodyStatus(status: number | undefined): boolean {
  return status === 101 || status === 204 || status === 205 || status === 304;
}
