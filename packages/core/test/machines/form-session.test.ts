import { describe, expect, it } from "vitest";
import {
  createFormSession,
  type Form,
  type FormField,
  type FormSession,
  type FormSessionCommand,
  formSessionKind,
  formSessionMachine,
  InvalidInputError,
  iso,
  submissionProblems,
} from "../../src/index.js";
import { accepted, deepFreeze, expectOutcome, HOUR, MINUTE, newId, noop, ok, refusal, refused, SECOND, T0, tableRows, thrown } from "./helpers.js";

const machine = formSessionMachine;

function makeForm(fields: FormField[], allowPartial: boolean): Form {
  return {
    id: newId("form"),
    orgId: newId("org"),
    name: "Support intake",
    slug: "support-intake",
    fields,
    allowPartial,
    metadata: {},
    createdAt: T0,
    updatedAt: T0,
  };
}

describe("form session transition table", () => {
  const form = makeForm(
    [
      { name: "name", type: "text", required: true },
      { name: "email", type: "email" },
      { name: "session_id", type: "hidden", required: true },
    ],
    false,
  );
  const values = { name: "Ada", email: "ada@example.com" };
  const created = createFormSession(form, { id: newId("sess"), prefill: { session_id: "crm-4711" } }, T0).state;
  const open = ok(machine.transition(created, { type: "open" }, T0 + MINUTE));
  const submitted = ok(machine.transition(open, { type: "submit", values }, T0 + 2 * MINUTE));
  const expired = machine.settle(open, T0 + HOUR).state;
  const states: Record<FormSession["status"], FormSession> = deepFreeze({ created, open, submitted, expired });

  const commands = {
    open: { type: "open" },
    "submit (same values)": { type: "submit", values },
    "submit (other values)": { type: "submit", values: { name: "Grace", email: "grace@example.com" } },
    "submit (required field missing)": { type: "submit", values: { email: "ada@example.com" } },
    "submit (unknown field)": { type: "submit", values: { ...values, nickname: "A" } },
    "post (same values)": { type: "post", values, partial: false },
    "post (required field missing)": { type: "post", values: { email: "ada@example.com" }, partial: false },
    "post (a hidden field and an unknown name)": { type: "post", values: { ...values, session_id: "forged", nickname: "A" }, partial: false },
    "extend 600s": { type: "extend", seconds: 600 },
    tick: { type: "tick" },
  } satisfies Record<string, FormSessionCommand>;

  const beforeDeadline = tableRows(
    {
      created: {
        open: accepted("open", "session.opened"),
        "submit (same values)": accepted("submitted", "session.opened", "submission.created"),
        "submit (other values)": accepted("submitted", "session.opened", "submission.created"),
        "submit (required field missing)": refused("invalid_input"),
        "submit (unknown field)": refused("invalid_input"),
        "post (same values)": accepted("submitted", "session.opened", "submission.created"),
        "post (required field missing)": accepted("open", "session.opened"),
        "post (a hidden field and an unknown name)": accepted("submitted", "session.opened", "submission.created"),
        "extend 600s": accepted("created", "session.extended"),
        tick: noop,
      },
      open: {
        open: noop,
        "submit (same values)": accepted("submitted", "submission.created"),
        "submit (other values)": accepted("submitted", "submission.created"),
        "submit (required field missing)": refused("invalid_input"),
        "submit (unknown field)": refused("invalid_input"),
        "post (same values)": accepted("submitted", "submission.created"),
        "post (required field missing)": noop,
        "post (a hidden field and an unknown name)": accepted("submitted", "submission.created"),
        "extend 600s": accepted("open", "session.extended"),
        tick: noop,
      },
      submitted: {
        open: refused("illegal_transition"),
        "submit (same values)": noop,
        "submit (other values)": refused("illegal_transition"),
        "submit (required field missing)": refused("illegal_transition"),
        "submit (unknown field)": refused("illegal_transition"),
        "post (same values)": noop,
        "post (required field missing)": refused("illegal_transition"),
        "post (a hidden field and an unknown name)": noop,
        "extend 600s": refused("illegal_transition"),
        tick: noop,
      },
      expired: {
        open: refused("expired"),
        "submit (same values)": refused("expired"),
        "submit (other values)": refused("expired"),
        "submit (required field missing)": refused("expired"),
        "submit (unknown field)": refused("expired"),
        "post (same values)": refused("expired"),
        "post (required field missing)": refused("expired"),
        "post (a hidden field and an unknown name)": refused("expired"),
        "extend 600s": refused("expired"),
        tick: noop,
      },
    },
    commands,
    " (10 min in, before the deadline)",
  );

  const pastDeadline = tableRows(
    {
      created: {
        open: refused("expired"),
        "submit (same values)": refused("expired"),
        "submit (other values)": refused("expired"),
        "submit (required field missing)": refused("expired"),
        "submit (unknown field)": refused("expired"),
        "post (same values)": refused("expired"),
        "post (required field missing)": refused("expired"),
        "post (a hidden field and an unknown name)": refused("expired"),
        "extend 600s": refused("expired"),
        tick: accepted("expired", "session.expired"),
      },
      open: {
        open: refused("expired"),
        "submit (same values)": refused("expired"),
        "submit (other values)": refused("expired"),
        "submit (required field missing)": refused("expired"),
        "submit (unknown field)": refused("expired"),
        "post (same values)": refused("expired"),
        "post (required field missing)": refused("expired"),
        "post (a hidden field and an unknown name)": refused("expired"),
        "extend 600s": refused("expired"),
        tick: accepted("expired", "session.expired"),
      },
      submitted: {
        open: refused("illegal_transition"),
        "submit (same values)": noop,
        "submit (other values)": refused("illegal_transition"),
        "submit (required field missing)": refused("illegal_transition"),
        "submit (unknown field)": refused("illegal_transition"),
        "post (same values)": noop,
        "post (required field missing)": refused("illegal_transition"),
        "post (a hidden field and an unknown name)": noop,
        "extend 600s": refused("illegal_transition"),
        tick: noop,
      },
      expired: {
        open: refused("expired"),
        "submit (same values)": refused("expired"),
        "submit (other values)": refused("expired"),
        "submit (required field missing)": refused("expired"),
        "submit (unknown field)": refused("expired"),
        "post (same values)": refused("expired"),
        "post (required field missing)": refused("expired"),
        "post (a hidden field and an unknown name)": refused("expired"),
        "extend 600s": refused("expired"),
        tick: noop,
      },
    },
    commands,
    " (2 h in, past the deadline)",
  );

  it("covers every (status, command) pair on both sides of the deadline", () => {
    expect(beforeDeadline).toHaveLength(4 * 10);
    expect(pastDeadline).toHaveLength(4 * 10);
  });

  it.each(beforeDeadline)("%s", (_title, status, _name, command, expected) => {
    const state = states[status as FormSession["status"]];
    expect(machine.status(state)).toBe(status);
    expectOutcome(machine.transition(state, command, T0 + 10 * MINUTE), state, machine.status, expected);
  });

  it.each(pastDeadline)("%s", (_title, status, _name, command, expected) => {
    const state = states[status as FormSession["status"]];
    expectOutcome(machine.transition(state, command, T0 + 2 * HOUR), state, machine.status, expected);
  });
});

