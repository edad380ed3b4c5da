export type { AnyKysely, SqlDialect } from "./dialect.js";
export {
  assertSchemaVersion,
  LATEST_SCHEMA_VERSION,
  type MigrationResult,
  migrate,
  SchemaVersionError,
  schemaVersion,
} from "./migrations.js";
export { createPostgresNotifier, openPostgresNotifier, type PostgresNotifier, type PostgresNotifierOptions } from "./notifier.js";
export {
  type OpenSqlStoreOptions,
  openSqlStore,
  type ParsedStoreUrl,
  parseStoreUrl,
  SQLITE_SYNCHRONOUS,
  SQLITE_SYNCHRONOUS_DEFAULT,
  type SqliteSynchronous,
} from "./open.js";
export {
  guardPostgresPool,
  POSTGRES_PREPARED_STATEMENTS,
  type PostgresPoolEvents,
  type PostgresStatementClient,
  type PostgresStatementPool,
  preparePostgresStatements,
} from "./postgres-pool.js";
export { SqlStore, type SqlStoreOptions } from "./sql-store.js";
export type { TableOptions } from "./tables.js";
