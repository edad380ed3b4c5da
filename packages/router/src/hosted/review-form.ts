import { iso, isoOrNull, ownValue, type PendingAction, type ReviewView, threadKind } from "@agent-sessions/core";
import type { ReviewedAction, ReviewField, ReviewFormNames, ReviewPageView } from "./review-view.js";
import { readableName } from "./view.js";

/** What the engine answers for a review link: the action, its thread, whose link it is and whether it can decide. */
export type ReviewLink = ReviewView;

/** The name of the Approve and Deny buttons, and their values. */
export const DECISION = { name: "decision", approve: "approve", deny: "deny" } as const;
/** The name of the reason's textarea. */
export const REASON = "reason";
/** The name of the hidden input holding the fingerprint of the arguments the page showed. */
export const SEEN = "seen";
/** What each edited argument's input name starts with: `args.amount`. */
export const ARG_PREFIX = "args.";

/** A review form's post, as its body says it. */
export interface ReviewPost {
  /** `approve`, `deny`, or `null` when the post names neither. */
  readonly decision: "approve" | "deny" | null;
  readonly reason: string;
  /** Each posted name's first value. */
  readonly values: Readonly<Record<string, string>>;
  /** The fingerprint of the arguments the page showed, when the post has one. */
  readonly seen: string | null;
}

/** Reads an `application/x-www-form-urlencoded` post of the review form. */
export function readReviewPost(text: string): ReviewPost {
  // No prototype: a posted `__proto__` is a name like any other.
  const values: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(text)) if (!Object.hasOwn(values, name)) values[name] = value;
  // The form's buttons post `decision`; a program may post `confirmed=true|false`, as the API takes it.
  const decision = ownValue(values, DECISION.name);
  const confirmed = ownValue(values, "confirmed");
  return {
    decision:
      decision === DECISION.approve || (decision === undefined && confirmed === "true")
        ? "approve"
        : decision === DECISION.deny || (decision === undefined && confirmed === "false")
          ? "deny"
          : null,
    reason: ownValue(values, REASON) ?? "",
    values,
    seen: ownValue(values, SEEN) ?? null,
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isPrimitive = (value: unknown) =>
  typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));

/** How one property of an arguments schema is edited, or `null` when a form cannot edit it. */
function fieldType(property: unknown): ReviewField["type"] | null {
  if (!isPlainObject(property)) return null;
  if (Object.hasOwn(property, "enum")) {
    const members = property.enum;
    return Array.isArray(members) && members.length > 0 && members.every(isPrimitive) ? "select" : null;
  }
  switch (property.type) {
    case "string":
      return "text";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "checkbox";
    default:
      return null;
  }
}

/** Whether a current value is one its field can show and give back unchanged. */
function fits(field: ReviewField, value: unknown, members: readonly unknown[]): boolean {
  switch (field.type) {
    case "text":
    case "textarea":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return Number.isSafeInteger(value);
    case "checkbox":
      return typeof value === "boolean";
    case "select":
      return members.includes(value);
  }
}

/**
 * The inputs that edit an action's arguments: one per property when `args_schema` is a flat
 * object (every property a string, number, integer, boolean or enum of those) and the arguments
 * an object of those properties only. Otherwise `null`: the page shows them read-only, as JSON.
 */
export function reviewFields(schema: Readonly<Record<string, unknown>> | undefined, args: unknown): ReviewField[] | null {
  if (schema === undefined || schema.type !== "object" || !isPlainObject(schema.properties) || !isPlainObject(args)) return null;
  const properties = schema.properties;
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((name) => typeof name === "string") : []);
  const names = Object.keys(properties);
  if (names.length === 0) return null;
  const fields: ReviewField[] = [];
  for (const name of names) {
    const property = properties[name];
    let type = fieldType(property);
    if (type === null || !isPlainObject(property)) return null;
    const members = type === "select" ? (property.enum as unknown[]) : [];
    const value = ownValue(args, name);
    if (type === "text" && typeof value === "string" && /[\r\n]/.test(value)) type = "textarea";
    const title = typeof property.title === "string" && property.title.trim() !== "" ? property.title : readableName(name);
    const field: ReviewField = {
      name,
      input: `${ARG_PREFIX}${name}`,
      label: title,
      description: typeof property.description === "string" && property.description.trim() !== "" ? property.description : null,
      type,
      required: required.has(name),
      options: members.map(String),
    };
    if (value !== undefined && !fits(field, value, members)) return null;
    fields.push(field);
  }
  // An argument the schema does not name would be approved unseen: show them all as JSON instead.
  for (const name of Object.keys(args)) if (!Object.hasOwn(properties, name)) return null;
  return fields;
}

/** What an input shows for a current value: text, or ticked or not. */
function shown(field: ReviewField, value: unknown): string | boolean {
  if (field.type === "checkbox") return value === true;
  return value === undefined ? "" : String(value);
}

/** What the inputs show before the person changed anything: the current arguments. */
export function argValues(fields: readonly ReviewField[] | null, args: unknown): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = {};
  for (const field of fields ?? []) values[field.input] = shown(field, isPlainObject(args) ? ownValue(args, field.name) : undefined);
  return values;
}

/** What the inputs show when the form is sent back: the post, a checkbox ticked only if posted ticked. */
export function postedValues(fields: readonly ReviewField[] | null, post: ReviewPost): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = { [REASON]: post.reason };
  for (const field of fields ?? []) {
    const posted = ownValue(post.values, field.input);
    values[field.input] = field.type === "checkbox" ? isTicked(posted) : (posted ?? "");
  }
  return values;
}

