// Named properties whose valid values the schema cannot tell: an `agent_id` must be a real agent
// of the caller, an `inboxId` an inbox of the workflow in the path, a form's fields must be
// distinct, a webhook `url` a public-looking target. Each hint mixes in near misses and hostile values.
import fc from "fast-check";
import { hostileString, type Skips } from "./hostile.js";
import { Absent } from "./path-ids.js";
import { Child, FormValues, Pick, RawJson, type Recipe, WebhookTarget } from "./recipes.js";
import type { Hints } from "./schema-arbitrary.js";

const FIELD_TYPES = ["text", "email", "number", "textarea", "select", "checkbox", "date", "url", "tel", "hidden"] as const;
const PROTO_NAMES = ["constructor", "toString", "__proto__", "valueOf", "hasOwnProperty"] as const;

/** Hosts that look public and are never resolved: the engine is given no `resolveHost`, so nothing is looked up. */
export const PUBLIC_HOSTS = [
  "hooks.example.com",
  "example.org",
  "receiver.example.net",
  "93.184.216.34",
  "[2606:2800:220:1:248:1893:25c8:1946]",
] as const;

/** Loopback, private and link-local targets: refused since webhooks exist. */
const PRIVATE_TARGETS = [
  "http://127.0.0.1/",
  "http://localhost/",
  "http://[::1]/",
  "http://169.254.169.254/latest/meta-data",
  "http://10.0.0.1/",
  "http://192.168.1.1/",
  "http://0.0.0.0/",
  "http://2130706433/",
  "http://0x7f.1/",
] as const;

/** Special-purpose targets of issue 16 row 8 (NAT64, 6to4, site-local, benchmarking, multicast, reserved, broadcast). */
const SPECIAL_TARGETS = [
  "http://[64:ff9b::7f00:1]/",
  "http://[64:ff9b::a9fe:a9fe]/",
  "http://[2002:7f00:1::]/",
  "http://[fec0::1]/",
  "http://[::ffff:0:127.0.0.1]/",
  "http://[ff02::1]/",
  "http://198.18.0.1/",
  "http://192.0.0.1/",
  "http://224.0.0.1/",
  "http://239.255.255.250/",
  "http://240.0.0.1/",
  "http://255.255.255.255/",
] as const;

/** Every webhook target that must be refused. */
export const RESERVED_TARGETS: readonly string[] = [...PRIVATE_TARGETS, ...SPECIAL_TARGETS];

const n = fc.nat({ max: 1000 });

function fields(skips: Skips): fc.Arbitrary<Recipe> {
  const name = skips.has("protoField")
    ? fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
    : fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/) }, { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES) });
  const field = fc.record(
    { name, type: fc.constantFrom(...FIELD_TYPES), required: fc.boolean(), label: fc.string({ maxLength: 12 }) },
    { requiredKeys: ["name", "type"], noNullPrototype: true },
  );
  return fc
    .uniqueArray(field, { minLength: 1, maxLength: 5, selector: (f) => f.name })
    .map((list) => list.map((f) => (f.type === "select" ? { ...f, options: ["a", "b", "c"] } : f)) as Recipe);
}

/** The hints of every body the fuzz sends, given the classes to leave out. */
export function bodyHints(skips: Skips): Hints {
  const weighted = (...options: Array<[number, fc.Arbitrary<Recipe>]>) => fc.oneof(...options.map(([weight, arbitrary]) => ({ weight, arbitrary })));
  const url = weighted(
    [12, fc.tuple(fc.constantFrom(...PUBLIC_HOSTS), fc.stringMatching(/^[a-z0-9/]{0,12}$/)).map(([host, path]) => new WebhookTarget(host, path))],
    [3, fc.constantFrom(...(skips.has("reservedTarget") ? PRIVATE_TARGETS : RESERVED_TARGETS))],
    [
      1,
      fc.constantFrom(
        "javascript:alert(1)",
        "ftp://example.com/",
        "https://user:pass@example.com/",
        "https://example.com:99999/",
        "//example.com",
        "https://",
        `https://example.com/${"a".repeat(3000)}`,
      ),
    ],
  );
  const usageValue = skips.has("hugeNumber")
    ? fc.nat({ max: 100_000 })
    : weighted(
        [10, fc.nat({ max: 100_000 })],
        [1, fc.constantFrom<Recipe>(Number.MAX_SAFE_INTEGER, 2 ** 52, new RawJson("1e308"), new RawJson("9007199254740994"))],
      );
  return {
    agent_id: weighted(
      [8, n.map((i) => new Pick(["agent"], i, "own"))],
      [2, n.map((i) => new Pick(["agent"], i, "other"))],
      [1, n.map((i) => new Absent("agent", i))],
      [1, fc.constantFrom("agent_123", "")],
      [1, hostileString(skips)],
    ),
    inboxId: weighted(
      [8, n.map((i) => new Child("inbox", i))],
      [1, n.map((i) => new Pick(["inbox"], i, "own"))],
      [2, n.map((i) => new Pick(["inbox"], i, "other"))],
      [1, n.map((i) => new Absent("inb", i))],
    ),
    url,
    context_variables: weighted(
      [
        8,
        fc.dictionary(
          fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/),
          fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null)),
          { maxKeys: 4, noNullPrototype: true },
        ),
      ],
      [1, fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3, noNullPrototype: true })],
    ),
    prefill: weighted(
      [
        6,
        fc.tuple(fc.constantFrom("valid", "missing", "extra", "wrong") as fc.Arbitrary<"valid">, n).map(([variant, i]) => new FormValues(variant, i)),
      ],
      [1, fc.constant({})],
    ),
    slug: fc.stringMatching(/^[a-z]{2,3}(-[a-z0-9]{1,3})?$/),
    fields: fields(skips),
    usage: fc.dictionary(fc.constantFrom("input_tokens", "output_tokens", "cached_tokens"), usageValue, { maxKeys: 3, noNullPrototype: true }),
  };
}
