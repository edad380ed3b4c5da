import { type Static, Type } from "@sinclair/typebox";
import { iso } from "../machine.js";
import { AnyObject, closed, DateTime, Metadata, Nullable, RemindBefore, Timestamp } from "../schemas/common.js";
import { FieldValue, FormField } from "./form.js";
import { defineKind, statusSchema, wireInput } from "./kind.js";

/** What one form session allows at most, and its default lifetime. */
const LIMITS = {
  /** Longest lifetime a session can be given or extended by at once, in seconds: one year. */
  maxExpiresInSeconds: 365 * 24 * 3600,
  /** Lifetime of a session created without `expiresIn`, in seconds: one hour, as seed 000 documents. */
  defaultExpiresInSeconds: 3600,
} as const;

/** Every status of a form session, in lifecycle order. */
export const FORM_SESSION_STATUSES = ["created", "open", "submitted", "expired"] as const;
export const FormSessionStatus = statusSchema(FORM_SESSION_STATUSES);
export type FormSessionStatus = (typeof FORM_SESSION_STATUSES)[number];

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
  /**
   * The form's name when the session was made: its hosted page's title, kept with the fields so
   * the page needs no read of the form. Absent on sessions made before it was kept.
   */
  formName: Type.Optional(Type.String()),
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
  /** Seconds before `expiresAt` at which `session.expiring` is sent, as given at creation. Absent when none were asked for. */
  remindBefore: Type.Optional(Type.Array(Type.Integer())),
  /**
   * The moments (ms, earliest first) of the reminders still to send while the session is live:
   * recomputed from `remindBefore` when the session is extended. Absent when none is pending.
   */
  reminders: Type.Optional(Type.Array(Timestamp)),
});
export type FormSession = Static<typeof FormSession>;

const ExpiresIn = Type.Integer({ minimum: 1, maximum: LIMITS.maxExpiresInSeconds });

/** `engine.formSessions.create`: how long the session lives, values filled in for the person, metadata. */
export const CreateFormSessionInput = Type.Object(
  {
    /** Seconds until the session expires. Default: `formSessionKind.limits.defaultExpiresInSeconds`. */
    expiresIn: Type.Optional(ExpiresIn),
    prefill: Type.Optional(Type.Record(Type.String(), FieldValue, { errorMessage: "must be an object" })),
    metadata: Type.Optional(Metadata),
    /**
     * Seconds before the deadline at which a `session.expiring` event (and webhook) is sent, once
     * each, while the session is live; an entry at or past the time left is skipped. Recomputed
     * from the new deadline when the session is extended.
     */
    remindBefore: Type.Optional(RemindBefore),
  },
  closed,
);
export type CreateFormSessionInput = Static<typeof CreateFormSessionInput>;

/** `engine.formSessions.extend`: push `expiresAt` later by `expiresIn` seconds. */
export const ExtendFormSessionInput = Type.Object({ expiresIn: ExpiresIn }, closed);
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

/** Form sessions: created, opened by a person on the hosted page, then submitted or expired. */
export const formSessionKind = defineKind({
  name: "form_session",
  prefix: "sess",
  noun: "Session",
  statuses: FORM_SESSION_STATUSES,
  terminal: ["submitted", "expired"],
  state: FormSession,
  limits: LIMITS,
});

/** A form session as seed 000 shows it, snake_case, with its hosted page's `url`. */
export const FormSessionBody = Type.Object(
  {
    id: Type.String({ examples: ["sess_0190e1b0000070008000000000000001"] }),
    form_id: Type.String(),
    status: FormSessionStatus,
    url: Type.String({ format: "uri" }),
    expires_at: DateTime,
    created_at: DateTime,
    updated_at: DateTime,
    prefill: Type.Record(Type.String(), FieldValue),
    metadata: AnyObject,
    submission: Nullable(
      Type.Object({
        values: Type.Record(Type.String(), FieldValue),
        partial: Type.Boolean(),
        missing_fields: Type.Array(Type.String()),
        submitted_at: DateTime,
      }),
    ),
    /** Present only on a session created with reminders. */
    remind_before: Type.Optional(Type.Array(Type.Integer(), { description: "Seconds before expires_at at which session.expiring is sent" })),
  },
  { $id: "FormSession" },
);

/** Form sessions on the wire (seed 000, snake_case). */
export const formSessionWire = {
  create: wireInput(CreateFormSessionInput, { expiresIn: "expires_in", remindBefore: "remind_before" }),
  extend: wireInput(ExtendFormSessionInput, { expiresIn: "expires_in" }),
  submit: wireInput(SubmitFormInput),
  body: FormSessionBody,
  toBody: (session: FormSession, url: string): Static<typeof FormSessionBody> => ({
    id: session.id,
    form_id: session.formId,
    status: session.status,
    url,
    expires_at: iso(session.expiresAt),
    created_at: iso(session.createdAt),
    updated_at: iso(session.updatedAt),
    prefill: session.prefill,
    metadata: session.metadata,
    submission: session.submission && {
      values: session.submission.values,
      partial: session.submission.partial,
      missing_fields: session.submission.missingFields,
      submitted_at: iso(session.submission.submittedAt),
    },
    ...(session.remindBefore ? { remind_before: session.remindBefore } : {}),
  }),
};
