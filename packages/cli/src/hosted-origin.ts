import type { AddressInfo } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { hostMatcher } from "@agent-sessions/router";

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/**
 * The hosts, with the port, by which clients reach serve where it listens. On a loopback address
 * that is every loopback name (`localhost`, `127.0.0.1`, `[::1]`): they all lead to this machine.
 * On a wildcard address (`0.0.0.0`, `::`) it is also every address of this machine's interfaces
 * and its host name, as they were at start. On any other address, that address and the name
 * given to `--host`.
 */
export function listeningHosts(address: AddressInfo, host: string): string[] {
  const port = address.port;
  const bracketed = (name: string) => (name.includes(":") ? `[${name}]` : name);
  const names = new Set<string>([bracketed(address.address), bracketed(host)]);
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  if (wildcard || isLoopback(address.address)) for (const name of LOOPBACK_NAMES) names.add(name);
  if (wildcard) {
    for (const entries of Object.values(networkInterfaces())) {
      for (const entry of entries ?? []) if (!entry.address.includes("%")) names.add(bracketed(entry.address));
    }
    names.add(hostname().toLowerCase());
  }
  names.delete("[::]");
  names.delete("0.0.0.0");
  return [...names].filter(isHostName).map((name) => `${name}:${port}`);
}

/**
 * serve's origin of hosted form URLs when `--public-url` is not given: a request's own origin
 * when its host is one serve listens on (`listeningHosts`) or one of `--allowed-hosts`, else
 * `fallback`, the address serve printed. A client that sends `Host: evil.example` gets a URL on
 * this server, never one on a host it chose.
 */
export function hostedOrigin(hosts: readonly string[], allowedHosts: readonly string[], fallback: string): (request: Request) => string {
  const allowed = hostMatcher([...hosts, ...allowedHosts], "--allowed-hosts");
  return (request) => {
    const url = new URL(request.url);
    return allowed(url) ? url.origin : fallback;
  };
}

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

// A name --host was given that the URL parser would not read back (it is then not a Host anyone sends).
function isHostName(name: string): boolean {
  return URL.canParse(`http://${name}/`) && !/[/?#@\\\s]/.test(name);
}
