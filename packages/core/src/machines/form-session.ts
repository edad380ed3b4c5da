import { ExpiredError, IllegalTransitionError, InvalidInputError } from "../errors.js";
import { coerceFieldValue, isBlank, ownValue } from "../form-fields.js";
import { type FieldValue, type Form, formKind } from "../kinds/form.js";
import { type FormSession, formSessionKind, type Submission } from "../kinds/form-session.js";
import { accept, defineMachine, dueReminders, earlier, iso, type Machine, refuse, reminderMoments, type Transition } from "../machine.js";
import type { EventDraft } from "../schemas/event.js";

/** Commands a form session answers to. */
export type FormSessionCommand =
  | { readonly type: "open" }
  | { readonly type: "submit"; readonly values: Readonly<Record<string, FieldValue>>; readonly partial?: boolean }
  /**
   * What a person posted on the hosted page: submits when the post has no problem (opening a
   * created session in the same write), else only opens the session, whose page shows the
   * problems (`submissionProblems`) again.
   */
  | { readonly type: "post"; readonly values: Readonly<Record<string, FieldValue>>; readonly partial: boolean }
  | { readonly type: "extend"; readonly seconds: number }
  | { readonly type: "tick" };

/** Builds a new form session in `created`, checking its prefill against the form's fields. */
export function createFormSession(
  form: Form,
  input: {
    id: string;
    expiresInSeconds?: number;
    prefill?: Readonly<Record<string, FieldValue>>;
    metadata?: Record<string, unknown>;
    /** Seconds before the deadline at which `session.expiring` is sent (see `CreateFormSessionInput.remindBefore`). */
    remindBefore?: readonly number[];
  },
  now: number,
): { state: FormSession; events: EventDraft[] } {
  const prefill: Record<string, FieldValue> = {};
  const fieldsByName = new Map(form.fields.map((field) => [field.name, field]));
  for (const [name, value] of Object.entries(input.prefill ?? {})) {
    const field = fieldsByName.get(name);
    if (!field) throw new InvalidInputError(`prefill.${name}`, `is not a field of form "${form.slug ?? form.id}"`);
    prefill[name] = coerceFieldValue(field, value, `prefill.${name}`);
  }
  for (const field of form.fields) {
    if (field.type === "hidden" && field.required && isBlank(ownValue(prefill, field.name))) {
      throw new InvalidInputError(`prefill.${field.name}`, "is required: a hidden field can only be filled by prefill");
    }
  }
  const expiresAt = now + (input.expiresInSeconds ?? formSessionKind.limits.defaultExpiresInSeconds) * 1000;
  const created: FormSession = {
    id: input.id,
    orgId: form.orgId,
    formId: form.id,
    formName: form.name,
    fields: form.fields,
    allowPartial: form.allowPartial,
    status: "created",
    prefill,
    metadata: input.metadata ?? {},
    createdAt: now,
    updatedAt: now,
    expiresAt,
    openedAt: null,
    expiredAt: null,
    submission: null,
  };
  const remindBefore = input.remindBefore ?? [];
  const state = remindBefore.length === 0 ? created : withReminders({ ...created, remindBefore: [...remindBefore] }, expiresAt, now);
  const event: EventDraft = {
    type: "session.created",
    at: now,
    payload: { session_id: state.id, form_id: form.id, expires_at: iso(expiresAt) },
  };
  return { state, events: [event] };
}

/**
 * `state` with the reminders still to send before `expiresAt` as of `now`, from its `remindBefore`;
 * `reminders` is left out when none is (a million sessions are kept in memory).
 */
function withReminders(state: FormSession, expiresAt: number, now: number): FormSession {
  const moments = reminderMoments(state.remindBefore, expiresAt, now);
  const { reminders: _pending, ...rest } = state;
  return moments.length === 0 ? rest : { ...rest, reminders: moments };
}

/** `state` without pending reminders: it ended, or they were all sent. */
function withoutReminders(state: FormSession): FormSession {
  if (state.reminders === undefined) return state;
  const { reminders: _pending, ...rest } = state;
  return rest;
}

function isLive(state: FormSession): boolean {
  return state.status === "created" || state.status === "open";
}

/**
 * What time did to a live session by `now`: past its deadline it expires (and sends no reminder
 * left, a reminder after the end telling nothing); before it, each reminder whose moment came is
 * sent as one `session.expiring` at that moment and leaves `reminders`. A reminder changes nothing
 * a reader sees of the session, so `updatedAt` stays.
 */
