import { type Static, Type } from "@sinclair/typebox";
import type { RecordKind } from "../kinds/index.js";
import { JsonObject, Timestamp } from "./common.js";

/** An event a machine emits, before the engine gives it an id and a place in the timeline. */
export const EventDraft = Type.Object({
  type: Type.String(),
  at: Timestamp,
  payload: JsonObject,
});
export type EventDraft = Static<typeof EventDraft>;

/** An event in a record's timeline, written in the same atomic write as the state it describes. */
export const SessionEvent = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  recordId: Type.String(),
  kind: Type.Unsafe<RecordKind>(Type.String({ description: "The record kind: form_session, workflow, thread, …" })),
  seq: Type.Integer({ minimum: 1 }),
  type: Type.String(),
  at: Timestamp,
  payload: JsonObject,
});
export type SessionEvent = Static<typeof SessionEvent>;
