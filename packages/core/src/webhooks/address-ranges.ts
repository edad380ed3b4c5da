import ipaddr from "ipaddr.js";

/** What an IP address is as a target for the server's own outgoing requests. */
export interface AddressClass {
  /** The address as the URL parser writes it: dotted decimal, or IPv6 compressed, without brackets or zone. */
  readonly address: string;
  /**
   * The special-purpose range it lies in, in words (`"loopback"`, `"NAT64 of 127.0.0.1, loopback"`),
   * or null for a global unicast address, the only kind a webhook may reach.
   */
  readonly specialPurpose: string | null;
}

// Words for the range names ipaddr.js 2.5.0 gives (`range()`); `"unicast"` is its name for
// everything else. A name missing here (a later version's) is still refused, by its own name.
const IPV4_RANGES = new Map<string, string>([
  ["unspecified", '"this network" (0.0.0.0/8)'],
  ["broadcast", "limited broadcast"],
  ["multicast", "multicast"],
  ["linkLocal", "link-local"],
  ["loopback", "loopback"],
  ["carrierGradeNat", "shared address space (100.64.0.0/10)"],
  ["private", "private-use"],
  ["as112", "AS112 DNS sink"],
  ["amt", "AMT relay anycast"],
]);

const IPV6_RANGES = new Map<string, string>([
  ["unspecified", "unspecified"],
  ["linkLocal", "link-local"],
  ["multicast", "multicast"],
  ["loopback", "loopback"],
  ["uniqueLocal", "unique-local (fc00::/7)"],
  ["deprecatedSiteLocal", "site-local (fec0::/10)"],
  ["discard", "discard-only (100::/64)"],
  ["benchmarking", "benchmarking (2001:2::/48)"],
  ["amt", "AMT (2001:3::/32)"],
  ["as112v6", "AS112 DNS sink"],
  ["deprecatedOrchid", "ORCHID (2001:10::/28)"],
  ["orchid2", "ORCHIDv2 (2001:20::/28)"],
  ["droneRemoteIdProtocolEntityTags", "drone remote ID entity tags (2001:30::/28)"],
  ["segmentRouting", "SRv6 segment identifiers (5f00::/16)"],
]);

// ipaddr.js files several registry entries under `reserved`; this only names the one that matched.
const RESERVED_BLOCKS: Parameters<typeof ipaddr.subnetMatch>[1] = Object.fromEntries(
  [
    ["IETF protocol assignments", "192.0.0.0/24"],
    ["documentation", "192.0.2.0/24"],
    ["6to4 relay anycast", "192.88.99.0/24"],
    ["benchmarking", "198.18.0.0/15"],
    ["documentation", "198.51.100.0/24"],
    ["documentation", "203.0.113.0/24"],
    ["reserved for future use", "240.0.0.0/4"],
    ["IETF protocol assignments", "2001::/23"],
    ["documentation", "2001:db8::/32"],
    ["documentation", "3fff::/20"],
  ].map(([words, block]) => [`${words} (${block})`, [ipaddr.parseCIDR(block!)]]),
);

/**
 * Classifies an IPv4 or IPv6 address given as text: brackets and an IPv6 zone (`%eth0`) are
 * allowed, and every spelling the URL parser accepts (`2130706433`, `0x7f.1`, `::127.0.0.1`) is
 * judged as the address it stands for. Null when `text` is no IP address (a host name, say).
 *
 * Only global unicast passes. IPv4 inside IPv4-mapped (`::ffff:0:0/96`), IPv4-translated
 * (`::ffff:0:0:0/96`) and NAT64 well-known-prefix (`64:ff9b::/96`) addresses is judged as IPv4,
 * since a connection to them reaches that IPv4 host. 6to4, Teredo, IPv4-compatible and local-use
 * NAT64 (`64:ff9b:1::/48`) addresses are refused whatever they embed: tunnels and deprecated or
 * network-local forms, never a plain public host. So is IPv6 outside `2000::/3`, all of it
 * special or unassigned.
 */
export function classifyAddress(text: string): AddressClass | null {
  const parsed = parseAddress(text);
  if (parsed === null) return null;
  return parsed instanceof ipaddr.IPv4 ? classifyV4(parsed) : classifyV6(parsed);
}

