import type { ColumnType } from "kysely";

// The store's tables as Kysely sees them, under their names without prefix or schema (the
// `Tables` plugin adds those while a statement compiles). Written values are what the store
// passes; read values are what the drivers hand over.

/**
 * Milliseconds since the epoch, a BIGINT column: pg reads BIGINT as a string, mysql2 and
 * better-sqlite3 as a number, so a read goes through `Number()`.
 */
type Millis = ColumnType<number | string, number, number>;
type NullableMillis = ColumnType<number | string | null, number | null, number | null>;
/** A BIGINT column the table fills with 0 when an insert leaves it out. */
type MillisDefaultZero = ColumnType<number | string, number | undefined, number>;

/**
 * A JSON column: written as JSON text (PostgreSQL casts it to jsonb), read through `jsonText`,
 * since each driver hands the bare column over in a form of its own.
 */
type Json = ColumnType<unknown, string, string>;

/** One record (a session, a form, an agent, …): its indexed fields, its lease and its state as JSON. */
export interface RecordsTable {
  id: string;
  org_id: string;
  kind: string;
  status: string;
  version: number;
  created_at: Millis;
  updated_at: Millis;
  due_at: NullableMillis;
  lease_owner: string | null;
  lease_until: MillisDefaultZero;
  event_count: number;
  data: Json;
}

/** A record's timeline, one row per event, numbered by `seq` within the record. */
export interface EventsTable {
  org_id: string;
  record_id: string;
  seq: number;
  id: string;
  kind: string;
  type: string;
  at: Millis;
  payload: Json;
}

/** A second name of a record within its organization (a form's slug). */
export interface AliasesTable {
  org_id: string;
  alias: string;
  record_id: string;
}

/** Messages waiting for delivery, leased to one worker at a time. */
export interface OutboxTable {
  id: string;
  org_id: string;
  topic: string;
  payload: Json;
  available_at: Millis;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: MillisDefaultZero;
  /** The record whose write enqueued the message (NULL for messages written before schema version 4). */
  record_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Idempotency keys and the response each one's first request gave. */
export interface IdempotencyKeysTable {
  org_id: string;
  idempotency_key: string;
  fingerprint: string;
  expires_at: Millis;
  response: Json;
  /** The record the key's request created, once completed with one: `purge` removes the entry with it. */
  record_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Each webhook endpoint's delivery attempts, one row per attempt (schema version 5). */
export interface DeliveryLogTable {
  org_id: string;
  /** The attempt's id, unique within the organization. */
  id: string;
  /** The endpoint whose log holds the attempt. */
  webhook_id: string;
  /** When the attempt started: the log's order, then `id`. */
  started_at: Millis;
  /** The attempt as core keeps it, replaced when the attempt ends. */
  data: Json;
}

/** The migrations applied, one row each. */
export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: Millis;
}

/** Every table of the store, by its name without prefix or schema. */
export interface Database {
  records: RecordsTable;
  events: EventsTable;
  aliases: AliasesTable;
  outbox: OutboxTable;
  idempotency_keys: IdempotencyKeysTable;
  delivery_log: DeliveryLogTable;
  schema_migrations: SchemaMigrationsTable;
}
