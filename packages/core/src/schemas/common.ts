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
  /** Context variables of one thread after an update. */
  contextVariables: 20,
  /** Context variables of one thread, serialized as JSON (UTF-8 bytes), after an update. */
  contextVariablesBytes: 4 * 1024,
  /** The whole state of one record, serialized as JSON (UTF-8 bytes). */
  recordBytes: 1024 * 1024,
  /** Longest `expires_in` of a form session: one year. */
  maxExpiresInSeconds: 365 * 24 * 3600,
  /** Characters kept of an agent session's first user message and last assistant response. */
  previewChars: 200,
} as const;

/** A record kind the store keeps. */
export const RecordKind = Type.Union([
  Type.Literal("form"),
  Type.Literal("form_session"),
  Type.Literal("workflow"),
  Type.Literal("thread"),
  Type.Literal("agent"),
  Type.Literal("agent_session"),
  Type.Literal("webhook"),
]);
export type RecordKind = Static<typeof RecordKind>;

/** A schema that also accepts `null`. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Options of an input object that refuses unknown fields by name. */
export const closed = { additionalProperties: false } as const;
