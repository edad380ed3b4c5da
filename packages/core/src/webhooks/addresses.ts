import { InvalidInputError } from "../errors.js";
import { classifyAddress } from "./address-ranges.js";

/**
 * Looks a host name up: every address it resolves to, as text. Core cannot resolve names itself
 * (no `node:` imports); a server passes one (`agent-sessions serve` uses `node:dns`).
 */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

const POLICY = "webhooks to private and special-purpose addresses are refused unless the server allows them";

/**
 * True when `address` is an IP address (brackets allowed) in any special-purpose range: loopback,
 * private, link-local, shared, multicast, reserved, documentation, or an IPv6 form that carries
 * such an IPv4 address. False for a global unicast address and for anything that is no IP address.
 */
export function isPrivateAddress(address: string): boolean {
  return (classifyAddress(address)?.specialPurpose ?? null) !== null;
}

// Names under these resolve inside the server's own network by definition: RFC 6761 (localhost,
// .local for mDNS), RFC 8375 (home.arpa), and ICANN's reservation of .internal for private use.
const LOCAL_ZONES = ["localhost", "local", "internal", "home.arpa"];

/** Why a host name stands for the server's own network whatever DNS answers, or null. */
function localName(hostname: string): string | null {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  const zone = LOCAL_ZONES.find((suffix) => name === suffix || name.endsWith(`.${suffix}`));
  if (zone === "localhost") return "a loopback name";
  if (zone !== undefined) return `a local network name (.${zone})`;
  // A name without a dot is completed with the server's own search domains.
  if (!name.includes(".")) return "a single-label name, which resolves inside the server's own network";
  return null;
}

/**
 * Why `hostname` (as a URL gives it) must not be a webhook target, judged without resolving it:
 * a special-purpose IP address or a local name. Null when it is a global unicast address or a
 * name that only DNS can judge.
 */
function hostRefusal(hostname: string): string | null {
  const literal = classifyAddress(hostname);
  if (literal !== null) {
    return literal.specialPurpose === null ? null : `${literal.address} is a special-purpose address (${literal.specialPurpose})`;
  }
  const local = localName(hostname);
  return local === null ? null : `${hostname} is ${local}`;
}

/**
 * Parses a webhook target and refuses, naming `field`, anything but an absolute http(s) URL
 * without credentials, and, unless `allowPrivate`, a host that is a special-purpose IP address
 * (see `classifyAddress`) or a local name (`localhost`, `.local`, `.internal`, a single label).
 * The host is judged as the URL parser normalizes it: `http://2130706433/` is `127.0.0.1`.
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
  const refusal = options.allowPrivate ? null : hostRefusal(url.hostname);
  if (refusal !== null) throw new InvalidInputError(field, `${refusal}; ${POLICY}`);
  return url;
}

/**
 * Why webhooks must not go to `hostname`, as a sentence, or null when they may: the host itself
 * is refused (see `checkWebhookUrl`), or `resolve` maps it to a special-purpose address or to
 * something that is no address. When the name does not resolve, or to nothing, creation lets it
 * be (the check runs again before each delivery) and delivery refuses it: a request must not
 * leave for a name whose address was never judged.
 */
export async function targetRefusal(hostname: string, resolve: ResolveHost | undefined, moment: "creation" | "delivery"): Promise<string | null> {
  const own = hostRefusal(hostname);
  if (own !== null) return `${own}; ${POLICY}`;
  if (!resolve || classifyAddress(hostname) !== null) return null;
  let addresses: readonly string[];
  try {
    addresses = await resolve(hostname);
  } catch {
    return moment === "delivery" ? `${hostname} could not be resolved to check its addresses` : null;
  }
  if (addresses.length === 0) return moment === "delivery" ? `${hostname} resolves to no address` : null;
  for (const address of addresses) {
    const judged = classifyAddress(address);
    if (judged === null) return `${hostname} resolves to "${address}", which is no IP address`;
    if (judged.specialPurpose !== null) {
      return `${hostname} resolves to ${judged.address}, a special-purpose address (${judged.specialPurpose}); ${POLICY}`;
    }
  }
  return null;
}
