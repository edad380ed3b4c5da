// The ids a run has seen, per organization, harvested from every successful answer: forms and
// their slugs and fields, sessions, inboxes, waits, threads, actions, agents, webhooks, events,
// cursors. Recipes pick from here when they are sent, so paths reach real records in every state.
import { Absent, PREFIXES } from "./path-ids.js";
import type { FormVariant, Kind, Resolver } from "./recipes.js";

/** A form field as the API answers it. */
export interface FieldShape {
  readonly name: string;
  readonly type: string;
  readonly required?: boolean;
  readonly options?: readonly string[];
}

const ID = /^([a-z]+)_[0-9a-f]{32}$/;
const BY_PREFIX: Readonly<Record<string, Kind>> = {
  form: "form",
  session: "agentSession",
  thread: "thread",
  act: "action",
  inb: "inbox",
  wait: "wait",
  agent: "agent",
  wh: "webhook",
  evt: "event",
  msg: "message",
};

/** What one organization has made and seen during a run. */
export class OrgPool {
  readonly ids = new Map<Kind, string[]>();
  /** Every id harvested, of any kind. */
  readonly known = new Set<string>();
  /** The kind of each id, as first seen. */
  readonly kindOf = new Map<string, Kind>();
  /** Ids deleted since they were seen (a webhook endpoint): reading them is a 404. */
  readonly gone = new Set<string>();
  /** A child's parent: an action's thread, an inbox's or wait's workflow, a form session's form. */
  readonly parents = new Map<string, string>();
  readonly slugs: string[] = [];
  readonly formOfSlug = new Map<string, string>();
  readonly fields = new Map<string, readonly FieldShape[]>();
  readonly cursors: string[] = [];
  /** The list each cursor pages through: its path and status filter. */
  readonly cursorOrigin = new Map<string, string>();
  /** Webhook signing secrets: shown once, in the answer to the creation. */
  readonly secrets = new Set<string>();
  /** Everything this organization sent: an id of the other one found in an answer must come from here. */
  readonly sent: string[] = [];
  /** The states its records and their parts were seen in, as `kind:status`. */
  readonly states = new Set<string>();

  #list = "";

  constructor(readonly orgId: string) {}

  add(kind: Kind, id: string, parent?: unknown, status?: unknown): void {
    if (typeof status === "string") this.states.add(`${kind}:${status}`);
    if (!this.known.has(id)) {
      this.known.add(id);
      this.kindOf.set(id, kind);
      const list = this.ids.get(kind) ?? [];
      list.push(id);
      this.ids.set(kind, list);
    }
    if (typeof parent === "string" && ID.test(parent)) this.parents.set(id, parent);
  }

  list(kinds: readonly Kind[]): string[] {
    return kinds.flatMap((kind) => this.ids.get(kind) ?? []);
  }

  /** Takes every id, slug, field list, cursor and secret out of an answer's JSON; `list` names the list it answered, if any. */
  harvest(body: unknown, list: string): void {
    this.#list = list;
    const stack: unknown[] = [body];
    while (stack.length > 0) {
      const node = stack.pop();
      if (node === null || typeof node !== "object") continue;
      if (Array.isArray(node)) {
        stack.push(...node);
        continue;
      }
      const o = node as Record<string, unknown>;
      this.#object(o);
      stack.push(...Object.values(o));
    }
  }

  #object(o: Record<string, unknown>): void {
    const str = (key: string) => (typeof o[key] === "string" ? (o[key] as string) : undefined);
    const action = str("action_id");
    const thread = str("thread_id");
    if (action && ID.test(action)) this.add("action", action, thread, o.status);
    else if (thread && ID.test(thread)) this.add("thread", thread, undefined, o.status);
    const id = str("id");
    const prefix = id ? ID.exec(id)?.[1] : undefined;
    if (id && prefix) {
      if (prefix === "sess") {
        if (str("form_id")) this.add("formSession", id, o.form_id, o.status);
        else this.add("workflow", id, undefined, o.status);
      } else if (BY_PREFIX[prefix]) {
        this.add(BY_PREFIX[prefix]!, id, o.sessionId ?? o.agent_id ?? o.inboxId, o.status);
      }
      if (prefix === "form" && Array.isArray(o.fields)) this.fields.set(id, o.fields as FieldShape[]);
      const slug = str("slug");
      if (prefix === "form" && slug && !this.formOfSlug.has(slug)) {
        this.slugs.push(slug);
        this.formOfSlug.set(slug, id);
      }
    }
    const sessionId = str("sessionId");
    if (sessionId && ID.test(sessionId)) this.add("workflow", sessionId);
    for (const [key, kind] of [
      ["inboxes", "inbox"],
      ["waits", "wait"],
      ["pending_actions", "action"],
    ] as const) {
      const children = o[key];
      if (!Array.isArray(children)) continue;
      for (const child of children) if (typeof child === "string" && ID.test(child)) this.add(kind, child, kind === "action" ? thread : id);
    }
    const cursor = str("nextCursor");
    if (cursor && !this.cursors.includes(cursor)) {
      this.cursors.push(cursor);
      this.cursorOrigin.set(cursor, this.#list);
    }
    const secret = str("secret");
    if (secret?.startsWith("whsec_")) this.secrets.add(secret);
  }
}

