import type { Compilable, CompiledQuery, Kysely, QueryResult } from "kysely";
import type { Database } from "./database.js";
import type { SqlDialect } from "./dialect.js";

// Kysely builds and compiles a query on every call: for the store's short statements that costs
// several times what the statement took as an SQL template, and as much as SQLite takes to run
// it. So each statement is built once per store and shape, with slots standing for its values,
// and each run fills the compiled statement's parameters from the values it is given.

/**
 * A statement of the store, built with the query builder. `build` gets slots in place of the
 * run's values: it passes them to the builder as they are and never computes with them (its
 * result is reused for other values). It may look at their shape: which keys are undefined and
 * how long the arrays are, since runs of another shape get a statement of their own.
 */
export interface Statement<V extends object, R> {
  readonly build: (db: Kysely<Database>, values: V, dialect: SqlDialect) => Compilable<R>;
}

/** Declares a statement; see `Statement`. */
export function statement<V extends object, R>(build: Statement<V, R>["build"]): Statement<V, R> {
  return { build };
}

/** How many shapes of one statement are kept compiled; more (long `IN` lists) are built on each run. */
const SHAPES = 64;

/**
 * The most parameters a statement kept compiled has. A larger one (a write of thousands of
 * events) is rare, costs more to run than to build, and would hold its text and slots for good.
 */
const PARAMETERS = 512;

/**
 * How many rows one statement writes, or ids one `IN` list holds, at most: well within every
 * database's bound parameters (SQLite's were 999 before 3.32), and each size is a shape of its own.
 */
export const CHUNK = 100;

/** `items` in slices of at most `size`, in order; none when `items` is empty. */
export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const slices: T[][] = [];
  for (let start = 0; start < items.length; start += size) slices.push(items.slice(start, start + size));
  return slices;
}

/**
 * A list sent as one PostgreSQL array parameter: node-postgres sends what `toPostgres` answers in
 * its place, and a statement keeps one shape however long the list (it is no plain object or array).
 */
export class PostgresArray {
  constructor(readonly items: readonly unknown[]) {}

  toPostgres(): readonly unknown[] {
    return this.items;
  }
}

type Read = (values: unknown) => unknown;

interface Prepared {
  readonly query: CompiledQuery<unknown>;
  /** Reads each parameter of `query` from a run's values. */
  readonly reads: readonly Read[];
}

/** A statement's values while it is built: where a parameter's value is read from on each run. */
class Slot {
  constructor(readonly read: Read) {}

  toJSON(): never {
    throw new Error("a statement was built with a computation on its values; pass them to the builder as they are");
  }

  [Symbol.toPrimitive](): never {
    return this.toJSON();
  }
}

/** The statements of one store: compiled by `compiler` (which knows the store's table names) on first use. */
export class Statements {
  readonly #compiler: Kysely<Database>;
  readonly #dialect: SqlDialect;
  readonly #prepared = new Map<Statement<never, unknown>, Map<string, Prepared>>();

  constructor(compiler: Kysely<Database>, dialect: SqlDialect) {
    this.#compiler = compiler;
    this.#dialect = dialect;
  }

  /** Runs `statement` with `values` on `executor` (the store's connection, a transaction). */
  async run<V extends object, R>(executor: Kysely<Database>, statement: Statement<V, R>, values: V): Promise<QueryResult<R>> {
    const prepared = this.#prepare(statement, values);
    const parameters = prepared.reads.map((read) => read(values));
    return executor.executeQuery({ ...(prepared.query as CompiledQuery<R>), parameters });
  }

  #prepare<V extends object, R>(statement: Statement<V, R>, values: V): Prepared {
    const key = statement as Statement<never, unknown>;
    let shapes = this.#prepared.get(key);
    if (shapes === undefined) this.#prepared.set(key, (shapes = new Map()));
    const shape = shapeOf(values);
    let prepared = shapes.get(shape);
    if (prepared === undefined) {
      const query = statement.build(this.#compiler, slots(values, (run) => run) as V, this.#dialect).compile();
      prepared = { query, reads: query.parameters.map((parameter) => (parameter instanceof Slot ? parameter.read : () => parameter)) };
      if (shapes.size < SHAPES && query.parameters.length <= PARAMETERS) shapes.set(shape, prepared);
    }
    return prepared;
  }
}

/**
 * Which keys of `values` (and of the objects in it) are set, and how long its arrays are: what a
 * statement's build may depend on, and what kysely itself looks at (it leaves undefined values out).
 */
function shapeOf(values: object): string {
  let shape = "";
  for (const key in values) {
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined) shape += `${key}- `;
    else if (Array.isArray(value)) shape += `${key}[${value.length}] `;
    else if (isPlainObject(value)) shape += `${key}{${shapeOf(value)}} `;
    else shape += `${key} `;
  }
  return shape;
}

function isPlainObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** `values` with every value (not arrays or plain objects) replaced by a slot reading it through `read`. */
function slots(values: unknown, read: Read): unknown {
  if (values === undefined) return undefined;
  if (Array.isArray(values)) return values.map((item, index) => slots(item, (run) => (read(run) as unknown[])[index]));
  if (isPlainObject(values)) {
    return Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, slots(value, (run) => (read(run) as Record<string, unknown>)[key])]),
    );
  }
  return new Slot(read);
}