const intakeFields: FormField[] = [
  { name: "name", type: "text", required: true },
  { name: "email", type: "email", required: true },
  { name: "age", type: "number" },
  { name: "plan", type: "select", options: ["free", "pro"] },
  { name: "terms", type: "checkbox", required: true },
  { name: "session_id", type: "hidden", required: true },
];
const partialForm = makeForm(intakeFields, true);
const strictForm = makeForm(intakeFields, false);
const complete = { name: "Ada", email: "ada@example.com", age: 36, plan: "pro", terms: true };

function openSession(form: Form, prefill: Record<string, string | number | boolean> = { session_id: "crm-4711" }): FormSession {
  const created = createFormSession(form, { id: newId("sess"), prefill }, T0).state;
  return deepFreeze(ok(machine.transition(created, { type: "open" }, T0 + SECOND)));
}

function submit(state: FormSession, values: Record<string, string | number | boolean>, partial?: boolean) {
  const command: FormSessionCommand = partial === undefined ? { type: "submit", values } : { type: "submit", values, partial };
  return machine.transition(state, command, T0 + MINUTE);
}

describe("form session submissions", () => {
  it("records a partial submission with partial: true and the missing required fields on an allowPartial form", () => {
    const result = submit(openSession(partialForm), { name: "Ada" });
    const next = ok(result);
    expect(next.status).toBe("submitted");
    expect(next.submission).toEqual({
      values: { name: "Ada", session_id: "crm-4711" },
      partial: true,
      missingFields: ["email", "terms"],
      submittedAt: T0 + MINUTE,
    });
    expect(result.ok && result.events[0]?.payload).toMatchObject({ partial: true, missing_fields: ["email", "terms"] });
  });

  it("records a complete submission on an allowPartial form with partial: false and no missing fields", () => {
    const next = ok(submit(openSession(partialForm), complete));
    expect(next.submission?.partial).toBe(false);
    expect(next.submission?.missingFields).toEqual([]);
    expect(next.submission?.values).toEqual({ ...complete, session_id: "crm-4711" });
  });

  it("refuses a missing required field without allowPartial, naming values.<field>", () => {
    const error = refusal(submit(openSession(strictForm), { name: "Ada", terms: true }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.code).toBe("invalid_input");
    expect((error as InvalidInputError).field).toBe("values.email");
    expect(error.message).toBe("values.email is required");
  });

  it("keeps the session open after a refused submission, so a corrected one is accepted", () => {
    const state = openSession(strictForm);
    refusal(submit(state, { name: "Ada" }));
    expect(ok(submit(state, complete)).status).toBe("submitted");
  });

  it("still demands every required field when partial: false is sent to an allowPartial form", () => {
    const error = refusal(submit(openSession(partialForm), { name: "Ada", terms: true }, false));
    expect((error as InvalidInputError).field).toBe("values.email");
    expect(ok(submit(openSession(partialForm), { name: "Ada", terms: true }, true)).submission?.missingFields).toEqual(["email"]);
  });

  it("does not let partial: true bypass required fields on a form without allowPartial", () => {
    expect(refusal(submit(openSession(strictForm), { name: "Ada" }, true)).code).toBe("invalid_input");
  });

  it("counts a required checkbox left unticked as missing", () => {
    const error = refusal(submit(openSession(strictForm), { ...complete, terms: "off" }));
    expect((error as InvalidInputError).field).toBe("values.terms");
    expect(ok(submit(openSession(partialForm), { ...complete, terms: false })).submission?.missingFields).toEqual(["terms"]);
  });

  it("ignores a posted value for a hidden field: the stored prefill wins", () => {
    const next = ok(submit(openSession(strictForm), { ...complete, session_id: "forged" }));
    expect(next.submission?.values.session_id).toBe("crm-4711");
  });

  it("uses a visible field's prefill when the field is not posted, and the posted value when it is", () => {
    const state = openSession(strictForm, { session_id: "crm-4711", email: "prefilled@example.com", plan: "free" });
    const { email: _email, plan: _plan, ...withoutEmailAndPlan } = complete;
    const kept = ok(submit(state, withoutEmailAndPlan));
    expect(kept.submission?.values).toMatchObject({ email: "prefilled@example.com", plan: "free" });
    const replaced = ok(submit(state, { ...complete, email: "typed@example.com" }));
    expect(replaced.submission?.values.email).toBe("typed@example.com");
  });

  it("refuses a value for a field the form does not declare", () => {
    const error = refusal(submit(openSession(strictForm), { ...complete, nickname: "A" }));
    expect((error as InvalidInputError).field).toBe("values.nickname");
    expect(error.message).toBe("values.nickname is not a field of this form");
  });

  it("stores values in their coerced form: numbers from text, checkbox 'on' as true", () => {
    const next = ok(submit(openSession(strictForm), { ...complete, age: "42", terms: "on", name: "  Ada  " }));
    expect(next.submission?.values).toMatchObject({ age: 42, terms: true, name: "Ada" });
  });

  it("refuses an invalid value naming its path and rule", () => {
    const error = refusal(submit(openSession(strictForm), { ...complete, email: "not-an-email" }));
    expect(error.message).toBe("values.email: must be an email address");
    expect(refusal(submit(openSession(strictForm), { ...complete, plan: "enterprise" })).message).toBe('values.plan: must be one of "free", "pro"');
  });

  it("leaves an optional field out of the values when it is posted blank", () => {
    const next = ok(submit(openSession(strictForm), { ...complete, plan: "", age: "" }));
    expect(next.submission?.values).not.toHaveProperty("plan");
    expect(next.submission?.values).not.toHaveProperty("age");
    expect(next.submission?.partial).toBe(false);
  });

  it("opens a created session on submit: session.opened then submission.created, with openedAt set", () => {
    const created = createFormSession(strictForm, { id: newId("sess"), prefill: { session_id: "crm-4711" } }, T0).state;
    const result = machine.transition(created, { type: "submit", values: complete }, T0 + MINUTE);
    expect(result.ok && result.events.map((event) => [event.type, event.at])).toEqual([
      ["session.opened", T0 + MINUTE],
      ["submission.created", T0 + MINUTE],
    ]);
    expect(ok(result).openedAt).toBe(T0 + MINUTE);
    expect(result.ok && result.events[1]?.payload).toEqual({
      session_id: created.id,
      form_id: strictForm.id,
      values: { ...complete, session_id: "crm-4711" },
      partial: false,
      missing_fields: [],
    });
  });

  it("treats a resubmission equal after coercion as a no-op and a different one as illegal", () => {
    const submitted = deepFreeze(ok(submit(openSession(strictForm), complete)));
    const again = machine.transition(submitted, { type: "submit", values: { ...complete, age: "36", terms: "on" } }, T0 + HOUR / 2);
    expect(again.ok && again.state).toBe(submitted);
    const other = refusal(machine.transition(submitted, { type: "submit", values: { ...complete, age: 37 } }, T0 + HOUR / 2));
    expect(other.code).toBe("illegal_transition");
  });
});

describe("form session problems and hosted posts", () => {
  it("finds every problem of a post at once, in the order submit refuses them, each the rule it breaks", () => {
    const state = openSession(strictForm);
    const posted = { email: "not-an-email", age: "many", plan: "", nickname: "A", name: "x".repeat(64 * 1024 + 1) };
    expect(submissionProblems(state, posted, undefined)).toEqual({
      nickname: "is not a field of this form",
      name: "must be at most 65536 characters",
      email: "must be an email address",
      age: "must be a number",
      terms: "is required",
    });
    // submit refuses with the first of them, naming its path.
    expect(refusal(submit(state, posted)).message).toBe("values.nickname is not a field of this form");
    expect(submissionProblems(state, complete, undefined)).toEqual({});
    // Missing required fields are problems only where the submission must be whole.
    expect(submissionProblems(openSession(partialForm), { name: "Ada" }, true)).toEqual({});
    expect(submissionProblems(openSession(partialForm), { name: "Ada" }, false)).toEqual({ email: "is required", terms: "is required" });
  });

  it("takes a post as a page sends it: unticked checkboxes false, hidden fields and unknown names ignored", () => {
    const created = createFormSession(strictForm, { id: newId("sess"), prefill: { session_id: "crm-4711" } }, T0).state;
    const post = (state: FormSession, values: Record<string, string>, partial = false) =>
      machine.transition(state, { type: "post", values, partial }, T0 + MINUTE);
    const { terms: _terms, ...unticked } = complete;
    const refused = post(created, { ...stringsOf(unticked), session_id: "forged", "submit-as": "partial" });
    expect(refused.ok && [refused.state.status, refused.events.map((event) => event.type)]).toEqual(["open", ["session.opened"]]);
    expect(submissionProblems(ok(refused), { ...stringsOf(unticked), terms: false }, false)).toEqual({ terms: "is required" });
    const accepted = ok(post(created, { ...stringsOf(complete), session_id: "forged" }));
    expect(accepted.submission?.values).toEqual({ ...complete, session_id: "crm-4711" });
    expect(accepted.formName).toBe("Support intake");
  });
});

function stringsOf(values: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
}

describe("createFormSession", () => {
  it("creates a session in created that expires after the default hour", () => {
    const id = newId("sess");
    const { state, events } = createFormSession(strictForm, { id, prefill: { session_id: "crm-4711" } }, T0);
    expect(formSessionKind.limits.defaultExpiresInSeconds).toBe(3600);
    expect(state).toMatchObject({ id, status: "created", formId: strictForm.id, orgId: strictForm.orgId, expiresAt: T0 + HOUR });
    expect(events).toEqual([{ type: "session.created", at: T0, payload: { session_id: id, form_id: strictForm.id, expires_at: iso(T0 + HOUR) } }]);
  });

  it("takes expiresInSeconds", () => {
    const { state } = createFormSession(strictForm, { id: newId("sess"), expiresInSeconds: 90, prefill: { session_id: "x" } }, T0);
    expect(state.expiresAt).toBe(T0 + 90 * SECOND);
  });

  it("refuses a prefill of a field the form does not declare", () => {
    const error = thrown(() => createFormSession(strictForm, { id: newId("sess"), prefill: { session_id: "x", nickname: "A" } }, T0));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe("prefill.nickname");
    expect(error.message).toBe('prefill.nickname is not a field of form "support-intake"');
  });

  it("refuses a required hidden field without a prefill, or with a blank one", () => {
    for (const prefill of [{}, { session_id: "  " }] as Record<string, string>[]) {
      const error = thrown(() => createFormSession(strictForm, { id: newId("sess"), prefill }, T0));
      expect(error.code).toBe("invalid_input");
      expect(error.field).toBe("prefill.session_id");
    }
  });

  it("accepts an optional hidden field without a prefill", () => {
    const form = makeForm([{ name: "ref", type: "hidden" }], false);
    expect(createFormSession(form, { id: newId("sess") }, T0).state.prefill).toEqual({});
  });

  it("checks and coerces prefill values like submitted ones", () => {
    const { state } = createFormSession(strictForm, { id: newId("sess"), prefill: { session_id: "x", age: "7", terms: "yes" } }, T0);
    expect(state.prefill).toEqual({ session_id: "x", age: 7, terms: true });
    const error = thrown(() => createFormSession(strictForm, { id: newId("sess"), prefill: { session_id: "x", email: "nope" } }, T0));
    expect(error.message).toBe("prefill.email: must be an email address");
  });
});

describe("form session expiry and extension", () => {
  const state = openSession(strictForm); // expires at T0 + 1 h

  it("settles to the same state object before the deadline", () => {
    const settled = machine.settle(state, T0 + HOUR - 1);
    expect(settled.state).toBe(state);
    expect(settled.events).toEqual([]);
  });

  it("expires at exactly expiresAt, stamping the deadline rather than the clock", () => {
    for (const now of [T0 + HOUR, T0 + 5 * HOUR]) {
      const settled = machine.settle(state, now);
      expect(settled.state).toMatchObject({ status: "expired", expiredAt: T0 + HOUR, updatedAt: T0 + HOUR });
      expect(settled.events).toEqual([{ type: "session.expired", at: T0 + HOUR, payload: { session_id: state.id, expires_at: iso(T0 + HOUR) } }]);
    }
  });

  it("answers a tick past the deadline with exactly one session.expired at expiresAt", () => {
    const result = machine.transition(state, { type: "tick" }, T0 + 3 * HOUR);
    expect(ok(result).status).toBe("expired");
    expect(result.ok && result.events.map((event) => [event.type, event.at])).toEqual([["session.expired", T0 + HOUR]]);
    const again = machine.transition(ok(result), { type: "tick" }, T0 + 4 * HOUR);
    expect(again.ok && again.events).toEqual([]);
  });

  it("accepts a submission one millisecond before the deadline and refuses it at the deadline as expired", () => {
    expect(ok(machine.transition(state, { type: "submit", values: complete }, T0 + HOUR - 1)).status).toBe("submitted");
    const error = refusal(machine.transition(state, { type: "submit", values: complete }, T0 + HOUR));
    expect(error.code).toBe("expired");
    expect(error.message).toContain(iso(T0 + HOUR));
  });

  it("never expires a submitted session", () => {
    const submitted = ok(machine.transition(state, { type: "submit", values: complete }, T0 + MINUTE));
    const settled = machine.settle(submitted, T0 + 10 * HOUR);
    expect(settled.state).toBe(submitted);
    expect(settled.events).toEqual([]);
  });

  it("extend pushes expiresAt later by that many seconds and reports both deadlines", () => {
    const result = machine.transition(state, { type: "extend", seconds: 1800 }, T0 + 50 * MINUTE);
    const extended = ok(result);
    expect(extended.expiresAt).toBe(T0 + HOUR + 30 * MINUTE);
    expect(extended.updatedAt).toBe(T0 + 50 * MINUTE);
    expect(result.ok && result.events[0]?.payload).toEqual({
      session_id: state.id,
      expires_at: iso(T0 + 90 * MINUTE),
      previous_expires_at: iso(T0 + HOUR),
    });
    expect(machine.settle(extended, T0 + HOUR).state.status).toBe("open");
    const expired = machine.settle(extended, T0 + 90 * MINUTE);
    expect(expired.state.status).toBe("expired");
    expect(expired.events[0]?.at).toBe(T0 + 90 * MINUTE);
  });

  it("extends cumulatively", () => {
    const once = ok(machine.transition(state, { type: "extend", seconds: 60 }, T0 + MINUTE));
    const twice = ok(machine.transition(once, { type: "extend", seconds: 120 }, T0 + 2 * MINUTE));
    expect(twice.expiresAt).toBe(T0 + HOUR + 3 * MINUTE);
  });

  it("reports the deadline as dueAt only while created or open", () => {
    const created = createFormSession(strictForm, { id: newId("sess"), prefill: { session_id: "x" } }, T0).state;
    expect(machine.dueAt(created)).toBe(T0 + HOUR);
    expect(machine.dueAt(state)).toBe(T0 + HOUR);
    expect(machine.dueAt(ok(machine.transition(state, { type: "submit", values: complete }, T0 + MINUTE)))).toBeNull();
    expect(machine.dueAt(machine.settle(state, T0 + HOUR).state)).toBeNull();
  });
});

describe("form session reminders", () => {
  const form = makeForm([{ name: "name", type: "text", required: true }], false);
  /** A session created at T0 that expires at T0 + 1 h, reminded 10 min and 1 min before. */
  const reminded = (remindBefore: number[] = [600, 60], expiresInSeconds = 3600) =>
    deepFreeze(createFormSession(form, { id: newId("sess"), expiresInSeconds, remindBefore }, T0).state);
  const expiring = (state: FormSession, remindBefore: number) => ({
    type: "session.expiring",
    at: state.expiresAt - remindBefore * SECOND,
    payload: { session_id: state.id, expires_at: iso(state.expiresAt), remind_before: remindBefore },
  });

  it("keeps remindBefore as given and the pending moments earliest first; neither field when none is asked for", () => {
    const state = reminded([60, 600]);
    expect(state.remindBefore).toEqual([60, 600]);
    expect(state.reminders).toEqual([T0 + 50 * MINUTE, T0 + 59 * MINUTE]);
    for (const plain of [createFormSession(form, { id: newId("sess") }, T0).state, reminded([])]) {
      expect(plain).not.toHaveProperty("remindBefore");
      expect(plain).not.toHaveProperty("reminders");
    }
  });

  it("sends each reminder once, at its moment, with the deadline and the seconds left", () => {
    const state = reminded();
    expect(machine.settle(state, T0 + 50 * MINUTE - 1)).toEqual({ state, events: [] });
    const first = machine.settle(state, T0 + 50 * MINUTE);
    expect(first.events).toEqual([expiring(state, 600)]);
    expect(first.state.reminders).toEqual([T0 + 59 * MINUTE]);
    expect(first.state.updatedAt).toBe(state.updatedAt);
    expect(machine.settle(first.state, T0 + 55 * MINUTE).events).toEqual([]);
    const second = machine.settle(first.state, T0 + 59 * MINUTE + 30 * SECOND);
    expect(second.events).toEqual([expiring(state, 60)]);
    expect(second.state).not.toHaveProperty("reminders");
    expect(second.state.remindBefore).toEqual([600, 60]);
    expect(machine.settle(second.state, T0 + HOUR - 1).events).toEqual([]);
    // Then the deadline itself, once.
    expect(machine.settle(second.state, T0 + HOUR).events.map((event) => event.type)).toEqual(["session.expired"]);
  });

  it("sends every reminder due at once in one settle, earliest first, each at its own moment", () => {
    const state = reminded();
    const settled = machine.settle(state, T0 + HOUR - 1);
    expect(settled.events).toEqual([expiring(state, 600), expiring(state, 60)]);
    expect(settled.state.status).toBe("created");
  });

  it("skips an entry at or past the time left when the session is created", () => {
    const state = reminded([3600, 7200, 60], 3600);
    expect(state.reminders).toEqual([T0 + 59 * MINUTE]);
    const none = reminded([3600], 3600);
    expect(none.remindBefore).toEqual([3600]);
    expect(none).not.toHaveProperty("reminders");
    expect(machine.dueAt(none)).toBe(T0 + HOUR);
  });

  it("sends none once the deadline passed, even those that were due before it: the session expires instead", () => {
    const state = reminded();
    const settled = machine.settle(state, T0 + 2 * HOUR);
    expect(settled.events.map((event) => event.type)).toEqual(["session.expired"]);
    expect(settled.state).not.toHaveProperty("reminders");
    expect(machine.settle(settled.state, T0 + 3 * HOUR).events).toEqual([]);
  });

  it("sends none after a submission, which drops the pending reminders", () => {
    const submitted = ok(machine.transition(reminded(), { type: "submit", values: { name: "Ada" } }, T0 + MINUTE));
    expect(submitted).not.toHaveProperty("reminders");
    expect(machine.dueAt(submitted)).toBeNull();
    expect(machine.settle(submitted, T0 + 59 * MINUTE).events).toEqual([]);
    // A reminder due at the submission's moment is sent first: it came before the person submitted.
    const late = machine.transition(reminded(), { type: "submit", values: { name: "Ada" } }, T0 + 55 * MINUTE);
    expect(late.ok && late.events.map((event) => event.type)).toEqual(["session.expiring", "session.opened", "submission.created"]);
  });

  it("counts the reminders back from the new deadline on extend: one already sent comes again when its new moment is ahead", () => {
    const state = reminded();
    const first = machine.settle(state, T0 + 50 * MINUTE).state; // the 600 s reminder is sent
    const result = machine.transition(first, { type: "extend", seconds: 1800 }, T0 + 52 * MINUTE);
    const extended = ok(result);
    expect(extended.expiresAt).toBe(T0 + 90 * MINUTE);
    expect(extended.reminders).toEqual([T0 + 80 * MINUTE, T0 + 89 * MINUTE]);
    expect(machine.dueAt(extended)).toBe(T0 + 80 * MINUTE);
    const again = machine.settle(extended, T0 + 80 * MINUTE);
    expect(again.events).toEqual([expiring(extended, 600)]);
    // Extended by less than the reminder: its new moment already passed, so it is skipped.
    const short = ok(machine.transition(first, { type: "extend", seconds: 60 }, T0 + 52 * MINUTE));
    expect(short.reminders).toEqual([T0 + 60 * MINUTE]);
    // A reminder due when the extend lands is sent first, at its moment, then recounted.
    const landed = machine.transition(first, { type: "extend", seconds: 600 }, T0 + 59 * MINUTE);
    expect(landed.ok && landed.events.map((event) => [event.type, event.at])).toEqual([
      ["session.expiring", T0 + 59 * MINUTE],
      ["session.extended", T0 + 59 * MINUTE],
    ]);
    expect(ok(landed).reminders).toEqual([T0 + 60 * MINUTE, T0 + 69 * MINUTE]);
  });

  it("leaves a session without reminders without them when extended", () => {
    const plain = createFormSession(form, { id: newId("sess") }, T0).state;
    const extended = ok(machine.transition(plain, { type: "extend", seconds: 600 }, T0 + MINUTE));
    expect(extended).not.toHaveProperty("reminders");
    expect(extended).not.toHaveProperty("remindBefore");
  });

  it("is due at the first pending reminder while live, and settles at least one event whenever it is due", () => {
    const state = reminded();
    expect(machine.dueAt(state)).toBe(T0 + 50 * MINUTE);
    const open = ok(machine.transition(state, { type: "open" }, T0 + MINUTE));
    expect(machine.dueAt(open)).toBe(T0 + 50 * MINUTE);
    const after = machine.settle(open, T0 + 50 * MINUTE).state;
    expect(machine.dueAt(after)).toBe(T0 + 59 * MINUTE);
    const last = machine.settle(after, T0 + 59 * MINUTE).state;
    expect(machine.dueAt(last)).toBe(T0 + HOUR);
    for (const current of [state, open, after, last]) {
      const due = machine.dueAt(current)!;
      for (const now of [due, due + 1, T0 + HOUR, T0 + 2 * HOUR]) expect(machine.settle(current, now).events.length).toBeGreaterThan(0);
      expect(machine.settle(current, due - 1).events).toEqual([]);
    }
  });
});
