import type { OutboxMessage, RecordWrite, StoredRecord } from "@agent-sessions/core";
import type { Insertable } from "kysely";
import type { AliasesTable, EventsTable, OutboxTable, RecordsTable } from "./database.js";
import { jsonString, jsonValue, type SqlDialect } from "./dialect.js";

// The rows a write inserts, as statement values: JSON already serialized (statements are built
// once and only pass values on), every key present in the same order, so that a multi-row
// INSERT's columns and a VALUES list's positions agree.

/** A record's row, without the lease (a write clears it). */
export type RecordValues = Omit<Insertable<RecordsTable>, "lease_owner" | "lease_until">;
export type EventValues = Insertable<EventsTable>;
export type AliasValues = Insertable<AliasesTable>;
/** An outbox message's row, before its first lease. */
export type OutboxValues = Pick<Insertable<OutboxTable>, "id" | "org_id" | "topic" | "payload" | "available_at"> & { record_id: string };

/** A write as statement values: the record's row and the rows that come with it. */
export interface WriteValues {
  readonly record: RecordValues;
  readonly events: readonly EventValues[];
  /** Each once. */
  readonly aliases: readonly string[];
  readonly outbox: readonly OutboxValues[];
}

export function writeValues(write: RecordWrite): WriteValues {
  const aliases = [...new Set(write.aliases ?? [])];
  return { record: recordValues(write.record), events: eventValues(write), aliases, outbox: outboxValues(write.record.id, write.outbox ?? []) };
}

/** The record's row as an INSERT takes it, its JSON as the dialect does. */
export function recordRow(dialect: SqlDialect, record: RecordValues) {
  return { ...record, data: jsonValue(dialect, record.data) };
}

function recordValues(record: StoredRecord): RecordValues {
  return {
    id: record.id,
    org_id: record.orgId,
    kind: record.kind,
    status: record.status,
    version: record.version,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    due_at: record.dueAt,
    event_count: record.eventCount,
    data: jsonString(record.data),
  };
}

/** The write's events, filed under the written record whatever they claim. */
function eventValues(write: RecordWrite): EventValues[] {
  const { record } = write;
  return write.events.map((event) => ({
    org_id: record.orgId,
    record_id: record.id,
    seq: event.seq,
    id: event.id,
    kind: event.kind,
    type: event.type,
    at: event.at,
    payload: jsonString(event.payload),
  }));
}

/** The aliases as rows naming the written record. */
export function aliasValues(record: Pick<RecordValues, "org_id" | "id">, aliases: readonly string[]): AliasValues[] {
  return aliases.map((alias) => ({ org_id: record.org_id, alias, record_id: record.id }));
}

function outboxValues(recordId: string, messages: readonly OutboxMessage[]): OutboxValues[] {
  return messages.map((message) => ({
    id: message.id,
    org_id: message.orgId,
    topic: message.topic,
    payload: jsonString(message.payload),
    available_at: message.availableAt,
    record_id: recordId,
  }));
}
