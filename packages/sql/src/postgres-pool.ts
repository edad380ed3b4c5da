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
