import fc from "fast-check";
import { formSessionKind } from "../../kinds/form-session.js";
import { MAX_REMINDERS } from "../../schemas/common.js";
import * as forms from "./forms.js";
import { FIELD_MENU, type FieldChoice, lifetime, METADATA, type Ref, ref, show } from "./inputs.js";
import type { Entry } from "./model.js";
import { both, created, metadataIndex, named, resolve, Step, type Weighted, withMetadata } from "./step.js";

// Commands on forms and form sessions: creates, the hosted page's open and submit, extends.

const rarely = (weight: number) => fc.oneof({ weight, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

/** The fields forms are made of; now and then one filled only by prefill, or one with a reserved name, is added. */
const TOKEN = FIELD_MENU.findIndex((item) => item.field.type === "hidden" && item.field.required);
const RESERVED = [...FIELD_MENU.keys()].filter((index) => FIELD_MENU[index]!.reserved);
const ORDINARY = [...FIELD_MENU.keys()].filter((index) => index !== TOKEN && !RESERVED.includes(index));

const createForm = fc
  .record({
    fields: fc.uniqueArray(fc.constantFrom(...ORDINARY), { minLength: 1, maxLength: ORDINARY.length }),
    token: rarely(4),
    reserved: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...RESERVED) }),
    allowPartial: fc.boolean(),
    slug: fc.constantFrom(undefined, undefined, "intake", "survey", "Bad Slug"),
    duplicate: rarely(9),
    metadata: metadataIndex,
  })
  .map((p) => {
    const fields = [...p.fields, ...(p.token ? [TOKEN] : []), ...(p.reserved === undefined ? [] : [p.reserved])].map(
      (index) => FIELD_MENU[index]!.field,
    );
    const input = {
      name: "Intake",
      ...(p.slug ? { slug: p.slug } : {}),
      fields: p.duplicate ? [...fields, fields[0]!] : fields, // a repeated field name is refused
      allowPartial: p.allowPartial,
      ...withMetadata(p.metadata),
    };
    const valid = !p.duplicate && p.reserved === undefined && p.slug !== "Bad Slug" && METADATA[p.metadata]!.valid;
    const label = `createForm(${show({ ...input, fields: input.fields.map((f) => f.name), metadata: METADATA[p.metadata]!.label })})`;
    return new Step(label, [], (m, r) =>
      both(m, r, {
        what: "forms.create",
        kind: "form",
        model: () => forms.createForm(m, input, valid),
        engine: () => r.engine.forms.create(r.org, input),
        touched: created(m, "form"),
      }),
    );
  });

/** Every (field, value) pair of the menu; a value the field refuses is drawn a third as often as one it takes. */
const FIELD_VALUES = FIELD_MENU.flatMap(({ field, choices }) => choices.map((c): [string, FieldChoice] => [field.name, c]));
const fieldValue = fc.oneof(...FIELD_VALUES.map(([, c], index) => ({ weight: c.value === undefined ? 1 : 3, arbitrary: fc.constant(index) })));

/**
 * `pairs` as a posted object holds them: each field once, where it first came, with its last value.
 * Without a prototype, so `__proto__` is a name like any other.
 */
function posted(pairs: number[]): Record<string, FieldChoice> {
  const values: Record<string, FieldChoice> = Object.create(null);
  for (const pair of pairs) values[FIELD_VALUES[pair]![0]] = FIELD_VALUES[pair]![1];
  return values;
}
const raw = (values: Record<string, FieldChoice>) => Object.fromEntries(Object.entries(values).map(([name, c]) => [name, c.raw]));

/** `remindBefore`: mostly none; else a few distinct entries, some past the time left; now and then one the engine refuses. */
const remindBefore = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ value: undefined as unknown, valid: true }) },
  {
    weight: 3,
    arbitrary: fc
      .uniqueArray(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 1800 })), { minLength: 0, maxLength: 3 })
      .map((value) => ({ value: value as unknown, valid: true })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<unknown>(
        [0],
        [-60],
        [1.5],
        [60, 60],
        "600",
        [30 * 24 * 3600 + 1],
        Array.from({ length: MAX_REMINDERS + 1 }, (_, i) => i + 1),
      )
      .map((value) => ({ value, valid: false })),
  },
);

