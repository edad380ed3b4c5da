import { buildSubmission, coerceFieldValue, type FieldValue, type FormSession, isAgentSessionsError, ownValue } from "@agent-sessions/core";
import { type FormView, MAX_TEXT, PARTIAL, prefillView, SUBMIT_AS, visibleFields } from "./pages.js";

/** A hosted form's post, read against the session's fields. */
export interface HostedPost {
  /**
   * What goes to the engine: the visible fields that were posted, and `false` for every checkbox
   * that was not (browsers leave unticked boxes out). Hidden fields and names the form does not
   * declare are dropped: the engine keeps hidden fields' stored prefill whatever is posted.
   */
  readonly values: Record<string, FieldValue>;
  /** What the inputs show if the form is sent back: the post over the prefill. */
  readonly shown: Record<string, string | boolean>;
  /** The person chose "Submit what I have". */
  readonly partial: boolean;
}

/** Reads an `application/x-www-form-urlencoded` post of the hosted form. */
export function readPost(session: FormSession, text: string): HostedPost {
  const params = new URLSearchParams(text);
  const values: Record<string, FieldValue> = {};
  const shown: Record<string, string | boolean> = { ...prefillView(session).values };
  for (const field of visibleFields(session)) {
    const posted = params.get(field.name);
    if (field.type === "checkbox") {
      values[field.name] = posted ?? false;
      shown[field.name] = posted !== null && isTicked(posted);
    } else if (posted !== null) {
      values[field.name] = posted;
      shown[field.name] = posted;
    }
  }
  return { values, shown, partial: params.get(SUBMIT_AS) === PARTIAL };
}

function isTicked(posted: string): boolean {
  try {
    return coerceFieldValue({ name: "checkbox", type: "checkbox" }, posted, "checkbox") === true;
  } catch {
    return false;
  }
}

/**
 * Every problem of a post at once, by field, with the core's own rules (`coerceFieldValue`, and
 * `buildSubmission` for the required fields left empty), so a person fixes them in one pass
 * instead of meeting them one by one. The engine still judges the submission that follows.
 */
export function findProblems(session: FormSession, post: HostedPost, now: number): Record<string, string> {
  const problems: Record<string, string> = {};
  const checked: Record<string, FieldValue> = {};
  for (const field of visibleFields(session)) {
    const value = ownValue(post.values, field.name);
    if (value === undefined) continue;
    if (typeof value === "string" && value.length > MAX_TEXT) {
      problems[field.name] = `Must be at most ${MAX_TEXT} characters.`;
      checked[field.name] = "";
      continue;
    }
    try {
      checked[field.name] = coerceFieldValue(field, value, `values.${field.name}`);
    } catch (error) {
      if (!isInvalidInput(error)) throw error;
      problems[field.name] = problemSentence(error);
      checked[field.name] = "";
    }
  }
  if (!post.partial || !session.allowPartial) {
    // With partial allowed, buildSubmission lists every missing field instead of throwing on the first.
    const { missingFields } = buildSubmission({ ...session, allowPartial: true }, checked, undefined, now);
    for (const name of missingFields) if (!Object.hasOwn(problems, name)) problems[name] = "This field is required.";
  }
  return problems;
}

/** An `invalid_input` error of the core, from whichever copy of the package raised it. */
export function isInvalidInput(error: unknown): error is Error & { field?: string } {
  return isAgentSessionsError(error) && error.code === "invalid_input";
}

/** The rule an error names, as a sentence for a person: "values.email: must be…" → "Must be…". */
export function problemSentence(error: { message: string; field?: string | undefined }): string {
  let rule = error.message;
  if (error.field && rule.startsWith(error.field)) rule = rule.slice(error.field.length).replace(/^:?\s*/, "");
  if (rule.startsWith("is ")) rule = `This field ${rule}`;
  rule = rule.charAt(0).toUpperCase() + rule.slice(1);
  return /[.!?]$/.test(rule) ? rule : `${rule}.`;
}

/**
 * The form view after a refused post: each problem beside its visible field, and any other at
 * the top (a hidden field's problem is told without its name or value).
 */
export function problemView(session: FormSession, post: HostedPost, problems: Record<string, string>, general: string[] = []): FormView {
  const visible = new Set(visibleFields(session).map((field) => field.name));
  const errors: Record<string, string> = {};
  const top = [...general];
  for (const [name, message] of Object.entries(problems)) {
    if (visible.has(name)) errors[name] = message;
    else top.push("This form is missing information it needs; ask whoever sent it for a new link.");
  }
  return { values: post.shown, errors, general: [...new Set(top)] };
}