/** A valid value for a field of each type, as a person would type it. */
const VALID: Readonly<Record<string, string>> = {
  text: "hello",
  email: "person@example.com",
  number: "42",
  textarea: "two\nlines",
  checkbox: "on",
  date: "2025-01-15",
  url: "https://example.com/page",
  tel: "+1 555 0100",
  hidden: "kept-server-side",
};
const WRONG: Readonly<Record<string, string>> = {
  email: "not-an-email",
  number: "forty-two",
  checkbox: "maybe",
  date: "2025-02-30",
  url: "javascript:alert(1)",
  tel: "call me",
  select: "no such option",
};

/** Resolves a recipe for the acting organization (`own`) against both pools. */
export class PoolResolver implements Resolver {
  /** The form whose fields `formValues` fills: set once the path is resolved. */
  form: string | null = null;
  /** The ids the request's path names, decoded. */
  pathIds: string[] = [];

  constructor(
    readonly own: OrgPool,
    readonly other: OrgPool,
  ) {}

  #pool(org: "own" | "other"): OrgPool {
    return org === "own" ? this.own : this.other;
  }

  pick(kinds: readonly Kind[], n: number, org: "own" | "other"): string {
    const list = this.#pool(org).list(kinds);
    return list.length > 0 ? list[n % list.length]! : new Absent(PREFIXES[kinds[0]!], n).value();
  }

  pair(child: "action" | "inbox", n: number, role: "parent" | "child", org: "own" | "other"): string {
    const pool = this.#pool(org);
    const children = pool.list([child]).filter((id) => pool.parents.has(id));
    if (children.length === 0) return new Absent(role === "child" ? PREFIXES[child] : child === "action" ? "thread" : "sess", n).value();
    const chosen = children[n % children.length]!;
    return role === "child" ? chosen : pool.parents.get(chosen)!;
  }

  slug(n: number, org: "own" | "other"): string {
    const slugs = this.#pool(org).slugs;
    return slugs.length > 0 ? slugs[n % slugs.length]! : "no-such-form";
  }

  child(kind: Kind, n: number): string {
    const children = this.own.list([kind]).filter((id) => this.pathIds.includes(this.own.parents.get(id) ?? ""));
    if (children.length > 0) return children[n % children.length]!;
    return this.pick([kind], n, "own");
  }

  orgId(): string {
    return this.own.orgId;
  }

  cursor(n: number, org: "own" | "other"): string {
    const cursors = this.#pool(org).cursors;
    return cursors.length > 0 ? cursors[n % cursors.length]! : "eyJpZCI6Im5vbmUifQ";
  }

  /** Sets the form from the path's first id: a form session's form, a form by id or slug. */
  target(decodedId: string | null): void {
    if (decodedId === null) return;
    const formId = this.own.formOfSlug.get(decodedId) ?? (decodedId.startsWith("form_") ? decodedId : this.own.parents.get(decodedId));
    this.form = formId ?? null;
  }

  formValues(variant: FormVariant, n: number): Record<string, string> {
    const fields = (this.form && this.own.fields.get(this.form)) || [];
    const values: Record<string, string> = Object.create(null);
    fields.forEach((field, index) => {
      if (variant === "missing" && field.required && index % 2 === n % 2) return;
      const wrong = variant === "wrong" && index % 2 === n % 2 ? WRONG[field.type] : undefined;
      values[field.name] = wrong ?? (field.type === "select" ? (field.options?.[n % (field.options.length || 1)] ?? "") : (VALID[field.type] ?? "x"));
    });
    if (variant === "extra") {
      values.undeclared_field = "sneaky";
      values["submit-as"] = "partial";
    }
    return values;
  }
}
