import type { AnyKysely, SqlDialect } from "./dialect.js";
import type { Tables } from "./tables.js";

/** What every query of the store needs: the connection, its dialect and the store's tables. */
export interface SqlContext {
  readonly db: AnyKysely;
  readonly dialect: SqlDialect;
  readonly tables: Tables;
}
