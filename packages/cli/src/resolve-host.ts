import { lookup } from "node:dns/promises";

/**
 * Every address a host name resolves to, for the engine's webhook guard: a name that points at
 * a special-purpose address is refused at creation and before each delivery, not only a literal.
 */
export async function resolveHost(hostname: string): Promise<readonly string[]> {
  const addresses = await lookup(hostname, { all: true, verbatim: true });
  return addresses.map((entry) => entry.address);
}
