import { InvalidInputError } from "@agent-sessions/core";
import { type RawBuilder, sql } from "kysely";
import type { SqlDialect } from "./dialect.js";

/** Where the store's tables live: a name prefix, and a schema (PostgreSQL) or database (MySQL). */
export interface TableOptions {
  /** Put before every table name, e.g. `"as_"` gives `as_records`. Letters, digits and `_`. Default: none. */
  readonly tablePrefix?: string;
  /** The PostgreSQL schema or MySQL database holding the tables. Not available on SQLite. Default: the connection's. */
  readonly schema?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The store's tables, each as a qualified name and as an SQL identifier. */
export class Tables {
  readonly records: RawBuilder<unknown>;
  readonly events: RawBuilder<unknown>;
  readonly aliases: RawBuilder<unknown>;
  readonly outbox: RawBuilder<unknown>;
  readonly idempotency: RawBuilder<unknown>;
  readonly migrations: RawBuilder<unknown>;
  /** The prefix alone, for index names (which live in the table's schema). */
  readonly prefix: string;
  readonly schema: string | undefined;

  constructor(dialect: SqlDialect, options: TableOptions = {}) {
    const prefix = options.tablePrefix ?? "";
    if (prefix !== "" && (!NAME.test(prefix) || prefix.length > 40)) {
      throw new InvalidInputError("tablePrefix", "must be letters, digits and _ (not starting with a digit), at most 40 characters");
    }
    if (options.schema !== undefined) {
      if (dialect === "sqlite") throw new InvalidInputError("schema", "is not available on SQLite; use tablePrefix");
      if (!NAME.test(options.schema) || options.schema.length > 60) {
        throw new InvalidInputError("schema", "must be letters, digits and _ (not starting with a digit), at most 60 characters");
      }
    }
    this.prefix = prefix;
    this.schema = options.schema;
    this.records = sql.table(this.name("records"));
    this.events = sql.table(this.name("events"));
    this.aliases = sql.table(this.name("aliases"));
    this.outbox = sql.table(this.name("outbox"));
    this.idempotency = sql.table(this.name("idempotency_keys"));
    this.migrations = sql.table(this.name("schema_migrations"));
  }

  /** `table` with the prefix, qualified by the schema when there is one (`schema.prefix_table`). */
  name(table: string): string {
    return this.schema === undefined ? `${this.prefix}${table}` : `${this.schema}.${this.prefix}${table}`;
  }
}
