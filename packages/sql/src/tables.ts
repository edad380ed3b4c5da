import { InvalidInputError } from "@agent-sessions/core";
import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RawBuilder,
  type RootOperationNode,
  SchemableIdentifierNode,
  sql,
  type UnknownRow,
} from "kysely";
import type { Database } from "./database.js";
import type { SqlDialect } from "./dialect.js";

/** Where the store's tables live: a name prefix, and a schema (PostgreSQL) or database (MySQL). */
export interface TableOptions {
  /** Put before every table name, e.g. `"as_"` gives `as_records`. Letters, digits and `_`. Default: none. */
  readonly tablePrefix?: string;
  /** The PostgreSQL schema or MySQL database holding the tables. Not available on SQLite. Default: the connection's. */
  readonly schema?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The store's tables: their qualified names, the plugin that names them so in statements built
 * against `Database`, and SQL identifiers for the migrations' DDL.
 */
export class Tables {
  /** Gives the tables of statements built against `Database` their prefix and schema as they compile. */
  readonly plugin: KyselyPlugin;
  readonly records: RawBuilder<unknown>;
  readonly events: RawBuilder<unknown>;
  readonly aliases: RawBuilder<unknown>;
  readonly outbox: RawBuilder<unknown>;
  readonly idempotency: RawBuilder<unknown>;
  readonly deliveryLog: RawBuilder<unknown>;
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
    this.deliveryLog = sql.table(this.name("delivery_log"));
    this.plugin = new TableNamesPlugin(this);
  }

  /** `table` with the prefix, qualified by the schema when there is one (`schema.prefix_table`). */
  name(table: string): string {
    return this.schema === undefined ? `${this.prefix}${table}` : `${this.schema}.${this.prefix}${table}`;
  }
}

/** The store's tables by the names `Database` gives them. */
const TABLES: ReadonlySet<string> = new Set<keyof Database>([
  "records",
  "events",
  "aliases",
  "outbox",
  "idempotency_keys",
  "delivery_log",
  "schema_migrations",
]);

/** Renames the store's tables (not CTEs, aliases or other tables) to `Tables.name`, as kysely's WithSchemaPlugin adds a schema. */
class TableNames extends OperationNodeTransformer {
  readonly #renamed = new Map<string, SchemableIdentifierNode>();

  constructor(tables: Tables) {
    super();
    for (const table of TABLES) {
      const name = `${tables.prefix}${table}`;
      this.#renamed.set(
        table,
        tables.schema === undefined ? SchemableIdentifierNode.create(name) : SchemableIdentifierNode.createWithSchema(tables.schema, name),
      );
    }
  }

  protected override transformSchemableIdentifier(node: SchemableIdentifierNode): SchemableIdentifierNode {
    return (node.schema === undefined ? this.#renamed.get(node.identifier.name) : undefined) ?? node;
  }
}

class TableNamesPlugin implements KyselyPlugin {
  readonly #transformer: TableNames;

  constructor(tables: Tables) {
    this.#transformer = new TableNames(tables);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
