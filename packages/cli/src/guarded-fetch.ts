import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { type FetchFunction, isPrivateAddress } from "@agent-sessions/core";

/** How much of a receiver's answer is read; the status is what counts, the body is dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The `fetch` `serve` sends webhooks with when private targets are refused. The engine checks a
 * target's name before each delivery, but a name can resolve to a public address for that check
 * and to a loopback or private one a moment later for the request (DNS rebinding). Here the check
 * happens inside the connection's own lookup, so the address connected to is the address checked.
 * Redirects are never followed, as the engine asks.
 */
export function createGuardedFetch(options: { readonly isPrivate?: (address: string) => boolean } = {}): FetchFunction {
  const isPrivate = options.isPrivate ?? isPrivateAddress;
  const lookup = publicOnlyLookup(isPrivate);
  return (input, init = {}) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Promise.reject(new TypeError(`webhook URL must be http or https, not ${url.protocol}`));
    }
    if (isPrivate(url.hostname)) {
      return Promise.reject(new Error(`refused: ${url.hostname} is a private or loopback address`));
    }
    const headers = new Headers(init.headers);
    const body = typeof init.body === "string" ? init.body : init.body == null ? "" : null;
    if (body === null) return Promise.reject(new TypeError("the guarded fetch sends text bodies only"));
    headers.set("content-length", String(Buffer.byteLength(body)));

    return new Promise<Response>((resolve, reject) => {
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const outgoing = send(url, {
        method: init.method ?? "GET",
        headers: Object.fromEntries(headers),
        lookup,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      outgoing.on("error", reject);
      outgoing.on("response", (incoming) => {
        readAnswer(incoming).then(
          (text) => {
            // A Response takes statuses 200–599 only; anything else is no answer a receiver gives.
            const status = incoming.statusCode !== undefined && incoming.statusCode >= 200 && incoming.statusCode <= 599 ? incoming.statusCode : 502;
            resolve(new Response(nullBodyStatus(status) ? null : text, { status, headers: answerHeaders(incoming) }));
          },
          reject,
        );
      });
      outgoing.end(body);
    });
  };
}

/** A DNS lookup that fails for any name resolving to a loopback, private or link-local address. */
const publicOnlyLookup =
  (isPrivate: (address: string) => boolean): LookupFunction =>
  (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, "", 0);
    const refused = addresses.find((entry) => isPrivate(entry.address));
    if (refused) {
      const denial = Object.assign(new Error(`refused: ${hostname} resolves to ${refused.address}, a private or loopback address`), {
        code: "EPRIVATEADDRESS",
      });
      return callback(denial, "", 0);
    }
    if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
    callback(null, first.address, first.family);
  });
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
