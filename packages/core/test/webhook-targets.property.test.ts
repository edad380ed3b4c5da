// Generated addresses against the IANA registries written out in iana-registry.ts: every address
// of a special-purpose block is refused in every URL spelling, every other one is accepted.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, classifyAddress } from "../src/index.js";
import { type Block, block, IPV4_CARRYING, IPV4_SPECIAL, IPV6_SPECIAL, inBlock, v4Text, v6Text } from "./iana-registry.js";

const RUNS = { numRuns: 300 };

/** An address inside `b`: its prefix, then random bits. */
const inside = (b: Block) => fc.bigInt({ min: 0n, max: (1n << BigInt(b.width - b.bits)) - 1n }).map((offset) => b.base + offset);
const specialV4 = fc.constantFrom(...IPV4_SPECIAL).chain(inside);
const anyV4 = fc.bigInt({ min: 0n, max: 0xffffffffn });
const publicV4 = anyV4.filter((value) => !IPV4_SPECIAL.some((b) => inBlock(value, b)));

/** How a URL may spell an IPv4 host: dotted, one decimal number, hex, octal octets, with a trailing dot. */
const v4Spelling = fc.constantFrom(
  (value: bigint) => v4Text(value),
  (value: bigint) => value.toString(10),
  (value: bigint) => `0x${value.toString(16)}`,
  (value: bigint) =>
    v4Text(value)
      .split(".")
      .map((octet) => `0${Number(octet).toString(8)}`)
      .join("."),
  (value: bigint) => `${v4Text(value)}.`,
);

function refused(url: string): boolean {
  try {
    checkWebhookUrl(url, { allowPrivate: false });
    return false;
  } catch (error) {
    return (error as Error).message.startsWith("url: ") && (error as Error).message.includes("special-purpose address");
  }
}

describe("webhook targets, generated from the IANA registries", () => {
  it("refuses every IPv4 address of a special-purpose block, however the URL spells it", () => {
    fc.assert(
      fc.property(specialV4, v4Spelling, (value, spell) => {
        expect(classifyAddress(v4Text(value))?.specialPurpose).toEqual(expect.any(String));
        expect(refused(`http://${spell(value)}/hook`)).toBe(true);
      }),
      RUNS,
    );
  });

  it("refuses every IPv6 address of a special-purpose block, whatever it embeds", () => {
    const special = fc.constantFrom(...IPV6_SPECIAL).chain(inside);
    fc.assert(
      fc.property(special, fc.boolean(), (value, upper) => {
        const text = upper ? v6Text(value).toUpperCase() : v6Text(value);
        expect(classifyAddress(text)?.specialPurpose).toEqual(expect.any(String));
        expect(refused(`https://[${text}]:8443/hook`)).toBe(true);
      }),
      RUNS,
    );
  });

  it("judges an IPv4-mapped, IPv4-translated or NAT64 address by the IPv4 address it carries", () => {
    const carrying = fc.constantFrom(...IPV4_CARRYING).map(([form, prefix]) => [form, block(prefix, 128)] as const);
    fc.assert(
      fc.property(carrying, fc.oneof(specialV4, publicV4), fc.boolean(), ([form, prefix], v4, dotted) => {
        const value = prefix.base + v4;
        const text = dotted ? `${v6Text(value).split(":").slice(0, 6).join(":")}:${v4Text(v4)}` : v6Text(value);
        const special = IPV4_SPECIAL.some((b) => inBlock(v4, b));
        const judged = classifyAddress(text)!;
        expect(judged.specialPurpose === null ? null : judged.specialPurpose.startsWith(`${form} of ${v4Text(v4)}, `)).toBe(special ? true : null);
        expect(refused(`http://[${text}]/`)).toBe(special);
      }),
      RUNS,
    );
  });

  it("accepts every IPv4 address outside the registry, and every IPv6 one in 2000::/3 outside it", () => {
    fc.assert(
      fc.property(publicV4, v4Spelling, (value, spell) => {
        expect(classifyAddress(v4Text(value))).toEqual({ address: v4Text(value), specialPurpose: null });
        expect(refused(`http://${spell(value)}/`)).toBe(false);
      }),
      RUNS,
    );
    const globalUnicast = inside(block("2000::/3", 128)).filter((value) => !IPV6_SPECIAL.some((b) => inBlock(value, b)));
    fc.assert(
      fc.property(globalUnicast, (value) => {
        expect(classifyAddress(v6Text(value))?.specialPurpose).toBeNull();
        expect(refused(`https://[${v6Text(value)}]/`)).toBe(false);
      }),
      RUNS,
    );
  });

  it("refuses every IPv6 address outside 2000::/3 that carries no IPv4 address a connection reaches", () => {
    const carriers = IPV4_CARRYING.map(([, prefix]) => block(prefix, 128));
    const outside = fc
      .bigInt({ min: 0n, max: (1n << 128n) - 1n })
      .filter((value) => !inBlock(value, block("2000::/3", 128)) && !carriers.some((b) => inBlock(value, b)));
    fc.assert(
      fc.property(outside, (value) => {
        expect(refused(`http://[${v6Text(value)}]/`)).toBe(true);
      }),
      RUNS,
    );
  });
});