function classifyV4(address: ipaddr.IPv4): AddressClass {
  const range = address.range() as string;
  return { address: address.toString(), specialPurpose: range === "unicast" ? null : rangeWords(address, range, IPV4_RANGES) };
}

function rangeWords(address: ipaddr.IPv4 | ipaddr.IPv6, range: string, words: ReadonlyMap<string, string>): string {
  return range === "reserved" ? ipaddr.subnetMatch(address, RESERVED_BLOCKS, "reserved") : (words.get(range) ?? range);
}

function classifyV6(address: ipaddr.IPv6): AddressClass {
  const text = address.toRFC5952String();
  const parts = address.parts;
  const refused = (why: string): AddressClass => ({ address: text, specialPurpose: why });
  const range = address.range() as string;
  switch (range) {
    case "ipv4Mapped":
      return judgedAsIPv4(text, "IPv4-mapped form", ipv4At(parts, 6));
    case "rfc6145":
      return judgedAsIPv4(text, "IPv4-translated form", ipv4At(parts, 6));
    case "rfc6052":
      // 64:ff9b::/96 carries the IPv4 in its last 32 bits; in the local-use 64:ff9b:1::/48 each
      // network picks where it sits (RFC 8215), so no address there can be read as a public host.
      return parts[2] === 0 ? judgedAsIPv4(text, "NAT64", ipv4At(parts, 6)) : refused("local-use NAT64 (64:ff9b:1::/48)");
    case "6to4":
      return refused(`6to4 of ${ipv4At(parts, 1).toString()}`);
    case "teredo":
      return refused(`Teredo, client ${teredoClient(parts).toString()}`);
    case "unicast":
      if ((parts[0]! & 0xe000) === 0x2000) return { address: text, specialPurpose: null };
      if (parts.slice(0, 6).every((part) => part === 0)) return refused(`deprecated IPv4-compatible form of ${ipv4At(parts, 6).toString()}`);
      return refused("outside global unicast 2000::/3");
    default:
      return refused(rangeWords(address, range, IPV6_RANGES));
  }
}

function judgedAsIPv4(text: string, form: string, embedded: ipaddr.IPv4): AddressClass {
  const inner = classifyV4(embedded);
  return { address: text, specialPurpose: inner.specialPurpose === null ? null : `${form} of ${inner.address}, ${inner.specialPurpose}` };
}

/** The IPv4 address in 16-bit groups `index` and `index + 1`. */
function ipv4At(parts: readonly number[], index: number): ipaddr.IPv4 {
  const high = parts[index]!;
  const low = parts[index + 1]!;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** A Teredo address keeps its client's IPv4 in its last 32 bits, inverted (RFC 4380). */
function teredoClient(parts: readonly number[]): ipaddr.IPv4 {
  return ipv4At([parts[6]! ^ 0xffff, parts[7]! ^ 0xffff], 0);
}

/**
 * Parses through the URL parser first, so an address means here exactly what it means in a URL:
 * ipaddr.js alone reads `::1.2.3.4` as `::ffff:1.2.3.4`, and takes spellings the URL parser refuses.
 */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (bare.includes(":")) {
    // Resolvers name link-local addresses with their zone (fe80::1%eth0); the zone changes no range.
    const unzoned = bare.replace(/%[\s\S]*$/, "");
    // Without this, `::1]/x[` would be read as its first part.
    if (!/^[0-9a-f:.]+$/i.test(unzoned)) return null;
    const host = hostOf(`[${unzoned}]`)?.slice(1, -1);
    return host !== undefined && ipaddr.IPv6.isValid(host) ? ipaddr.IPv6.parse(host) : null;
  }
  if (!/^[0-9a-fx.]+$/i.test(bare)) return null;
  const host = hostOf(bare);
  return host !== null && ipaddr.IPv4.isValidFourPartDecimal(host) ? ipaddr.IPv4.parse(host) : null;
}

/** The host of `http://<host>/` as the URL parser normalizes it, or null when that is no URL. */
function hostOf(host: string): string | null {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
}
