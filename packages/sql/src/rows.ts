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

/** The opaque cursor of a page that ended at record `id`: versioned, base64url. */
export function encodeCursor(id: string): string {
  const bytes = new TextEncoder().encode(id);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return CURSOR_PREFIX + btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The record id a cursor of `encodeCursor` names; a clear error for anything else. */
export function decodeCursor(cursor: string): string {
  const body = cursor.startsWith(CURSOR_PREFIX) ? cursor.slice(CURSOR_PREFIX.length) : "";
  try {
    if (body === "" || !/^[A-Za-z0-9_-]+$/.test(body)) throw new Error("not base64url");
    const binary = atob(body.replace(/-/g, "+").replace(/_/g, "/"));
    const id = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    // Only an id goes into the query: a forged cursor holding U+0000 would make PostgreSQL fail.
    if (!isRecordId(id)) throw new Error("not an id");
    return id;
  } catch {
    throw new InvalidInputError("cursor", "must be the nextCursor of a previous page");
  }
}
