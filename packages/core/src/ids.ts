import { InvalidInputError } from "./errors.js";

/**
 * The prefixes of ids that name parts of records and other things that are not records (a
 * record kind's prefix is in its descriptor, `kinds/`, and so are its parts' where its file
 * declares them, as `kinds/workflow.ts` does; `ID_PREFIXES` joins them all).
 */
export const PART_PREFIXES = {
  event: "evt",
  organization: "org",
  delivery: "dlv",
  outbox: "obx",
} as const;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const ID_PATTERN = /^([a-z]+)_([0-9a-f]{32})$/;
const POOL_SIZE = 4096;
const RANDOM_BYTES = 10;
/** The character codes of `0`–`9` and `a`–`f`. */
const HEX_DIGITS = Uint8Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0));
const ascii = new TextDecoder();

let lastMs = Number.NaN;
let lastHex = "";

/**
 * A millisecond as the 12 hex digits that start an id. Remembers the last one: the ids and events
 * of one write, and most writes of one millisecond, share it.
 */
function hexTime(ms: number): string {
  const whole = Math.max(0, Math.floor(ms));
  if (whole !== lastMs) {
    lastHex = whole.toString(16).padStart(12, "0").slice(-12);
    lastMs = whole;
  }
  return lastHex;
}

/**
 * Makes prefixed, time-ordered ids: a prefix, `_`, then 32 lowercase hex digits laid out like a
 * UUIDv7 without dashes: 48 bits of milliseconds, then 80 fresh random bits from Web Crypto.
 * Ids sort by the millisecond they were made in; within one millisecond their order is random,
 * so no id can be guessed from another (a form session's id is its hosted page's capability).
 */
export function createIdGenerator(now: () => number = Date.now): (prefix: string) => string {
  const pool = new Uint8Array(POOL_SIZE);
  const digits = new Uint8Array(POOL_SIZE * 2);
  // The pool as one string of hex digits: an id takes a slice of it instead of joining ten pairs.
  let randomHex = "";
  let offset = POOL_SIZE * 2;
  return (prefix: string): string => {
    if (offset + RANDOM_BYTES * 2 > randomHex.length) {
      globalThis.crypto.getRandomValues(pool);
      for (let i = 0; i < POOL_SIZE; i++) {
        digits[2 * i] = HEX_DIGITS[pool[i]! >>> 4]!;
        digits[2 * i + 1] = HEX_DIGITS[pool[i]! & 0xf]!;
      }
      randomHex = ascii.decode(digits);
      offset = 0;
    }
    const start = offset;
    offset += RANDOM_BYTES * 2;
    return flat(prefix, "_", hexTime(now()), randomHex.slice(start, offset));
  };
}

/** The millisecond timestamp an id was made at. */
export function idTime(id: string): number {
  const match = ID_PATTERN.exec(id);
  if (!match) throw new InvalidInputError("id", `"${id}" is not a prefixed id`);
  return parseInt(match[2]!.slice(0, 12), 16);
}

/** One compiled pattern per prefix asked about: `^prefix_[0-9a-f]{32}$`. */
const PREFIXED = new Map<string, RegExp>();

/** True when `id` is `<prefix>_` followed by 32 lowercase hex digits. */
export function isPrefixedId(id: unknown, prefix: string): id is string {
  if (typeof id !== "string" || id.length !== prefix.length + 33) return false;
  let pattern = PREFIXED.get(prefix);
  if (pattern === undefined) {
    // Every read and write of a record asks this: a pattern without groups, made once per prefix.
    pattern = /^[a-z]+$/.test(prefix) ? new RegExp(`^${prefix}_[0-9a-f]{32}$`) : /(?!)/;
    if (PREFIXED.size < 64) PREFIXED.set(prefix, pattern);
  }
  return pattern.test(id);
}

/** True when a caller's text is short and plain enough to name in a message ("Action act_… not found"). */
export function isShowable(text: string): boolean {
  return /^[\w-]{1,100}$/.test(text);
}

/** True when `id` is some prefix, `_`, then 32 lowercase hex digits: the shape of every id handed out. */
export function isRecordId(id: unknown): id is string {
  return typeof id === "string" && ID_PATTERN.test(id);
}

/**
 * A deterministic id for the `seq`-th event of a record: the same record and sequence number
 * always give the same id, so a retried write produces the same event, never a second one.
 */
export function eventId(recordId: string, seq: number, at: number): string {
  // Three 32-bit FNV-1a variants in one pass, each finished with a murmur-style mix.
  let h1 = (0x811c9dc5 ^ seq) >>> 0;
  let h2 = (0x01000193 ^ (seq * 31 + 7)) >>> 0;
  let h3 = (0x9e3779b9 ^ (seq * 131 + 17)) >>> 0;
  for (let i = 0; i < recordId.length; i++) {
    const code = recordId.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 0x01000193);
    h2 = Math.imul(h2 ^ code, 0x01000193);
    h3 = Math.imul(h3 ^ code, 0x01000193);
  }
  return flat("evt_", hexTime(at), hex32(mix(h1, seq)).slice(4), hex32(mix(h2, seq * 31 + 7)), hex32(mix(h3, seq * 131 + 17)));
}

/**
 * The parts as one flat string. `+` and template literals make a rope of the pieces (V8 joins
 * strings of 13 characters or more by reference), and an id is kept for as long as its record:
 * as a rope it is a tree of up to five strings that every collection walks and every comparison
 * reads piece by piece, and its random part a slice that keeps the whole 8 KB pool alive. `join`
 * copies the characters into one string.
 */
function flat(...parts: string[]): string {
  return parts.join("");
}

function mix(hash: number, salt: number): number {
  hash = (hash ^ salt) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
  hash = Math.imul(hash ^ (hash >>> 12), 0x297a2d39);
  return (hash ^ (hash >>> 15)) >>> 0;
}

function hex32(value: number): string {
  return HEX[value >>> 24]! + HEX[(value >>> 16) & 0xff]! + HEX[(value >>> 8) & 0xff]! + HEX[value & 0xff]!;
}
