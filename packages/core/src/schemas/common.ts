import { type Static, type TSchema, Type } from "@sinclair/typebox";

/** Milliseconds since the Unix epoch. Stores keep times as numbers; core judges them. */
export const Timestamp = Type.Integer({ minimum: 0, description: "Milliseconds since the Unix epoch" });

/** Free key-value pairs a caller attaches to a record, at most `LIMITS.metadataBytes` as JSON. */
export const Metadata = Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
  errorMessage: "must be an object",
  description: "User-defined key-value pairs for tracking or tagging",
});
export type Metadata = Static<typeof Metadata>;

/** Any JSON object. */
export const JsonObject = Type.Record(Type.String(), Type.Unknown(), { errorMessage: "must be an object" });
export type JsonObject = Static<typeof JsonObject>;

/** Size and count limits every engine enforces. */
export const LIMITS = {
  /** Metadata of any record, serialized as JSON (UTF-8 bytes). */
  metadataBytes: 16 * 1024,
  /** The whole state of one record, serialized as JSON (UTF-8 bytes). */
  recordBytes: 1024 * 1024,
} as const;

/** A schema that also accepts `null`. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Options of an input object that refuses unknown fields by name. */
export const closed = { additionalProperties: false } as const;

/** A moment as the wire shows it: ISO 8601 text in UTC (`2025-01-15T10:30:00.000Z`). */
export const DateTime = Type.String({ format: "date-time" });

/** Any JSON object, as the wire shows metadata and payloads. */
export const AnyObject = Type.Record(Type.String(), Type.Unknown());

/** What every list takes: a status to filter by, and a page by `limit` and `offset` or `cursor`. */
export const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  closed,
);
export type ListQuery = Static<typeof ListQuery>;

/** How many reminders one session, action or wait keeps. */
export const MAX_REMINDERS = 10;

/**
 * `remind_before`: seconds before a deadline at which a reminder (`session.expiring`,
 * `action.expiring`, `wait.expiring`) is sent, once each. Up to `MAX_REMINDERS` distinct whole
 * numbers from 1 second to 30 days; an entry at or past the time left when it is set is skipped.
 */
export const RemindBefore = Type.Array(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 }), {
  maxItems: MAX_REMINDERS,
  uniqueItems: true,
  description: "Seconds before the deadline at which to send a reminder event and webhook, once each",
  examples: [[600, 60]],
});
export type RemindBefore = Static<typeof RemindBefore>;
