import { InvalidInputError, isRecordId, type OutboxEntry, type RecordKind, type SessionEvent, type StoredRecord } from "@agent-sessions/core";
import type { Selectable } from "kysely";
import type { EventsTable, OutboxTable, RecordsTable } from "./database.js";

// Drivers disagree on BIGINT: pg hands over strings, mysql2 and better-sqlite3 numbers (or
// bigints when asked to). Every integer column goes through Number(), whatever the driver's settings.

/** A row of the records table as read, JSON as text (`jsonText`), without the lease. */
export type RecordRow = Omit<Selectable<RecordsTable>, "data" | "lease_owner" | "lease_until"> & { data: string };

/** A row of the events table as read. */
export type EventRow = Omit<Selectable<EventsTable>, "payload"> & { payload: string };

/** A row of the outbox table as read. */
export type OutboxRow = Omit<Selectable<OutboxTable>, "payload"> & { payload: string };

export function toRecord(row: RecordRow): StoredRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    kind: row.kind as RecordKind,
    status: row.status,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    dueAt: row.due_at === null ? null : Number(row.due_at),
    eventCount: Number(row.event_count),
    data: JSON.parse(row.data),
  };
}

export function toEvent(row: EventRow): SessionEvent {
  return {
    id: row.id,
    orgId: row.org_id,
    recordId: row.record_id,
    kind: row.kind as RecordKind,
    seq: Number(row.seq),
    type: row.type,
    at: Number(row.at),
    payload: JSON.parse(row.payload),
  };
}

export function toOutboxEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    orgId: row.org_id,
    topic: row.topic,
    payload: JSON.parse(row.payload),
    availableAt: Number(row.available_at),
    attempts: Number(row.attempts),
    lastError: row.last_error,
    leaseOwner: row.lease_owner ?? "",
    leaseUntil: Number(row.lease_until),
  };
}

const CURSOR_PREFIX = "c1.";
const LOG_CURSOR_PREFIX = "d1.";
/** The longest delivery log entry id (its column is varchar(255)). */
export const LOG_ID_LENGTH = 255;

/** `text` behind `prefix`, base64url: a versioned, opaque cursor. */
function toCursor(prefix: string, text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return prefix + btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text of a cursor of `toCursor` with `prefix`, or null for anything else. */
function fromCursor(prefix: string, cursor: string): string | null {
  const body = cursor.startsWith(prefix) ? cursor.slice(prefix.length) : "";
  if (body === "" || !/^[A-Za-z0-9_-]+$/.test(body)) return null;
  try {
    const binary = atob(body.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
  } catch {
    return null;
  }
}

function notOurCursor(): InvalidInputError {
  return new InvalidInputError("cursor", "must be the nextCursor of a previous page");
}

/** The opaque cursor of a page that ended at record `id`: versioned, base64url. */
export function encodeCursor(id: string): string {
  return toCursor(CURSOR_PREFIX, id);
}

/** The record id a cursor of `encodeCursor` names; a clear error for anything else. */
export function decodeCursor(cursor: string): string {
  const id = fromCursor(CURSOR_PREFIX, cursor);
  // Only an id goes into the query: a forged cursor holding U+0000 would make PostgreSQL fail.
  if (!isRecordId(id)) throw notOurCursor();
  return id;
}

/** Where a page of a delivery log ended: its last entry's start and id. */
export interface LogPosition {
  readonly startedAt: number;
  readonly id: string;
}

/** The opaque cursor of a delivery log page that ended at `position`: `d1.` and base64url of `startedAt:id`. */
export function encodeLogCursor(position: LogPosition): string {
  return toCursor(LOG_CURSOR_PREFIX, `${position.startedAt}:${position.id}`);
}

/** The position a cursor of `encodeLogCursor` names; a clear error for anything else. */
export function decodeLogCursor(cursor: string): LogPosition {
  const text = fromCursor(LOG_CURSOR_PREFIX, cursor) ?? "";
  const colon = text.indexOf(":");
  const startedAt = Number(text.slice(0, colon));
  const id = text.slice(colon + 1);
  // A well-formed id only (no U+0000, which PostgreSQL refuses), and a start that is a time.
  if (colon < 1 || !Number.isSafeInteger(startedAt) || id === "" || id.length > LOG_ID_LENGTH || id.includes("\u0000")) throw notOurCursor();
  return { startedAt, id };
}
