// What the generators produce: small, printable recipes of requests. A recipe names an id by its
// place in the pool of ids the run has made so far, and a hostile value by its shape ("nested 2500
// deep"), so fast-check's counterexample stays short; it becomes bytes only when it is sent.
import fc from "fast-check";

/** The kinds of ids the pool keeps, each created by one operation of the API. */
export const KINDS = [
  "form",
  "formSession",
  "workflow",
  "inbox",
  "wait",
  "thread",
  "action",
  "agent",
  "agentSession",
  "webhook",
  "event",
  "message",
] as const;
export type Kind = (typeof KINDS)[number];

/** Resolves what a recipe leaves to the moment it is sent: ids from the pool, a form's fields. */
export interface Resolver {
  /** A real id of the acting organization (`own`) or of the other one, or a fresh one when the pool has none. */
  pick(kinds: readonly Kind[], n: number, org: "own" | "other"): string;
  /** A parent and child that belong together (a thread and its action, a workflow and its inbox). */
  pair(child: "action" | "inbox", n: number, role: "parent" | "child", org: "own" | "other"): string;
  /** A form's slug, of either organization. */
  slug(n: number, org: "own" | "other"): string;
  /** A child of the record the request's path names (an inbox of the workflow), or any of its kind. */
  child(kind: Kind, n: number): string;
  /** A list's `nextCursor`, of either organization. */
  cursor(n: number, org: "own" | "other"): string;
  /** The acting organization's id: webhook targets carry it, so a delivery shows whose endpoint it went to. */
  orgId(): string;
  /** Values for the fields of the form the request's path names. */
  formValues(variant: FormVariant, n: number): Record<string, string>;
}

export type FormVariant = "valid" | "missing" | "extra" | "wrong";

/** A part of a recipe resolved or rendered at send time. */
export abstract class Special {
  /** As JSON text inside a body. */
  abstract json(resolver: Resolver): string;
  /** As it is printed in a counterexample. */
  abstract label(): string;
  [fc.toStringMethod](): string {
    return this.label();
  }
  toString(): string {
    return this.label();
  }
}

/** A JSON value as the generators build it; objects with odd keys are `Entries`. */
export type Recipe = null | boolean | number | string | Special | readonly Recipe[] | { readonly [key: string]: Recipe };

/** Serializes a recipe as JSON text; hostile parts are spliced in as text, never built as objects. */
export function jsonText(value: Recipe, resolver: Resolver): string {
  if (value instanceof Special) return value.json(resolver);
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => jsonText(item, resolver)).join(",")}]`;
  const record = value as { readonly [key: string]: Recipe };
  return `{${Object.keys(record)
    .map((key) => `${JSON.stringify(key)}:${jsonText(record[key]!, resolver)}`)
    .join(",")}}`;
}

/** JSON text given as it is: numbers JavaScript cannot hold (`1e309`, `-0`, 400 digits), bare words. */
export class RawJson extends Special {
  constructor(readonly text: string) {
    super();
  }
  json(): string {
    return this.text;
  }
  label(): string {
    return `raw(${this.text.length > 40 ? `${this.text.slice(0, 40)}…` : this.text})`;
  }
}

/** A value nested `depth` levels deep, written as text (building it would overflow a stack first). */
export class Deep extends Special {
  constructor(
    readonly depth: number,
    readonly shape: "object" | "array" | "mixed",
  ) {
    super();
  }
  json(): string {
    if (this.shape === "object") return `${'{"a":'.repeat(this.depth)}1${"}".repeat(this.depth)}`;
    if (this.shape === "array") return `${"[".repeat(this.depth)}1${"]".repeat(this.depth)}`;
    const pairs = Math.ceil(this.depth / 2);
    return `${'{"k":['.repeat(pairs)}1${"]}".repeat(pairs)}`;
  }
  label(): string {
    return `deep(${this.depth},${this.shape})`;
  }
}

/** A string of `unit` repeated `count` times. */
export class Huge extends Special {
  constructor(
    readonly unit: string,
    readonly count: number,
  ) {
    super();
  }
  value(): string {
    return this.unit.repeat(this.count);
  }
  json(): string {
    return `"${JSON.stringify(this.unit).slice(1, -1).repeat(this.count)}"`;
  }
  label(): string {
    return `huge(${JSON.stringify(this.unit)}×${this.count})`;
  }
}

/** An object with any keys, in order, repeats allowed: `__proto__`, `constructor`, 201 characters. */
export class Entries extends Special {
  constructor(readonly pairs: ReadonlyArray<readonly [string, Recipe]>) {
    super();
  }
  json(resolver: Resolver): string {
    return `{${this.pairs.map(([key, value]) => `${JSON.stringify(key)}:${jsonText(value, resolver)}`).join(",")}}`;
  }
  label(): string {
    return `entries(${this.pairs.map(([key, value]) => `${key.length > 24 ? `${key.slice(0, 24)}…(${key.length})` : JSON.stringify(key)}: ${String(value)}`).join(", ")})`;
  }
}

/** The `n`th real id of the given kinds (taken modulo the pool), of the acting or the other organization. */
export class Pick extends Special {
  constructor(
    readonly kinds: readonly Kind[],
    readonly n: number,
    readonly org: "own" | "other",
  ) {
    super();
  }
  value(resolver: Resolver): string {
    return resolver.pick(this.kinds, this.n, this.org);
  }
  json(resolver: Resolver): string {
    return JSON.stringify(this.value(resolver));
  }
  label(): string {
    return `${this.org === "own" ? "" : "other:"}${this.kinds.join("|")}#${this.n}`;
  }
}

