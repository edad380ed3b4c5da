import type { OutboxMessage, RecordWrite, StoredRecord } from "@agent-sessions/core";
import { type RawBuilder, sql } from "kysely";
import { jsonParam, type SqlDialect } from "./dialect.js";

// Rows of multi-row INSERTs. PostgreSQL types the columns of a VALUES list from its parameters,
// which arrive untyped, so there every non-text value carries a cast; the other dialects take
// the target column's type.

function cast(dialect: SqlDialect, value: unknown, type: "integer" | "bigint"): RawBuilder<unknown> {
  return dialect === "postgres" ? sql`${value}::${sql.raw(type)}` : sql`${value}`;
}

/** Columns of `recordRow`, in its order. */
export const RECORD_COLUMNS = sql.raw("id, org_id, kind, status, version, created_at, updated_at, due_at, event_count, data");

/** The record as one row of `RECORD_COLUMNS`. */
export function recordRow(dialect: SqlDialect, record: StoredRecord): RawBuilder<unknown> {
  return sql`(${record.id}, ${record.orgId}, ${record.kind}, ${record.status}, ${record.version}, ${record.createdAt},
    ${record.updatedAt}, ${record.dueAt}, ${record.eventCount}, ${jsonParam(dialect, record.data)})`;
}

/** Columns of `eventRows`, in its order. */
export const EVENT_COLUMNS = sql.raw("org_id, record_id, seq, id, kind, type, at, payload");

/** The write's events as rows of `EVENT_COLUMNS`, filed under the written record whatever they claim. */
export function eventRows(dialect: SqlDialect, write: RecordWrite): RawBuilder<unknown> {
  const { record } = write;
  return sql.join(
    write.events.map(
      (event) =>
        sql`(${record.orgId}, ${record.id}, ${cast(dialect, event.seq, "integer")}, ${event.id}, ${event.kind}, ${event.type},
          ${cast(dialect, event.at, "bigint")}, ${jsonParam(dialect, event.payload)})`,
    ),
  );
}

/** Columns of `aliasRows`, in its order. */
export const ALIAS_COLUMNS = sql.raw("org_id, alias, record_id");

/** The write's aliases as rows of `ALIAS_COLUMNS`. */
export function aliasRows(write: RecordWrite, aliases: readonly string[]): RawBuilder<unknown> {
  return sql.join(aliases.map((alias) => sql`(${write.record.orgId}, ${alias}, ${write.record.id})`));
}

/** Columns of `outboxRows`, in its order. */
export const OUTBOX_COLUMNS = sql.raw("id, org_id, topic, payload, available_at");

/** Outbox messages as rows of `OUTBOX_COLUMNS`. */
export function outboxRows(dialect: SqlDialect, messages: readonly OutboxMessage[]): RawBuilder<unknown> {
  return sql.join(
    messages.map(
      (message) =>
        sql`(${message.id}, ${message.orgId}, ${message.topic}, ${jsonParam(dialect, message.payload)}, ${cast(dialect, message.availableAt, "bigint")})`,
    ),
  );
}

/** The aliases of a write, each once. */
export function aliasesOf(write: RecordWrite): string[] {
  return [...new Set(write.aliases ?? [])];
}
