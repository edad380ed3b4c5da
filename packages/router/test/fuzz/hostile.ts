// Values an attacker sends instead of the documented ones, by class, so a class that a fix has not
// reached yet can be left out by name (see `known.ts`) while every other class keeps running.
import fc from "fast-check";
import { Deep, Entries, Huge, RawJson, type Recipe } from "./recipes.js";

/** The classes of hostile values; `known.ts` may leave some out until their fix lands. */
export type HostileClass =
  | "deep" // nested past 32 levels, up to thousands
  | "deepAtLimit" // nested 24 to 32 levels: within the limit of issue 16 item 1
  | "nul" // U+0000 in a string or a key
  | "surrogate" // a lone UTF-16 surrogate
  | "oddText" // RTL overrides, zero-width and combining marks, markup, quotes
  | "longKey" // an object key past 200 characters
  | "protoKey" // __proto__, constructor, toString… as keys or field names
  | "hugeNumber" // past 2^53, 1e308, 1e309 (Infinity once parsed), 400 digits
  | "oddNumber" // negative, fractional, -0, exponent notation
  | "hugeString" // long past every field limit, and past the body limit
  | "wrongType" // an array, object, null, boolean or number where another type is declared
  | "reservedTarget" // a webhook URL on a special-purpose address range
  | "protoField" // a form field named like a member of Object.prototype
  | "paddedId"; // a real id with a space, tab or newline before or after it

/** Which classes the generators leave out. */
export type Skips = ReadonlySet<HostileClass>;

const tagged = <T>(cls: HostileClass, arbitrary: fc.Arbitrary<T>) => ({ cls, arbitrary });

function among<T>(
  skips: Skips,
  options: ReadonlyArray<{ cls: HostileClass; arbitrary: fc.Arbitrary<T> }>,
  fallback: fc.Arbitrary<T>,
): fc.Arbitrary<T> {
  const kept = options.filter((option) => !skips.has(option.cls)).map((option) => option.arbitrary);
  return kept.length > 0 ? fc.oneof(...kept) : fallback;
}

const ODD_TEXT = [
  "\u202eevil.exe",
  "a\u200bb",
  "\ufeff",
  "\u2028\u2029",
  "\u0085",
  "e\u0301\u0301\u0301",
  "<script>alert(1)</script>",
  "\"'><img src=x onerror=alert(1)>",
  "' OR '1'='1",
  "'; DROP TABLE records; --",
  "\\",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as plain text
  "${process.env}",
  "{{7*7}}",
  "\r\n\r\n",
  "\t",
  " ",
  "",
  "%00",
  "\u{10ffff}",
  "\uffff",
  "👍🏽",
  "𝕏",
  "null",
  "[object Object]",
];
const NUL_TEXT = ["\u0000", "a\u0000b", "\u0000\u0000\u0000", `${"x".repeat(10)}\u0000`];
const SURROGATE_TEXT = ["\ud800", "\udfff", "a\ud800b", "\udc00\ud800", "\ud83d"];
const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "__defineGetter__", "isPrototypeOf"];
const HUGE_NUMBERS = [
  "1e308",
  "-1e308",
  "1.7976931348623157e308",
  "1e309",
  "-1e309",
  "9007199254740992",
  "9007199254740993",
  "9007199254740994",
  "-9007199254740993",
  "18446744073709551616",
  `1${"0".repeat(400)}`,
  "123456789012345678901234567890",
];
const ODD_NUMBERS = ["-1", "-0", "0.5", "1.0", "1E+2", "5e-324", "1e-400", "-2147483649", "4294967296", "0.1e1", "-0.0"];

/** A string an attacker would send in a text field. */
export function hostileString(skips: Skips): fc.Arbitrary<Recipe> {
  return among<Recipe>(
    skips,
    [
      tagged("oddText", fc.constantFrom(...ODD_TEXT)),
      tagged("nul", fc.constantFrom(...NUL_TEXT)),
      tagged("surrogate", fc.constantFrom(...SURROGATE_TEXT)),
      tagged("protoKey", fc.constantFrom(...PROTO_KEYS)),
      tagged("hugeString", fc.constantFrom(new Huge("a", 70_000), new Huge("é", 300_000), new Huge("a", 1_100_000), new Huge("\\", 50_000))),
      tagged("oddText", fc.string({ unit: "grapheme", maxLength: 12 })),
      // "binary" units include lone surrogates.
      tagged("surrogate", fc.string({ unit: "binary", maxLength: 12 })),
    ],
    fc.constant("plain"),
  );
}