function settle(state: FormSession, now: number): { state: FormSession; events: EventDraft[] } {
  if (!isLive(state)) return { state, events: [] };
  if (now >= state.expiresAt) {
    const at = state.expiresAt;
    return {
      state: { ...withoutReminders(state), status: "expired", expiredAt: at, updatedAt: Math.max(state.updatedAt, at) },
      events: [{ type: "session.expired", at, payload: { session_id: state.id, expires_at: iso(at) } }],
    };
  }
  const { due, left } = dueReminders(state.reminders, state.expiresAt, now);
  if (due.length === 0) return { state, events: [] };
  const expiresAt = iso(state.expiresAt);
  const events = due.map(
    (at): EventDraft => ({
      type: "session.expiring",
      at,
      payload: { session_id: state.id, expires_at: expiresAt, remind_before: (state.expiresAt - at) / 1000 },
    }),
  );
  return { state: left.length === 0 ? withoutReminders(state) : { ...state, reminders: [...left] }, events };
}

/** The longest text a person's value for one field may be. */
const MAX_TEXT = formKind.limits.valueChars;

/** A submission judged: every problem by field name (each the rule it breaks), and the submission when there is none. */
interface Judgement {
  readonly problems: Readonly<Record<string, string>>;
  /** The first problem as the error `submit` refuses with; `null` when there is none. */
  readonly refusal: InvalidInputError | null;
  readonly submission: Submission | null;
}

/**
 * Judges posted values against the session's fields, finding every problem at once: a name the
 * form does not declare, then each value its field refuses, then each required field left empty
 * when the submission must be whole (`allowPartial` off, or `partial: false`). Hidden fields always
 * keep their stored prefill, whatever was posted; a visible field left out of the post keeps its
 * prefill.
 */
function judge(state: FormSession, posted: Readonly<Record<string, FieldValue>>, partial: boolean | undefined, now: number): Judgement {
  const problems: [name: string, error: InvalidInputError][] = [];
  const fieldNames = new Set(state.fields.map((field) => field.name));
  for (const name of Object.keys(posted)) {
    if (!fieldNames.has(name)) problems.push([name, new InvalidInputError(`values.${name}`, "is not a field of this form")]);
  }
  const values: Record<string, FieldValue> = {};
  const missing: string[] = [];
  for (const field of state.fields) {
    const path = `values.${field.name}`;
    const stored = ownValue(state.prefill, field.name);
    const raw = field.type === "hidden" ? stored : (ownValue(posted, field.name) ?? stored);
    let value: FieldValue | undefined;
    try {
      if (typeof raw === "string" && raw.length > MAX_TEXT) throw new InvalidInputError(path, `must be at most ${MAX_TEXT} characters`);
      value = raw === undefined ? undefined : coerceFieldValue(field, raw, path);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push([field.name, error]);
      continue;
    }
    const unticked = field.type === "checkbox" && field.required === true && value !== true;
    if (value === undefined || isBlank(value) || unticked) {
      if (field.required) missing.push(field.name);
      continue;
    }
    values[field.name] = value;
  }
  if (missing.length > 0 && (!state.allowPartial || partial === false)) {
    for (const name of missing) problems.push([name, new InvalidInputError(`values.${name}`, "is required")]);
  }
  if (problems.length > 0) {
    const byName: Record<string, string> = {};
    for (const [name, error] of problems) if (!Object.hasOwn(byName, name)) byName[name] = ruleOf(error);
    return { problems: byName, refusal: problems[0]![1], submission: null };
  }
  return { problems: {}, refusal: null, submission: { values, partial: missing.length > 0, missingFields: missing, submittedAt: now } };
}

/** The rule an error states, without the path it names: "values.email: must be…" → "must be…". */
function ruleOf(error: InvalidInputError): string {
  const path = error.field ?? "";
  return error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message.slice(path.length + 1);
}

/**
 * Checks posted values against the session's fields and builds the submission, refusing with the
 * first problem `submissionProblems` finds.
 */
export function buildSubmission(
  state: FormSession,
  posted: Readonly<Record<string, FieldValue>>,
  partial: boolean | undefined,
  now: number,
): Submission {
  const { refusal, submission } = judge(state, posted, partial, now);
  if (refusal) throw refusal;
  return submission!;
}

/**
 * Every problem of posted values by field name, each the rule it breaks ("must be an email
 * address", "is required"): the rules `submit` judges by, all at once, so a person fixes them in
 * one pass. Empty when the values make a submission.
 */
