import type { Kysely, QueryResult } from "kysely";
import type { Database } from "./database.js";
import type { AnyKysely, Executor, SqlDialect } from "./dialect.js";
import { type Statement, Statements } from "./statement.js";
import type { Tables } from "./tables.js";

/** What every query of the store needs: the connection, its dialect, the store's tables and its compiled statements. */
export class SqlContext {
  /** The connection, typed with the store's tables, which it names with their prefix and schema. */
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  readonly tables: Tables;
  readonly #statements: Statements;

  constructor(db: AnyKysely, dialect: SqlDialect, tables: Tables) {
    // The plugin renames tables while a statement compiles, which `run` does once per statement.
    this.db = db.withPlugin(tables.plugin);
    this.dialect = dialect;
    this.tables = tables;
    this.#statements = new Statements(this.db, dialect);
  }

  /** Runs `statement` with `values` on `executor`: the store's connection unless a transaction's is given. */
  run<V extends object, R>(statement: Statement<V, R>, values: V, executor: Executor = this.db): Promise<QueryResult<R>> {
    return this.#statements.run(executor, statement, values);
  }
}
