import { coerceFieldValue, type FormSession, isAgentSessionsError, ownValue } from "@agent-sessions/core";
import { type HostedField, visibleFields } from "./view.js";

/**
 * The name the "Submit what I have" button posts. The hyphen makes it a name no form field can
 * have (field names match `^[A-Za-z_][A-Za-z0-9_]*$`), so it never collides with one.
 */
export const SUBMIT_AS = "submit-as";
/** The value of `SUBMIT_AS` that asks for a partial submission. */
export const PARTIAL = "partial";

/** A hosted form's post, as its body says it. */
export interface HostedPost {
  /** Each posted name's first value; the engine keeps the visible fields' and ignores the rest. */
  readonly values: Readonly<Record<string, string>>;
  /** The person chose "Submit what I have". */
  readonly partial: boolean;
}

/** Reads an `application/x-www-form-urlencoded` post of the hosted form. */
export function readPost(text: string): HostedPost {
  // No prototype: a posted `__proto__` is a name like any other, which no field has.
  const values: Record<string, string> = Object.create(null);
  const params = new URLSearchParams(text);
  for (const [name, value] of params) if (!Object.hasOwn(values, name)) values[name] = value;
  return { values, partial: params.get(SUBMIT_AS) === PARTIAL };
}

/** What the inputs show before the person changed anything: the prefill of the visible fields. */
export function prefillValues(session: FormSession, fields: readonly HostedField[] = visibleFields(session)): Record<string, string | boolean> {
  const values: Record<string, string | boolean> = {};
  for (const field of fields) {
    const value = ownValue(session.prefill, field.name);
    if (value === undefined) continue;
    values[field.name] = field.type === "checkbox" ? value === true : String(value);
  }
  return values;
}

/** What the inputs show when the form is sent back: the post over the prefill, a checkbox ticked only if posted ticked. */
export function shownValues(
  session: FormSession,
  post: HostedPost,
  fields: readonly HostedField[] = visibleFields(session),
): Record<string, string | boolean> {
  const shown = prefillValues(session, fields);
  for (const field of fields) {
    const posted = ownValue(post.values, field.name);
    if (field.type === "checkbox") shown[field.name] = posted !== undefined && isTicked(posted);
    else if (posted !== undefined) shown[field.name] = posted;
  }
  return shown;
}

function isTicked(posted: string): boolean {
  try {
    return coerceFieldValue({ name: "checkbox", type: "checkbox" }, posted, "checkbox") === true;
  } catch {
    return false;
  }
}

/** An `invalid_input` error of the core, from whichever copy of the package raised it. */
export function isInvalidInput(error: unknown): error is Error & { field?: string } {
  return isAgentSessionsError(error) && error.code === "invalid_input";
}

/** The rule an error or a problem names, as a sentence for a person: "values.email: must be…" → "Must be…". */
export function problemSentence(problem: { message: string; field?: string | undefined }): string {
  let rule = problem.message;
  if (problem.field && rule.startsWith(problem.field)) rule = rule.slice(problem.field.length).replace(/^:?\s*/, "");
  if (rule.startsWith("is ")) rule = `This field ${rule}`;
  rule = rule.charAt(0).toUpperCase() + rule.slice(1);
  return /[.!?]$/.test(rule) ? rule : `${rule}.`;
}

/**
 * The problems of a refused post as a page shows them: each beside its visible field, as a
 * sentence, and any other at the top (a hidden field's problem is told without its name or value).
 */
export function problemsView(
  fields: readonly HostedField[],
  problems: Readonly<Record<string, string>>,
  general: readonly string[] = [],
): { problems: Record<string, string>; general: string[] } {
  const visible = new Set(fields.map((field) => field.name));
  const byField: Record<string, string> = {};
  const top = [...general];
  for (const [name, rule] of Object.entries(problems)) {
    if (visible.has(name)) byField[name] = problemSentence({ message: rule });
    else top.push("This form is missing information it needs; ask whoever sent it for a new link.");
  }
  return { problems: byField, general: [...new Set(top)] };
}
