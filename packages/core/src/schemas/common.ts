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

/**
 * The schema of a moment a caller gives, described by `description`: RFC 3339 text, ISO 8601 with
 * a time zone (`2025-01-15T10:30:00Z`, `2025-01-15T12:30:00.5+02:00`). The schema checks the
 * shape; `parseDateTime` the calendar.
 */
export const DateTimeInput = (description = "An ISO 8601 date-time with a time zone (RFC 3339)") =>
  Type.String({
    pattern: "^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$",
    errorMessage: "must be an ISO 8601 date-time with a time zone, like 2025-01-15T10:30:00Z",
    description,
    examples: ["2025-01-15T10:30:00Z"],
  });

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * The milliseconds since the epoch of a `DateTimeInput` text, or `null` when it names no moment
 * from 1970 on (February 30th, hour 24, a leap second, an offset past ±23:59), which
 * `Date.parse` would let through or roll over.
 */
export function parseDateTime(text: string): number | null {
  const parts = DATE_TIME.exec(text);
  if (!parts) return null;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = parts[7] ? Math.floor(Number(`0${parts[7]}`) * 1000) : 0;
  const offsetHours = parts[9] === undefined ? 0 : Number(parts[9]);
  const offsetMinutes = parts[10] === undefined ? 0 : Number(parts[10]);
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (year < 1970 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const offset = (parts[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offset;
  return ms >= 0 ? ms : null;
}