/** A number outside what a field documents, written as JSON text so `1e309` and `-0` reach the server as sent. */
export function hostileNumber(skips: Skips): fc.Arbitrary<Recipe> {
  return among<Recipe>(
    skips,
    [
      tagged(
        "hugeNumber",
        fc.constantFrom(...HUGE_NUMBERS).map((text) => new RawJson(text)),
      ),
      tagged(
        "oddNumber",
        fc.constantFrom(...ODD_NUMBERS).map((text) => new RawJson(text)),
      ),
      tagged("oddNumber", fc.double({ noNaN: true, noDefaultInfinity: true })),
    ],
    fc.constant(0),
  );
}

/** A key an attacker would put in an object. */
export function hostileKey(skips: Skips): fc.Arbitrary<string> {
  return among<string>(
    skips,
    [
      tagged("protoKey", fc.constantFrom(...PROTO_KEYS)),
      tagged("longKey", fc.constantFrom("k".repeat(201), "K".repeat(1000), "é".repeat(201))),
      tagged("nul", fc.constantFrom("\u0000", "a\u0000")),
      tagged("surrogate", fc.constantFrom("\ud800", "k\udfff")),
      tagged("oddText", fc.constantFrom("", " ", "a.b", "a[0]", "$where", "\u202ekey", "🔑", "k".repeat(200))),
    ],
    fc.constant("key"),
  );
}

/** A value nested near the limit of 32 levels, past it, and thousands of levels deep. */
export function deepValue(skips: Skips): fc.Arbitrary<Recipe> {
  const depths = [...(skips.has("deepAtLimit") ? [] : [24, 30, 31, 32]), ...(skips.has("deep") ? [] : [33, 64, 200, 1000, 2500, 5000, 20_000])];
  if (depths.length === 0) return fc.constant(new Deep(8, "object"));
  return fc
    .tuple(fc.constantFrom(...depths), fc.constantFrom<"object" | "array" | "mixed">("object", "array", "mixed"))
    .map(([depth, shape]) => new Deep(depth, shape));
}

/** A value of a JSON type other than the one a field declares. */
export function wrongType(skips: Skips): fc.Arbitrary<Recipe> {
  if (skips.has("wrongType")) return fc.constant(null);
  return fc.constantFrom<Recipe>([], {}, null, true, false, 0, 1, "", "1", "true", [1, 2], { a: 1 }, [[]], [{}]);
}

/** Any hostile value, for a free-form place (metadata, previews, step input) or a typed field. */
export function hostileValue(skips: Skips): fc.Arbitrary<Recipe> {
  const key = hostileKey(skips);
  const leaf = fc.oneof(hostileString(skips), hostileNumber(skips), wrongType(skips));
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 2, arbitrary: deepValue(skips) },
    {
      weight: 2,
      arbitrary: fc.array(fc.tuple(key, fc.oneof(leaf, fc.constant<Recipe>("v"))), { minLength: 1, maxLength: 3 }).map((pairs) => new Entries(pairs)),
    },
    // Many keys, many items: wide rather than deep.
    {
      weight: 1,
      arbitrary: fc.constantFrom<Recipe>(
        new RawJson(`{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(",")}}`),
        new RawJson(`[${"0,".repeat(100_000)}0]`),
      ),
    },
  );
}

/** Whole bodies that are not the JSON object a route reads. */
export function hostileJsonText(skips: Skips): fc.Arbitrary<string | Recipe> {
  const texts: string[] = [
    "{",
    "}",
    "[",
    '{"a":}',
    "{'a':1}",
    '{"a":1}{}',
    "\ufeff{}",
    "NaN",
    "Infinity",
    "1e999",
    "null",
    "true",
    "1",
    '"x"',
    "[]",
    "[{}]",
    "{}garbage",
    '{"a":1,}',
    "/* */{}",
    '{"a":"\\x41"}',
    "undefined",
  ];
  if (!skips.has("surrogate")) texts.push('{"a":"\\ud800"}');
  if (!skips.has("nul")) texts.push('{"a":"\u0000"}', '{"a":"\\u0000"}');
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...texts) },
    { weight: 1, arbitrary: deepValue(skips) },
    { weight: 1, arbitrary: fc.constant<Recipe>(new Huge("a", 1_100_000)) },
  );
}