/** One of a parent and child pair: the thread of an action and the action, a workflow and its inbox. */
export class Pair extends Special {
  constructor(
    readonly child: "action" | "inbox",
    readonly n: number,
    readonly role: "parent" | "child",
    readonly org: "own" | "other" = "own",
  ) {
    super();
  }
  value(resolver: Resolver): string {
    return resolver.pair(this.child, this.n, this.role, this.org);
  }
  json(resolver: Resolver): string {
    return JSON.stringify(this.value(resolver));
  }
  label(): string {
    return `${this.org === "own" ? "" : "other:"}${this.role}-of-${this.child}#${this.n}`;
  }
}

/** A form's slug, of either organization. */
export class Slug extends Special {
  constructor(
    readonly n: number,
    readonly org: "own" | "other",
  ) {
    super();
  }
  value(resolver: Resolver): string {
    return resolver.slug(this.n, this.org);
  }
  json(resolver: Resolver): string {
    return JSON.stringify(this.value(resolver));
  }
  label(): string {
    return `${this.org === "own" ? "" : "other:"}slug#${this.n}`;
  }
}

/** Values for the fields of the form in the request's path: right, missing some, extra or of the wrong type. */
export class FormValues extends Special {
  constructor(
    readonly variant: FormVariant,
    readonly n: number,
  ) {
    super();
  }
  json(resolver: Resolver): string {
    return JSON.stringify(resolver.formValues(this.variant, this.n));
  }
  label(): string {
    return `formValues(${this.variant}#${this.n})`;
  }
}

/** A child of the record in the request's path: the inbox a wait of that workflow listens to. */
export class Child extends Special {
  constructor(
    readonly kind: Kind,
    readonly n: number,
  ) {
    super();
  }
  value(resolver: Resolver): string {
    return resolver.child(this.kind, this.n);
  }
  json(resolver: Resolver): string {
    return JSON.stringify(this.value(resolver));
  }
  label(): string {
    return `${this.kind}-of-path#${this.n}`;
  }
}

/** A `nextCursor` a list answered, of either organization. */
export class Cursor extends Special {
  constructor(
    readonly n: number,
    readonly org: "own" | "other",
  ) {
    super();
  }
  value(resolver: Resolver): string {
    return resolver.cursor(this.n, this.org);
  }
  json(resolver: Resolver): string {
    return JSON.stringify(this.value(resolver));
  }
  label(): string {
    return `${this.org === "own" ? "" : "other:"}cursor#${this.n}`;
  }
}

/** A webhook target on a public-looking host whose path names the acting organization. */
export class WebhookTarget extends Special {
  constructor(
    readonly host: string,
    readonly path: string,
  ) {
    super();
  }
  json(resolver: Resolver): string {
    return JSON.stringify(`https://${this.host}/${resolver.orgId()}/${this.path}`);
  }
  label(): string {
    return `https://${this.host}/<org>/${this.path}`;
  }
}
