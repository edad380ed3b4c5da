import { type Static, Type } from "@sinclair/typebox";
import { iso } from "../machine.js";
import { AnyObject, closed, DateTime, Metadata, Nullable, Timestamp } from "../schemas/common.js";
import { defineKind, wireInput } from "./kind.js";

/** What one form holds at most; the schemas below and the OpenAPI document read these. */
const LIMITS = {
  /** Fields of one form. */
  fields: 100,
  /** Characters of a field's name, and of a form's slug. */
  nameChars: 64,
  /** Characters of one text value a person submits. */
  valueChars: 64 * 1024,
  /** Characters of a form's name, a field's label and one option of a select. */
  labelChars: 200,
  /** Options of one select field. */
  options: 200,
} as const;

/** The input types a form field can have. */
export const FieldType = Type.Union(
  [
    Type.Literal("text"),
    Type.Literal("email"),
    Type.Literal("number"),
    Type.Literal("textarea"),
    Type.Literal("select"),
    Type.Literal("checkbox"),
    Type.Literal("date"),
    Type.Literal("url"),
    Type.Literal("tel"),
    Type.Literal("hidden"),
  ],
  { errorMessage: "must be one of text, email, number, textarea, select, checkbox, date, url, tel, hidden" },
);
export type FieldType = Static<typeof FieldType>;

/** One field of a form definition. */
export const FormField = Type.Object(
  {
    name: Type.String({
      pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
      maxLength: LIMITS.nameChars,
      errorMessage: `must start with a letter or _ and hold only letters, digits and _ (at most ${LIMITS.nameChars})`,
    }),
    label: Type.Optional(Type.String({ maxLength: LIMITS.labelChars })),
    type: FieldType,
    required: Type.Optional(Type.Boolean()),
    options: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.labelChars }), { minItems: 1, maxItems: LIMITS.options })),
  },
  closed,
);
export type FormField = Static<typeof FormField>;

/** `POST /v1/forms` */
export const CreateFormInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: LIMITS.labelChars }),
    slug: Type.Optional(
      Type.String({
        pattern: "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        maxLength: LIMITS.nameChars,
        errorMessage: `must be lowercase letters and digits separated by single hyphens (at most ${LIMITS.nameChars})`,
      }),
    ),
    fields: Type.Array(FormField, { minItems: 1, maxItems: LIMITS.fields }),
    allowPartial: Type.Optional(Type.Boolean()),
    metadata: Type.Optional(Metadata),
  },
  closed,
);
export type CreateFormInput = Static<typeof CreateFormInput>;

/** A form definition: what a person is asked to fill in. */
export const Form = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  name: Type.String(),
  slug: Type.Union([Type.String(), Type.Null()]),
  fields: Type.Array(FormField),
  allowPartial: Type.Boolean(),
  metadata: Metadata,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Form = Static<typeof Form>;

/** A value a person gave to one field: text, a number, or a checkbox's boolean. */
export const FieldValue = Type.Union([Type.String({ maxLength: LIMITS.valueChars }), Type.Number(), Type.Boolean()], {
  errorMessage: "must be a string, a number or a boolean",
});
export type FieldValue = Static<typeof FieldValue>;

/** Forms: definitions that never change after creation, so their one status is `active`. */
export const formKind = defineKind({
  name: "form",
  prefix: "form",
  noun: "Form",
  statuses: ["active"],
  terminal: [],
  state: Form,
  limits: LIMITS,
});

/** A form as every answer shows it (seed 000). */
export const FormBody = Type.Object(
  {
    id: Type.String({ examples: ["form_0190e1b0000070008000000000000001"] }),
    name: Type.String(),
    slug: Nullable(Type.String()),
    fields: Type.Array(FormField),
    allowPartial: Type.Boolean(),
    metadata: AnyObject,
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: "Form" },
);

/** Forms on the wire: what `POST /v1/forms` takes and what every answer shows. */
export const formWire = {
  create: wireInput(CreateFormInput),
  body: FormBody,
  toBody: (form: Form): Static<typeof FormBody> => ({
    id: form.id,
    name: form.name,
    slug: form.slug,
    fields: form.fields,
    allowPartial: form.allowPartial,
    metadata: form.metadata,
    created_at: iso(form.createdAt),
    updated_at: iso(form.updatedAt),
  }),
};
