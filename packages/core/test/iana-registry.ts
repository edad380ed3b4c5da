// The IANA IPv4 and IPv6 Special-Purpose Address Registries (plus multicast and the deprecated
// site-local block), written out as test data: an oracle independent of the library that
// classifies addresses in the code under test.

/** An address block: its first address as a number and its prefix length. */
export interface Block {
  readonly text: string;
  readonly base: bigint;
  readonly bits: number;
  readonly width: 32 | 128;
}

/** IPv4 blocks that are no global unicast destination. */
export const IPV4_SPECIAL = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8", // private-use
  "100.64.0.0/10", // shared address space
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local
  "172.16.0.0/12", // private-use
  "192.0.0.0/24", // IETF protocol assignments (and its /29, /32 entries: DS-Lite, PCP, TURN, NAT64 discovery)
  "192.0.2.0/24", // documentation TEST-NET-1
  "192.31.196.0/24", // AS112-v4
  "192.52.193.0/24", // AMT
  "192.88.99.0/24", // deprecated 6to4 relay anycast
  "192.168.0.0/16", // private-use
  "192.175.48.0/24", // direct delegation AS112
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // documentation TEST-NET-2
  "203.0.113.0/24", // documentation TEST-NET-3
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved
  "255.255.255.255/32", // limited broadcast
].map((text) => block(text, 32));

/** IPv6 blocks refused whatever they hold (the forms judged by their IPv4 are below). */
export const IPV6_SPECIAL = [
  "::/128", // unspecified
  "::1/128", // loopback
  "::/96", // deprecated IPv4-compatible
  "64:ff9b:1::/48", // local-use IPv4/IPv6 translation
  "100::/64", // discard-only
  "100:0:0:1::/64", // dummy prefix (RFC 9780)
  "2001::/23", // IETF protocol assignments
  "2001::/32", // Teredo
  "2001:1::1/128", // port control protocol anycast
  "2001:2::/48", // benchmarking
  "2001:3::/32", // AMT
  "2001:4:112::/48", // AS112-v6
  "2001:10::/28", // deprecated ORCHID
  "2001:20::/28", // ORCHIDv2
  "2001:30::/28", // drone remote ID entity tags
  "2001:db8::/32", // documentation
  "2002::/16", // 6to4
  "2620:4f:8000::/48", // direct delegation AS112
  "3fff::/20", // documentation
  "5f00::/16", // segment routing SIDs
  "fc00::/7", // unique-local
  "fe80::/10", // link-local unicast
  "fec0::/10", // deprecated site-local
  "ff00::/8", // multicast
].map((text) => block(text, 128));

/** IPv6 prefixes whose last 32 bits are an IPv4 address the connection reaches: judged by that address. */
export const IPV4_CARRYING = [
  ["IPv4-mapped form", "::ffff:0:0/96"],
  ["IPv4-translated form", "::ffff:0:0:0/96"],
  ["NAT64", "64:ff9b::/96"],
] as const;

/** Parses `a.b.c.d/n` or an IPv6 prefix into a block. */
export function block(text: string, width: 32 | 128): Block {
  const [address, bits] = text.split("/") as [string, string];
  return { text, base: width === 32 ? v4Number(address) : v6Number(address), bits: Number(bits), width };
}

/** True when `value` lies in `block`. */
export function inBlock(value: bigint, block: Block): boolean {
  const shift = BigInt(block.width - block.bits);
  return value >> shift === block.base >> shift;
}

function v4Number(text: string): bigint {
  return text.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function v6Number(text: string): bigint {
  const [head, tail = ""] = text.split("::") as [string, string?];
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(head);
  const right = text.includes("::") ? groups(tail) : [];
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Dotted decimal of a 32-bit number. */
export function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

/** Eight full hex groups of a 128-bit number (no compression: the URL parser does that). */
export function v6Text(value: bigint): string {
  return Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(":");
}