export function submissionProblems(
  state: FormSession,
  posted: Readonly<Record<string, FieldValue>>,
  partial: boolean | undefined,
): Readonly<Record<string, string>> {
  return judge(state, posted, partial, 0).problems;
}

/**
 * The values a post of the hosted page gives: each visible field that was posted, and `false`
 * for a checkbox that was not (browsers leave unticked boxes out). Hidden fields and names the
 * form does not declare are dropped: a person can neither see nor change them.
 */
export function hostedValues(state: FormSession, posted: Readonly<Record<string, FieldValue>>): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const field of state.fields) {
    if (field.type === "hidden") continue;
    const value = ownValue(posted, field.name);
    if (value !== undefined) values[field.name] = value;
    else if (field.type === "checkbox") values[field.name] = false;
  }
  return values;
}

function sameSubmission(a: Submission, b: Submission): boolean {
  const keysA = Object.keys(a.values);
  const keysB = Object.keys(b.values);
  return keysA.length === keysB.length && keysA.every((key) => Object.hasOwn(b.values, key) && Object.is(a.values[key], b.values[key]));
}

/** `created | open → submitted` with `submission`; from `created` the session opens in the same write. */
function submitted(state: FormSession, submission: Submission, now: number): Transition<FormSession> {
  const events: EventDraft[] = [];
  if (state.status === "created") {
    events.push({ type: "session.opened", at: now, payload: { session_id: state.id } });
  }
  events.push({
    type: "submission.created",
    at: now,
    payload: {
      session_id: state.id,
      form_id: state.formId,
      values: submission.values,
      partial: submission.partial,
      missing_fields: submission.missingFields,
    },
  });
  const next: FormSession = { ...withoutReminders(state), status: "submitted", openedAt: state.openedAt ?? now, submission, updatedAt: now };
  return accept(next, events);
}

function apply(state: FormSession, command: FormSessionCommand, now: number): Transition<FormSession> {
  switch (command.type) {
    case "tick":
      return accept(state);
    case "open": {
      if (state.status === "open") return accept(state);
      if (state.status !== "created") return refuseFor(state, "open");
      const next: FormSession = { ...state, status: "open", openedAt: now, updatedAt: now };
      return accept(next, [{ type: "session.opened", at: now, payload: { session_id: state.id } }]);
    }
    case "submit": {
      if (state.status === "expired") return refuseFor(state, "submit");
      const { refusal, submission } = judge(state, command.values, command.partial, now);
      if (state.status === "submitted") {
        return submission && sameSubmission(state.submission!, submission) ? accept(state) : refuseFor(state, "submit");
      }
      return refusal ? refuse(refusal) : submitted(state, submission!, now);
    }
    case "post": {
      const values = hostedValues(state, command.values);
      if (state.status === "expired" || state.status === "submitted") return apply(state, { type: "submit", values, partial: command.partial }, now);
      const { submission } = judge(state, values, command.partial, now);
      return submission ? submitted(state, submission, now) : apply(state, { type: "open" }, now);
    }
    case "extend": {
      if (!isLive(state)) return refuseFor(state, "extend");
      const expiresAt = state.expiresAt + command.seconds * 1000;
      // The reminders are counted back from the new deadline: one already sent comes again when its new moment is ahead.
      const moved: FormSession = { ...state, expiresAt, updatedAt: now };
      const next = state.remindBefore === undefined ? moved : withReminders(moved, expiresAt, now);
      return accept(next, [
        {
          type: "session.extended",
          at: now,
          payload: { session_id: state.id, expires_at: iso(expiresAt), previous_expires_at: iso(state.expiresAt) },
        },
      ]);
    }
  }
}

function refuseFor(state: FormSession, command: string): Transition<FormSession> {
  if (state.status === "expired") {
    return refuse(new ExpiredError(`session ${state.id} expired at ${iso(state.expiresAt)}`));
  }
  return refuse(new IllegalTransitionError(state.status, command, `cannot ${command} session ${state.id}: it is ${state.status}`));
}

/** The form session machine: `created → open → submitted | expired`. */
export const formSessionMachine: Machine<FormSession, FormSessionCommand> = defineMachine({
  settle,
  apply,
  // The earlier of the deadline and the first pending reminder: settle writes at least one event once it passed.
  dueAt: (state) => (isLive(state) ? earlier(state.expiresAt, state.reminders?.[0]) : null),
  status: (state) => state.status,
  timeChangesStatus: true,
});