const createFormSession = fc
  .record({
    form: ref,
    bySlug: fc.boolean(),
    expiresIn: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: lifetime },
      { weight: 3, arbitrary: fc.integer({ min: 900, max: 7200 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, formSessionKind.limits.maxExpiresInSeconds + 1) },
    ),
    prefill: fc.array(fieldValue, { maxLength: 2 }),
    metadata: metadataIndex,
    remindBefore,
  })
  .map((p) => {
    const prefill = posted(p.prefill);
    const reminders = p.remindBefore.value;
    const input = {
      ...(p.expiresIn !== undefined ? { expiresIn: p.expiresIn } : {}),
      ...(p.prefill.length > 0 ? { prefill: raw(prefill) } : {}),
      ...withMetadata(p.metadata),
      ...(reminders !== undefined ? { remindBefore: reminders as number[] } : {}),
    };
    const lifetimeValid = p.expiresIn === undefined || (p.expiresIn >= 1 && p.expiresIn <= formSessionKind.limits.maxExpiresInSeconds);
    const valid = METADATA[p.metadata]!.valid && lifetimeValid && p.remindBefore.valid;
    const shown = show({ ...input, metadata: METADATA[p.metadata]!.label });
    const label = `createFormSession(${named(p.form, "form")}${p.bySlug ? " by slug" : ""}, ${shown})`;
    return new Step(label, ["form"], (m, r) => {
      const { id, entry } = resolve(m, r, "form", p.form);
      const slug = entry?.state.slug;
      const key = p.bySlug && slug ? slug : p.bySlug && p.form.how === "absent" ? "no-such-form" : id;
      return both(m, r, {
        what: "formSessions.create",
        kind: "form_session",
        model: () => {
          const session = {
            expiresIn: p.expiresIn,
            prefill: Object.entries(prefill),
            ...withMetadata(p.metadata),
            ...(p.remindBefore.valid && reminders !== undefined ? { remindBefore: reminders as number[] } : {}),
          };
          return forms.createFormSession(m, entry, session, valid);
        },
        engine: () => r.engine.formSessions.create(r.org, key, input),
        touched: created(m, "form_session"),
      });
    });
  });

/** The hosted page acts by session id alone (the URL is the capability): another organization's session is not tried there. */
const hosted = (target: Ref): Ref => (target.how === "stranger" ? { ...target, how: "absent" } : target);

const openFormSession = ref.map(hosted).map(
  (target) =>
    new Step(`open(${named(target, "form_session")})`, ["form_session"], (m, r) => {
      const { id, entry } = resolve(m, r, "form_session", target);
      return both(m, r, {
        what: "formSessions.open",
        kind: "form_session",
        model: () => forms.open(m, entry),
        engine: () => r.engine.formSessions.open(id),
        touched: () => entry,
      });
    }),
);

const submitFormSession = fc
  .record({ session: ref.map(hosted), values: fc.array(fieldValue, { maxLength: 4 }), partial: fc.constantFrom(undefined, true, false) })
  .map((p) => {
    const values = posted(p.values);
    const input = { values: raw(values), ...(p.partial !== undefined ? { partial: p.partial } : {}) };
    return new Step(`submit(${named(p.session, "form_session")}, ${show(input)})`, ["form_session"], (m, r) => {
      const { id, entry } = resolve(m, r, "form_session", p.session);
      return both(m, r, {
        what: "formSessions.submit",
        kind: "form_session",
        model: () => forms.submit(m, entry, values, p.partial),
        engine: () => r.engine.formSessions.submit(id, input),
        touched: () => entry,
      });
    });
  });

const extendFormSession = fc
  .record({
    session: ref,
    seconds: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 1800 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -5, 1.5) }),
  })
  .map(
    (p) =>
      new Step(`extend(${named(p.session, "form_session")}, ${p.seconds})`, ["form_session"], (m, r) => {
        const { id, entry } = resolve(m, r, "form_session", p.session);
        return both(m, r, {
          what: "formSessions.extend",
          kind: "form_session",
          model: () => forms.extend(m, entry, p.seconds, Number.isInteger(p.seconds) && p.seconds >= 1),
          engine: () => r.engine.formSessions.extend(r.org, id, { expiresIn: p.seconds }),
          touched: () => entry as Entry | undefined,
        });
      }),
  );

export const FORM_COMMANDS: Weighted[] = [
  [createForm, 2],
  [createFormSession, 4],
  [openFormSession, 2],
  [submitFormSession, 6],
  [extendFormSession, 2],
];
