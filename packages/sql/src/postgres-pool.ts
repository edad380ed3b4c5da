import type { PostgresPool, PostgresPoolClient } from "kysely";

/** The parts of a pg `Pool` that `guardPostgresPool` uses (structural, so no pg types leak into ours). */
export interface PostgresPoolEvents {
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "connect", listener: (client: { on(event: "error", listener: (error: Error) => void): unknown }) => void): unknown;
}

/**
 * Keeps a pg `Pool` from crashing the process when the server ends a connection (a restart, a
 * failover, `pg_terminate_backend`). pg reports such an end as an `error` event on the client,
 * and on the pool when the client was idle; an event with no listener throws. With these
 * listeners the query in flight fails with the error, the pool drops the dead client, and the
 * next query gets a new connection. `openSqlStore` applies it to the pools it creates; apply it
 * to a pool you hand to Kysely yourself.
 */
export function guardPostgresPool<P extends PostgresPoolEvents>(pool: P): P {
  const ignore = () => {};
  pool.on("error", ignore);
  pool.on("connect", (client) => client.on("error", ignore));
  return pool;
}

/** The parts of a pg client that `preparePostgresStatements` uses. */
export interface PostgresStatementClient {
  query(text: string | { name: string; text: string; values: unknown[] }, values?: unknown[]): Promise<unknown>;
  release(error?: Error | boolean): void;
}

/** The parts of a pg `Pool` that `preparePostgresStatements` uses. */
export interface PostgresStatementPool {
  connect(): Promise<PostgresStatementClient>;
  end(): Promise<void>;
}

/** How many statement texts one pool prepares at most (`preparePostgresStatements`' default). */
export const POSTGRES_PREPARED_STATEMENTS = 256;

const TRANSACTION_START = /^\s*(begin|start\s+transaction)\b/i;
const TRANSACTION_END = /^\s*(commit|rollback|end|abort)\s*;?\s*$/i;

/** PostgreSQL's refusal to run a prepared statement whose row type a schema change altered. */
function changedResultType(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "0A000" && typeof message === "string" && message.includes("cached plan must not change result type");
}

/** Names of prepared statements, unique in the process: two wrapped pools never give one name two texts. */
let statementNames = 0;

/**
 * A pg pool as Kysely's `PostgresDialect` takes it, whose connections prepare each statement
 * with parameters once and then only bind and run it. Kysely sends every query unnamed, so the
 * server parses, analyzes and plans it on every run: for the store's statements (a whole record
 * write is one statement of several CTEs) that is most of the server's work, and preparing them
 * takes about two fifths off the server's CPU per event. The store's SQL text repeats (values
 * are parameters); up to `size` texts are prepared, each on a connection the first time that
 * connection runs it, and further texts run unnamed. `openSqlStore` applies it unless the URL
 * says `?prepare=false`; don't apply it behind a pooler that hands one session's statements to
 * another (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`).
 */
export function preparePostgresStatements(pool: PostgresStatementPool, options: { readonly size?: number } = {}): PostgresPool {
  const size = options.size ?? POSTGRES_PREPARED_STATEMENTS;
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < size) names.set(text, (name = `agent_sessions_${++statementNames}`));
    return name;
  };
  // One wrapper per client: Kysely keeps its connection per client object.
  const wrapped = new WeakMap<PostgresStatementClient, PostgresPoolClient>();
  const wrap = (client: PostgresStatementClient): PostgresPoolClient => {
    let wrapper = wrapped.get(client);
    if (wrapper === undefined) {
      let inTransaction = false;
      const query = async (text: unknown, values?: readonly unknown[], retried = false): Promise<unknown> => {
        if (typeof text === "string") {
          if (TRANSACTION_START.test(text)) inTransaction = true;
          else if (TRANSACTION_END.test(text)) inTransaction = false;
        }
        const name = typeof text === "string" && values !== undefined && values.length > 0 ? nameOf(text) : undefined;
        // Unnamed: no parameters, a cursor, or `size` texts prepared.
        if (name === undefined) return client.query(text as string, values as unknown[]);
        try {
          return await client.query({ name, text: text as string, values: values as unknown[] });
        } catch (error) {
          if (!changedResultType(error)) throw error;
          // A migration changed what the statement answers (PostgreSQL keeps a prepared statement's
          // row type): the text gets a new name, prepared anew on each connection as it runs it.
          if (names.get(text as string) === name) names.delete(text as string);
          if (inTransaction || retried) throw error; // a transaction is aborted by it: its caller retries it whole
          return query(text, values, true);
        }
      };
      wrapper = { query, release: () => client.release() } as PostgresPoolClient;
      wrapped.set(client, wrapper);
    }
    return wrapper;
  };
  return {
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
  };
}
