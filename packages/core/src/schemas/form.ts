import { type Static, Type } from "@sinclair/typebox";
import { closed, LIMITS, Metadata, Timestamp } from "./common.js";



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
      maxLength: 64,
      errorMessage: "must start with a letter or _ and hold only letters, digits and _ (at most 64)",
    }),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    type: FieldType,
    required: Type.Optional(Type.Boolean()),
    options: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 200 })),
  },
  closed,
);
export type FormField = Static<typeof FormField>;

/** `POST /v1/forms` */
export const CreateFormInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.Optional(
      Type.String({
        pattern: "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        maxLength: 64,
        errorMessage: "must be lowercase letters and digits separated by single hyphens (at most 64)",
      }),
    ),
    fields: Type.Array(FormField, { minItems: 1, maxItems: 100 }),
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
export const FieldValue = Type.Union([Type.String({ maxLength: 64 * 1024 }), Type.Number(), Type.Boolean()], {
  errorMessage: "must be a string, a number or a boolean",
});
export type FieldValue = Static<typeof FieldValue>;

/** Every status of a form session, in lifecycle order. */
export const FORM_SESSION_STATUSES = ["created", "open", "submitted", "expired"] as const;
export const FormSessionStatus = Type.Union(FORM_SESSION_STATUSES.map((status) => Type.Literal(status)));
export type FormSessionStatus = Static<typeof FormSessionStatus>;

/** What a person submitted. `partial` submissions list the required fields they left out. */
export const Submission = Type.Object({
  values: Type.Record(Type.String(), FieldValue),
  partial: Type.Boolean(),
  missingFields: Type.Array(Type.String()),
  submittedAt: Timestamp,
});
export type Submission = Static<typeof Submission>;

/** One person's session with one form, from creation to submission or expiry. */
export const FormSession = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  formId: Type.String(),
  fields: Type.Array(FormField),
  allowPartial: Type.Boolean(),
  status: FormSessionStatus,
  prefill: Type.Record(Type.String(), FieldValue),
  metadata: Metadata,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  expiresAt: Timestamp,
  openedAt: Type.Union([Timestamp, Type.Null()]),
  expiredAt: Type.Union([Timestamp, Type.Null()]),
  submission: Type.Union([Submission, Type.Null()]),
});
export type FormSession = Static<typeof FormSession>;

/** `POST /v1/forms/:id/sessions` */
export const CreateFormSessionInput = Type.Object(
  {
    expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxExpiresInSeconds })),
    prefill: Type.Optional(Type.Record(Type.String(), FieldValue, { errorMessage: "must be an object" })),
    metadata: Type.Optional(Metadata),
  },
  closed,
);
export type CreateFormSessionInput = Static<typeof CreateFormSessionInput>;

/** `PATCH /v1/sessions/:id`: push `expires_at` later by `expires_in` seconds. */
export const ExtendFormSessionInput = Type.Object(
  { expires_in: Type.Integer({ minimum: 1, maximum: LIMITS.maxExpiresInSeconds }) },
  closed,
);
export type ExtendFormSessionInput = Static<typeof ExtendFormSessionInput>;

/**
 * A person's submission. Values may arrive as strings from an HTML form; they are checked and
 * converted against each field's type. `partial: false` asks for every required field even on a
 * form that allows partial submissions (the hosted page's main button).
 */
export const SubmitFormInput = Type.Object(
  {
    values: Type.Record(Type.String(), FieldValue, { errorMessage: "must be an object" }),
    partial: Type.Optional(Type.Boolean()),
  },
  closed,
);
export type SubmitFormInput = Static<typeof SubmitFormInput>;
