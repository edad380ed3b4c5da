// What a path parameter holds: a real id (of the acting organization or the other one), a
// well-formed id nobody created, a near miss of a real id, or a segment that cannot be an id.
import fc from "fast-check";
import { type HostileClass, hostileIdTexts, type Skips } from "./hostile.js";
import { type Kind, Pair, Pick, type Resolver, Slug, Special } from "./recipes.js";

/** The prefix of each kind's ids. */
export const PREFIXES: Readonly<Record<Kind, string>> = {
  form: "form",
  formSession: "sess",
  workflow: "sess",
  inbox: "inb",
  wait: "wait",
  thread: "thread",
  action: "act",
  agent: "agent",
  agentSession: "session",
  webhook: "wh",
  event: "evt",
  message: "msg",
};

/** A well-formed id of `prefix` that no one created (a hex number no generator makes). */
export class Absent extends Special {
  constructor(
    readonly prefix: string,
    readonly n: number,
  ) {
    super();
  }
  value(): string {
    return `${this.prefix}_ffff${(this.n >>> 0).toString(16).padStart(28, "0")}`;
  }
  json(): string {
    return JSON.stringify(this.value());
  }
  label(): string {
    return `absent(${this.prefix}#${this.n})`;
  }
}

/** A segment sent as this URL text, as it is. */
export class UrlText extends Special {
  constructor(readonly text: string) {
    super();
  }
  json(): string {
    return JSON.stringify(this.text);
  }
  label(): string {
    return `url(${this.text.length > 40 ? `${this.text.slice(0, 40)}…(${this.text.length})` : this.text})`;
  }
}

/** Near misses of a real id, as URL text: a store that compares loosely (case, trailing spaces) would find the record. */
const MUTATIONS = {
  upper: (id: string) => id.toUpperCase(),
  firstUpper: (id: string) => id.charAt(0).toUpperCase() + id.slice(1),
  trailingSpace: (id: string) => `${id}%20`,
  leadingSpace: (id: string) => `%20${id}`,
  trailingNul: (id: string) => `${id}%00`,
  trailingNewline: (id: string) => `${id}%0A`,
  trailingTab: (id: string) => `${id}%09`,
  zeroWidth: (id: string) => `${id}%E2%80%8B`,
  truncated: (id: string) => id.slice(0, -1),
  extended: (id: string) => `${id}0`,
  wildcard: (id: string) => `${id.slice(0, -3)}%25`,
  otherPrefix: (id: string) => id.replace(/^[a-z]+_/, (prefix) => (prefix === "sess_" ? "thread_" : "sess_")),
  fullwidth: (id: string) => id.replace(/[0-9]/, (digit) => encodeURIComponent(String.fromCharCode(0xff10 + Number(digit)))),
} as const;
export type Mutation = keyof typeof MUTATIONS;

/** The class of a near miss, where it has one a fix may not have reached. */
const MUTATION_CLASS: Partial<Record<Mutation, HostileClass>> = {
  trailingSpace: "paddedId",
  leadingSpace: "paddedId",
  trailingNewline: "paddedId",
  trailingTab: "paddedId",
  trailingNul: "nul",
  zeroWidth: "oddText",
  fullwidth: "oddText",
};

/** A near miss of a real id. */
export class Mutated extends Special {
  constructor(
    readonly how: Mutation,
    readonly of: Pick | Slug,
  ) {
    super();
  }
  text(resolver: Resolver): string {
    return MUTATIONS[this.how](this.of.value(resolver));
  }
  json(resolver: Resolver): string {
    return JSON.stringify(decoded(this.text(resolver)) ?? this.text(resolver));
  }
  label(): string {
    return `${this.how}(${this.of.label()})`;
  }
}

/** What a path parameter is given. */
export type PathId = Pick | Pair | Slug | Absent | UrlText | Mutated;

/** The URL text of a path parameter. */
export function pathText(id: PathId, resolver: Resolver): string {
  if (id instanceof UrlText) return id.text;
  if (id instanceof Mutated) return id.text(resolver);
  if (id instanceof Absent) return id.value();
  return encodeURIComponent(id.value(resolver));
}

/** A segment as the router decodes it, or `null` when it is not valid percent-encoded UTF-8. */
export function decoded(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** Whether a decoded segment could name anything: a prefixed id, or a form's slug. */
export function couldBeId(value: string): boolean {
  return /^[a-z]+_[0-9a-f]{32}$/.test(value) || (value.length <= 64 && /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(value));
}

/** An arbitrary of path parameter values for a parameter that names one of `kinds`. */
export function pathIdFor(
  kinds: readonly Kind[],
  pair: { child: "action" | "inbox"; role: "parent" | "child" } | null,
  skips: Skips,
): fc.Arbitrary<PathId> {
  const mutations = (Object.keys(MUTATIONS) as Mutation[]).filter((how) => !skips.has(MUTATION_CLASS[how]!));
  const n = fc.nat({ max: 1000 });
  const real = pair ? n.map((i) => new Pair(pair.child, i, pair.role)) : n.map((i) => new Pick(kinds, i, "own"));
  const mutable = kinds.includes("form")
    ? fc.oneof(
        n.map((i) => new Pick(kinds, i, "own")),
        n.map((i) => new Slug(i, "own")),
      )
    : n.map((i) => new Pick(kinds, i, "own"));
  const options: fc.WeightedArbitrary<PathId>[] = [
    { weight: 30, arbitrary: real },
    { weight: 4, arbitrary: pair ? n.map((i) => new Pair(pair.child, i, pair.role, "other")) : n.map((i) => new Pick(kinds, i, "other")) },
    {
      weight: 2,
      arbitrary: n.map(
        (i) =>
          new Pick(["form", "formSession", "workflow", "thread", "action", "inbox", "wait", "agent", "agentSession", "webhook", "event"], i, "own"),
      ),
    },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...kinds), n).map(([kind, i]) => new Absent(PREFIXES[kind], i)) },
    { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...mutations), mutable).map(([how, of]) => new Mutated(how, of)) },
    { weight: 4, arbitrary: fc.constantFrom(...hostileIdTexts(skips)).map((text) => new UrlText(text)) },
  ];
  if (kinds.includes("form")) {
    options.push({ weight: 6, arbitrary: n.map((i) => new Slug(i, "own")) }, { weight: 2, arbitrary: n.map((i) => new Slug(i, "other")) });
  }
  return fc.oneof(...options);
}
