import { InvalidInputError } from "../errors.js";

/**
 * Looks a host name up: every address it resolves to, as text. Core cannot resolve names itself
 * (no `node:` imports); a server passes one (`agent-sessions serve` uses `node:dns`).
 */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

/** IPv4 ranges no webhook may reach: `[first octets, prefix length]`. */
const PRIVATE_V4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // 0.0.0.0/8, "this network"
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10, carrier-grade NAT
  [0x7f000000, 8], // 127/8, loopback
  [0xa9fe0000, 16], // 169.254/16, link-local (cloud metadata services live here)
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
];

function parseV4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

/** The eight 16-bit groups of an IPv6 address, or null when `text` is not one. */
function parseV6(text: string): number[] | null {
  // An embedded IPv4 tail (::ffff:127.0.0.1) is rewritten as its two groups (::ffff:7f00:1).
  const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let address = text;
  if (tail) {
    const v4 = parseV4(tail[1]!);
    if (v4 === null) return null;
    address = `${text.slice(0, tail.index)}:${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groupsOf(halves[0]!);
  const rest = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups: number[] = [];
  for (const part of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest]) {
    if (!/^[0-9a-f]{1,4}$/i.test(part)) return null;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

/**
 * True when `address` (an IPv4 or IPv6 literal, brackets allowed) is loopback, private,
 * link-local, carrier-grade NAT, unspecified or unique-local: somewhere inside the server's own
 * network that a tenant must not make it call. Anything that is not an IP literal is false.
 */
export function isPrivateAddress(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, "").toLowerCase();
  const v4 = parseV4(text);
  if (v4 !== null) return PRIVATE_V4.some(([base, bits]) => v4 >>> (32 - bits) === base >>> (32 - bits));
  const v6 = parseV6(text.replace(/%.*$/, ""));
  if (v6 === null) return false;
  const [first] = v6 as [number];
  if (v6.slice(0, 7).every((g) => g === 0) && v6[7]! <= 1) return true; // :: and ::1
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7, unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10, link-local
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses: judge the IPv4 inside.
  if (v6.slice(0, 5).every((g) => g === 0) && (v6[5] === 0xffff || v6[5] === 0)) {
    return isPrivateAddress(`${v6[6]! >>> 8}.${v6[6]! & 0xff}.${v6[7]! >>> 8}.${v6[7]! & 0xff}`);
  }
  return false;
}

/** True for `localhost` and its subdomains, which resolve to loopback by definition (RFC 6761). */
function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * Parses a webhook target and refuses, naming `field`, anything but an absolute http(s) URL
 * without credentials, and, unless `allowPrivate`, a host that is a private or loopback literal.
 * The URL parser normalizes `http://2130706433/` and `http://0x7f.1/` to `127.0.0.1` first.
 */
export function checkWebhookUrl(text: string, options: { allowPrivate: boolean; field?: string }): URL {
  const field = options.field ?? "url";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInputError(field, `"${text}" is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InvalidInputError(field, "must start with https:// or http://");
  }
  if (url.username || url.password) throw new InvalidInputError(field, "must not hold a user name or password");
  if (!options.allowPrivate && (isPrivateAddress(url.hostname) || isLocalName(url.hostname))) {
    throw new InvalidInputError(field, privateMessage(url.hostname));
  }
  return url;
}

/** Why a target was refused: it is, or resolves to, a private address. */
export function privateMessage(hostname: string, resolved?: string): string {
  const what = resolved ? `${hostname} resolves to ${resolved}, a private or loopback address` : `${hostname} is a private or loopback address`;
  return `${what}; webhooks to private networks are refused unless the server allows them`;
}

/**
 * The first private address `hostname` stands for: itself when a literal, else what `resolve`
 * answers. `null` when every address is public, or when nothing resolves it (the request then
 * fails on its own).
 */
export async function privateTarget(hostname: string, resolve: ResolveHost | undefined): Promise<string | null> {
  if (isPrivateAddress(hostname) || isLocalName(hostname)) return hostname;
  if (!resolve || hostname.startsWith("[") || /^[\d.]+$/.test(hostname)) return null;
  let addresses: readonly string[];
  try {
    addresses = await resolve(hostname);
  } catch {
    return null;
  }
  return addresses.find(isPrivateAddress) ?? null;
}