const isTicked = (posted: string | undefined) => posted !== undefined && posted !== "false";

/** The arguments as the post edits them, or the problems of the inputs it cannot read. */
export function editedArgs(
  fields: readonly ReviewField[],
  schema: Readonly<Record<string, unknown>>,
  args: Record<string, unknown>,
  post: ReviewPost,
): { args: Record<string, unknown> } | { problems: Record<string, string> } {
  const next: Record<string, unknown> = { ...args };
  const problems: Record<string, string> = {};
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  for (const field of fields) {
    const current = ownValue(args, field.name);
    const raw = ownValue(post.values, field.input);
    if (field.type === "checkbox") {
      const ticked = isTicked(raw);
      if (ticked === (current === true)) continue;
      next[field.name] = ticked;
      continue;
    }
    // A textarea posts its line breaks as CRLF; the arguments keep them as they were written.
    const text = field.type === "textarea" ? (raw ?? "").replace(/\r\n?/g, "\n") : (raw ?? "");
    if (text === shown(field, current)) continue;
    if (text.trim() === "" && field.type !== "text" && field.type !== "textarea") {
      if (field.required) problems[field.input] = field.type === "select" ? "Choose one of the options." : "This field is required.";
      else delete next[field.name];
      continue;
    }
    switch (field.type) {
      case "text":
      case "textarea":
        if (text === "" && !field.required) delete next[field.name];
        else next[field.name] = text;
        break;
      case "number":
      case "integer": {
        const number = Number(text.trim());
        if (!Number.isFinite(number)) problems[field.input] = "Must be a number.";
        else if (field.type === "integer" && !Number.isSafeInteger(number)) problems[field.input] = "Must be a whole number.";
        else next[field.name] = number;
        break;
      }
      case "select": {
        const members = properties[field.name]!.enum as unknown[];
        const member = members.find((candidate) => String(candidate) === text);
        if (member === undefined) problems[field.input] = "Choose one of the options.";
        else next[field.name] = member;
        break;
      }
    }
  }
  return Object.keys(problems).length > 0 ? { problems } : { args: next };
}

/** JSON with every object's keys sorted: one text for one value, however a store ordered its keys. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The fingerprint of arguments the page shows (SHA-256 of their canonical JSON, hex), posted back as `seen`. */
export async function argsFingerprint(args: unknown): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(args))));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** The action as every review page shows it. */
export function reviewedAction(link: ReviewLink): ReviewedAction {
  const action: PendingAction = link.action;
  return {
    threadId: link.threadId,
    actionId: action.id,
    tool: action.tool,
    preview: action.preview,
    args: action.args ?? null,
    argsChanged: action.originalArgs !== undefined,
    originalArgs: (action.originalArgs !== undefined ? action.originalArgs : action.args) ?? null,
    actionStatus: action.status,
    expiresAt: iso(action.expiresAt),
    onExpire: action.onExpire ?? "cancel",
    approver: link.approver,
    approvers: action.approvers ?? [],
    approvalsRequired: action.approvalsRequired ?? 1,
    approvals: (action.approvals ?? []).map((approval) => ({ approver: approval.approver, at: iso(approval.at) })),
    decidedAt: isoOrNull(action.decidedAt),
    decidedBy: action.decidedBy ?? null,
    decidedVia: action.decidedVia ?? null,
    reason: action.reason ?? null,
    cancelReason: action.cancelReason,
  };
}

/** Whether the deadline ended the action: cancelled, or denied, by it. */
const endedByDeadline = (action: PendingAction) =>
  action.status === "cancelled" && (action.cancelReason === "expired" || action.cancelReason === "denied");

/** What the review form shows and posts, with the person's values and problems when it is sent back. */
export async function reviewFormView(
  link: ReviewLink,
  shownValues?: { values: Record<string, string | boolean>; problems: Record<string, string>; general: string[]; status: 400 | 409 },
): Promise<ReviewPageView> {
  const fields = reviewFields(link.action.argsSchema, link.action.args);
  const form: ReviewFormNames = {
    decision: { ...DECISION },
    reason: { name: REASON, maxLength: threadKind.limits.reasonChars },
    seen: { name: SEEN, value: await argsFingerprint(link.action.args ?? null) },
  };
  return {
    ...reviewedAction(link),
    page: "review",
    status: shownValues?.status ?? 200,
    fields,
    values: shownValues?.values ?? { ...argValues(fields, link.action.args), [REASON]: "" },
    problems: shownValues?.problems ?? {},
    general: shownValues?.general ?? [],
    form,
  };
}

/** The page of a review link as it stands: the form, the action waiting for others, its outcome, or expired. */
export async function reviewStatusView(link: ReviewLink): Promise<ReviewPageView> {
  const { action } = link;
  if (endedByDeadline(action)) return { ...reviewedAction(link), page: "review_expired", status: 410 };
  if (action.status !== "pending") return { ...reviewedAction(link), page: "review_decided", status: 200 };
  if (link.canDecide) return reviewFormView(link);
  return { ...reviewedAction(link), page: "review_pending", status: 200 };
}

/** The page of a post this link could not make (409), or the expired page when the deadline ended the action. */
export function refusedView(link: ReviewLink): ReviewPageView {
  const { action } = link;
  if (endedByDeadline(action)) return { ...reviewedAction(link), page: "review_expired", status: 410 };
  const message =
    action.status !== "pending"
      ? "This action was already decided, so your answer was not recorded."
      : link.approver === null
        ? "This link only shows the action: each approver decides on a link of their own."
        : "You already approved this action; your answer was not recorded again.";
  return { ...reviewedAction(link), page: "review_refused", status: 409, message };
}