/** A path segment that cannot be an id, as URL text (encoded NUL, traversal, bad UTF-8, far too long), with its class if it has one. */
const ID_TEXTS: ReadonlyArray<readonly [string, HostileClass?]> = [
  ["%00", "nul"],
  ["a%00b", "nul"],
  ["sess_%00", "nul"],
  ["..%2f..%2fv1%2fforms"],
  ["..%2F..%2F..%2Fopenapi.json"],
  ["%2e%2e%2fx"],
  ["%ff"],
  ["%ED%A0%80"],
  ["%C0%AF"],
  ["%F0%9F%92%A9", "oddText"],
  ["%E2%80%AEsess_1", "oddText"],
  ["x".repeat(5000)],
  ["a".repeat(300)],
  ["__proto__", "protoKey"],
  ["constructor", "protoKey"],
  ["toString", "protoKey"],
  ["null"],
  ["-1"],
  ["1e3"],
  ["%20"],
  ["%09"],
  ["%27%20OR%20%271%27%3D%271", "oddText"],
  ["*"],
  ["%7Ba%7D"],
  ["sess_*"],
  ["a:b"],
  ["%5C"],
  ["%3B"],
  ["%25"],
  [`sess_${"0".repeat(32)}`],
  [`SESS_${"A".repeat(32)}`],
  [`thread_${"f".repeat(31)}g`],
];

/** The segments that cannot be ids, without the classes left out. */
export function hostileIdTexts(skips: Skips): string[] {
  return ID_TEXTS.filter(([, cls]) => cls === undefined || !skips.has(cls)).map(([text]) => text);
}

const HUGE_QUERY_NUMBERS = ["1e30", "9007199254740992", "9007199254740993", "99999999999999999999999", "4294967296"];

/** Query values an attacker sends for a documented parameter, without the classes left out. */
export function hostileQueryValues(skips: Skips): Readonly<Record<"number" | "timeout" | "text", readonly string[]>> {
  const number = [
    "0",
    "101",
    "-1",
    "1.5",
    "1e2",
    "9007199254740991",
    "abc",
    "",
    "%00",
    "%205",
    "5%20",
    "0x10",
    "%2B5",
    "05",
    "%D9%A5",
    "%EF%BC%91",
    "NaN",
    "Infinity",
    "5%00",
  ];
  return {
    number: skips.has("hugeNumber") ? number : [...number, ...HUGE_QUERY_NUMBERS],
    timeout: ["-1", "1e308", "NaN", "Infinity", "99999", "abc", "1e-9", ".5", "5.", "0.001"],
    text: ["", "%00", "x".repeat(3000), "eyJhIjoxfQ", "null", "-1", "%ED%A0%80", "%ff", "a%00b", "*", "%27"],
  };
}

/** Query parameter names no route documents. */
export const unknownQueryNames: readonly string[] = [
  "foo",
  "__proto__",
  "constructor",
  "limit%5B%5D",
  "LIMIT",
  "%00",
  "a".repeat(300),
  "toString",
  "&&",
  "=",
  "%26",
  "x".repeat(20_000),
];

const ascii = (text: string) => Array.from(text, (char) => char.charCodeAt(0));

/** Bodies that are not valid UTF-8 (stray bytes, an encoded surrogate, an overlong slash, UTF-16 with its BOM), by index. */
export const INVALID_UTF8: ReadonlyArray<readonly number[]> = [
  [...ascii('{"name":"'), 0xff, 0xfe, ...ascii('"}')],
  [...ascii('{"name":"'), 0xed, 0xa0, 0x80, ...ascii('"}')],
  [...ascii('{"name":"'), 0xc0, 0xaf, ...ascii('"}')],
  [...ascii('{"name":"'), 0xe2, 0x82, ...ascii('"}')],
  [0xff, 0xfe, ...Array.from('{"name":"x"}', (char) => [char.charCodeAt(0), 0]).flat()],
  [...ascii("email="), 0xff, ...ascii("&issue="), 0xc3],
];
