// Webhook targets as tables, shared by the engine's, the router's and serve's tests.

/** The sentence every refusal of a target ends with. */
export const POLICY = "webhooks to private and special-purpose addresses are refused unless the server allows them";

/** The attacker's list from issue 16 and a representative of every other range: [URL host, address, why]. */
export const SPECIAL_TARGETS: ReadonlyArray<readonly [string, string, string]> = [
  ["[64:ff9b::7f00:1]", "64:ff9b::7f00:1", "NAT64 of 127.0.0.1, loopback"],
  ["[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254, link-local"],
  ["[2002:7f00:1::]", "2002:7f00:1::", "6to4 of 127.0.0.1"],
  ["[fec0::1]", "fec0::1", "site-local (fec0::/10)"],
  ["[::ffff:0:127.0.0.1]", "::ffff:0:7f00:1", "IPv4-translated form of 127.0.0.1, loopback"],
  ["[ff02::1]", "ff02::1", "multicast"],
  ["198.18.0.1", "198.18.0.1", "benchmarking (198.18.0.0/15)"],
  ["192.0.0.1", "192.0.0.1", "IETF protocol assignments (192.0.0.0/24)"],
  ["224.0.0.1", "224.0.0.1", "multicast"],
  ["239.255.255.250", "239.255.255.250", "multicast"],
  ["240.0.0.1", "240.0.0.1", "reserved for future use (240.0.0.0/4)"],
  ["255.255.255.255", "255.255.255.255", "limited broadcast"],
  // IPv4
  ["0.0.0.0", "0.0.0.0", '"this network" (0.0.0.0/8)'],
  ["10.1.2.3", "10.1.2.3", "private-use"],
  ["100.64.0.1", "100.64.0.1", "shared address space (100.64.0.0/10)"],
  ["127.0.0.1", "127.0.0.1", "loopback"],
  ["169.254.169.254", "169.254.169.254", "link-local"],
  ["172.31.255.255", "172.31.255.255", "private-use"],
  ["192.0.2.7", "192.0.2.7", "documentation (192.0.2.0/24)"],
  ["192.31.196.1", "192.31.196.1", "AS112 DNS sink"],
  ["192.52.193.1", "192.52.193.1", "AMT relay anycast"],
  ["192.88.99.1", "192.88.99.1", "6to4 relay anycast (192.88.99.0/24)"],
  ["192.168.1.1", "192.168.1.1", "private-use"],
  ["192.175.48.1", "192.175.48.1", "AS112 DNS sink"],
  ["198.19.255.255", "198.19.255.255", "benchmarking (198.18.0.0/15)"],
  ["198.51.100.1", "198.51.100.1", "documentation (198.51.100.0/24)"],
  ["203.0.113.9", "203.0.113.9", "documentation (203.0.113.0/24)"],
  // IPv6
  ["[::]", "::", "unspecified"],
  ["[::1]", "::1", "loopback"],
  ["[::ffff:127.0.0.1]", "::ffff:7f00:1", "IPv4-mapped form of 127.0.0.1, loopback"],
  ["[::ffff:10.0.0.1]", "::ffff:a00:1", "IPv4-mapped form of 10.0.0.1, private-use"],
  ["[::127.0.0.1]", "::7f00:1", "deprecated IPv4-compatible form of 127.0.0.1"],
  ["[::8.8.8.8]", "::808:808", "deprecated IPv4-compatible form of 8.8.8.8"],
  ["[64:ff9b::10.0.0.1]", "64:ff9b::a00:1", "NAT64 of 10.0.0.1, private-use"],
  ["[64:ff9b:1::808:808]", "64:ff9b:1::808:808", "local-use NAT64 (64:ff9b:1::/48)"],
  ["[2002:808:808::1]", "2002:808:808::1", "6to4 of 8.8.8.8"],
  ["[100::1]", "100::1", "discard-only (100::/64)"],
  ["[2001::1]", "2001::1", "Teredo, client 255.255.255.254"],
  ["[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo, client 192.0.2.45"],
  ["[2001:1::1]", "2001:1::1", "IETF protocol assignments (2001::/23)"],
  ["[2001:2::1]", "2001:2::1", "benchmarking (2001:2::/48)"],
  ["[2001:3::1]", "2001:3::1", "AMT (2001:3::/32)"],
  ["[2001:4:112::1]", "2001:4:112::1", "AS112 DNS sink"],
  ["[2001:10::1]", "2001:10::1", "ORCHID (2001:10::/28)"],
  ["[2001:20::1]", "2001:20::1", "ORCHIDv2 (2001:20::/28)"],
  ["[2001:30::1]", "2001:30::1", "drone remote ID entity tags (2001:30::/28)"],
  ["[2001:db8::1]", "2001:db8::1", "documentation (2001:db8::/32)"],
  ["[2620:4f:8000::1]", "2620:4f:8000::1", "AS112 DNS sink"],
  ["[3fff::1]", "3fff::1", "documentation (3fff::/20)"],
  ["[5f00::1]", "5f00::1", "SRv6 segment identifiers (5f00::/16)"],
  ["[fc00::1]", "fc00::1", "unique-local (fc00::/7)"],
  ["[fd12:3456::1]", "fd12:3456::1", "unique-local (fc00::/7)"],
  ["[fe80::1]", "fe80::1", "link-local"],
  ["[ff05::1:3]", "ff05::1:3", "multicast"],
  ["[4000::1]", "4000::1", "outside global unicast 2000::/3"],
  ["[1::1]", "1::1", "outside global unicast 2000::/3"],
];

/** Global unicast targets, literal and embedded where the embedding reaches the IPv4 host. */
export const PUBLIC_TARGETS = [
  "8.8.8.8",
  "1.1.1.1",
  "172.32.0.1",
  "192.169.0.1",
  "[2606:4700:4700::1111]",
  "[2001:4860:4860::8888]",
  "[::ffff:8.8.8.8]",
  "[64:ff9b::1.1.1.1]",
  "[2a00:1450:4001::1]",
];

/** Names that stand for the server's own network: [URL, why]. */
export const LOCAL_NAMES: ReadonlyArray<readonly [string, string]> = [
  ["http://localhost:3000/", "localhost is a loopback name"],
  ["http://LOCALHOST./", "localhost. is a loopback name"],
  ["http://api.localhost/", "api.localhost is a loopback name"],
  ["http://ｌｏｃａｌｈｏｓｔ/", "localhost is a loopback name"],
  ["http://printer.local/", "printer.local is a local network name (.local)"],
  ["http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal is a local network name (.internal)"],
  ["http://router.home.arpa/", "router.home.arpa is a local network name (.home.arpa)"],
  ["http://metadata/", "metadata is a single-label name, which resolves inside the server's own network"],
];
