import { ExpiredError, IllegalTransitionError, InvalidInputError } from "../errors.js";
import { coerceFieldValue, isBlank, ownValue } from "../form-fields.js";
import { accept, defineMachine, iso, type Machine, refuse, type Transition } from "../machine.js";
import type { EventDraft } from "../schemas/event.js";
import type { FieldValue, Form } from "../kinds/form.js";
import { type FormSession, formSessionKind, type Submission } from "../kinds/form-session.js";

/** Commands a form session answers to. */
export type FormSessionCommand =
  | { readonly type: "open" }
  | { readonly type: "submit"; readonly values: Readonly<Record<string, FieldValue>>; readonly partial?: boolean }
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
  const state: FormSession = {
    id: input.id,
    orgId: form.orgId,
    formId: form.id,
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
  const created: EventDraft = {
    type: "session.created",
    at: now,
    payload: { session_id: state.id, form_id: form.id, expires_at: iso(expiresAt) },
  };
  return { state, events: [created] };
}

function isLive(state: FormSession): boolean {
  return state.status === "created" || state.status === "open";
}

function settle(state: FormSession, now: number): { state: FormSession; events: EventDraft[] } {
  if (!isLive(state) || now < state.expiresAt) return { state, events: [] };
  const at = state.expiresAt;
  return {
    state: { ...state, status: "expired", expiredAt: at, updatedAt: Math.max(state.updatedAt, at) },
    events: [{ type: "session.expired", at, payload: { session_id: state.id, expires_at: iso(at) } }],
  };
}

/**
 * Checks posted values against the session's fields and builds the submission. Hidden fields
 * always keep their stored prefill, whatever was posted; a visible field left out of the post
 * keeps its prefill.
 */
export function buildSubmission(
  state: FormSession,
  posted: Readonly<Record<string, FieldValue>>,
  partial: boolean | undefined,
  now: number,
): Submission {
  const fieldNames = new Set(state.fields.map((field) => field.name));
  for (const name of Object.keys(posted)) {
    if (!fieldNames.has(name)) throw new InvalidInputError(`values.${name}`, "is not a field of this form");
  }
  const values: Record<string, FieldValue> = {};
  const missing: string[] = [];
  for (const field of state.fields) {
    const stored = ownValue(state.prefill, field.name);
    const raw = field.type === "hidden" ? stored : (ownValue(posted, field.name) ?? stored);
    const value = raw === undefined ? undefined : coerceFieldValue(field, raw, `values.${field.name}`);
    const unticked = field.type === "checkbox" && field.required === true && value !== true;
    if (value === undefined || isBlank(value) || unticked) {
      if (field.required) missing.push(field.name);
      continue;
    }
    values[field.name] = value;
  }
  if (missing.length > 0 && (!state.allowPartial || partial === false)) {
    throw new InvalidInputError(`values.${missing[0]}`, "is required");
  }
  return { values, partial: missing.length > 0, missingFields: missing, submittedAt: now };
}

function sameSubmission(a: Submission, b: Submission): boolean {
  const keysA = Object.keys(a.values);
  const keysB = Object.keys(b.values);
  return keysA.length === keysB.length && keysA.every((key) => Object.hasOwn(b.values, key) && Object.is(a.values[key], b.values[key]));
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
      let submission: Submission;
      try {
        submission = buildSubmission(state, command.values, command.partial, now);
      } catch (error) {
        return state.status === "submitted" ? refuseFor(state, "submit") : refuse(error as InvalidInputError);
      }
      if (state.status === "submitted") {
        return sameSubmission(state.submission!, submission) ? accept(state) : refuseFor(state, "submit");
      }
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
      const next: FormSession = {
        ...state,
        status: "submitted",
        openedAt: state.openedAt ?? now,
        submission,
        updatedAt: now,
      };
      return accept(next, events);
    }
    case "extend": {
      if (!isLive(state)) return refuseFor(state, "extend");
      const expiresAt = state.expiresAt + command.seconds * 1000;
      const next: FormSession = { ...state, expiresAt, updatedAt: now };
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
  dueAt: (state) => (isLive(state) ? state.expiresAt : null),
  status: (state) => state.status,
  timeChangesStatus: true,
});
