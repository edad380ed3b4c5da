import { type Static, type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { InvalidInputError } from "../errors.js";
import { parseInput, trust } from "../validate.js";

/**
 * What one session kind is, in one place: its name in stores, the prefix of its ids, its statuses
 * and which of them are final, its state schema and its limits. The engine, every store's
 * retention and indexing, the router's status filters and dispatch, the OpenAPI document and the
 * client's types read these instead of restating them. `kinds/index.ts` pairs each with its machine.
 */
export interface KindDescriptor<
  Name extends string = string,
  Status extends string = string,
  State extends TSchema = TSchema,
  Limits extends Readonly<Record<string, number>> = Readonly<Record<string, number>>,
> {
  /** The record kind a store indexes: `form_session`. */
  readonly name: Name;
  /** The prefix of its ids: `sess` makes `sess_0190…`. */
  readonly prefix: string;
  /** Names one record in messages: "Session sess_… not found". */
  readonly noun: string;
  /** Every status, in lifecycle order (one, `active`, for kinds that never change status). */
  readonly statuses: readonly Status[];
  /** The statuses after which a record never changes again: only these may be purged by retention. */
  readonly terminal: readonly Status[];
  /** The state the machine keeps and the store holds as `data`. */
  readonly state: State;
  /** Counts and sizes this kind never exceeds; each is enforced by the kind's schemas or machine. */
  readonly limits: Limits;
  /**
   * How many growing parts (messages, steps, actions) a state holds, for kinds that grow with use:
   * a write that adds one measures the whole record against `LIMITS.recordBytes`.
   */
  readonly parts?: (state: Static<State> & any) => number;
}

/** A descriptor with the pure machine of its kind (kinds without transitions have none). */
/** Declares a kind, checking that its terminal statuses are among its statuses. */
export function defineKind<
  const Name extends string,
  const Status extends string,
  State extends TSchema,
  const Limits extends Readonly<Record<string, number>>,
>(descriptor: KindDescriptor<Name, Status, State, Limits>): KindDescriptor<Name, Status, State, Limits> {
  for (const status of descriptor.terminal) {
    if (!descriptor.statuses.includes(status)) throw new TypeError(`kind ${descriptor.name}: terminal status ${status} is not one of its statuses`);
  }
  return Object.freeze(descriptor);
}

/** The status schema of a kind: one literal per status, with a message naming them all. */
export function statusSchema<const Status extends string>(statuses: readonly Status[]) {
  return Type.Union(
    statuses.map((status) => Type.Literal(status)),
    { errorMessage: `must be one of ${statuses.join(", ")}` },
  ) as unknown as TSchema & { static: Status };
}

/**
 * An operation's input as the wire carries it: the engine's camelCase schema with some fields
 * renamed to the seed's casing (`expiresIn` is `expires_in` in seed 000). The router checks a
 * body against `schema`, so a 400 names the field as the caller wrote it, and hands the engine
 * `read(body)`.
 */
export interface WireInput<Input, Body = unknown> {
  /** The body as sent: what the router checks and the OpenAPI document publishes. */
  readonly schema: TSchema & { static: Body };
  /** Checks a body against `schema` and renames its fields to the engine's: throws a 400-class `InvalidInputError` naming the wire field. */
  read(body: unknown): Input;
  /** The wire name of an engine field path (`contextVariables.X` → `context_variables.X`), for the messages of later checks. */
  field(path: string): string;
}

/** The fields of `T` with the names `R` gives some of them: `{ expiresIn?: number }` with `{ expiresIn: "expires_in" }` is `{ expires_in?: number }`. */
export type Renamed<T, R> = { [K in keyof T as K extends keyof R ? (R[K] extends string ? R[K] : K) : K]: T[K] };

/** The body a wire input takes, as the client sends it: `WireBody<typeof formSessionWire.create>`. */
export type WireBody<W> = W extends WireInput<unknown, infer Body> ? Body : never;

/**
 * Derives an operation's wire input from the engine's schema of it and the fields the wire names
 * otherwise (`{ expiresIn: "expires_in" }`); every other field keeps its name. Only top-level
 * fields are renamed: the keys inside a field (metadata, prefill values) are the caller's.
 */
// biome-ignore lint/complexity/noBannedTypes: `{}` is "no field renamed", the default of the renames
export function wireInput<T extends TObject, const R extends { readonly [K in keyof Static<T>]?: string } = {}>(
  engineSchema: T,
  renames?: R,
): WireInput<Static<T>, Renamed<Static<T>, R>> {
  const toWire = new Map<string, string>(Object.entries(renames ?? {}) as [string, string][]);
  const toEngine = new Map<string, string>([...toWire].map(([engine, wire]) => [wire, engine]));
  const properties: TProperties = {};
  for (const [name, property] of Object.entries(engineSchema.properties)) properties[toWire.get(name) ?? name] = property;
  const { properties: _ignored, required: _required, ...options } = engineSchema as TObject & Record<string, unknown>;
  const schema = (toWire.size === 0 ? engineSchema : Type.Object(properties, options)) as TSchema & { static: Renamed<Static<T>, R> };
  return {
    schema,
    read(body) {
      let checked: Record<string, unknown>;
      try {
        checked = parseInput(schema, body) as Record<string, unknown>;
      } catch (error) {
        if (error instanceof InvalidInputError) namedAsSent.add(error);
        throw error;
      }
      if (toWire.size === 0) return trust(engineSchema, checked) as Static<T>;
      const input: Record<string, unknown> = {};
      for (const key of Object.keys(checked)) input[toEngine.get(key) ?? key] = checked[key];
      return trust(engineSchema, input) as Static<T>;
    },
    field(path) {
      const head = /^[^.[]+/.exec(path)?.[0] ?? path;
      const renamed = toWire.get(head);
      return renamed === undefined ? path : renamed + path.slice(head.length);
    },
  };
}

/**
 * The errors of `read`: they name a field as the caller sent it, even one spelled as the engine
 * names it (`expiresIn` sent to a wire that says `expires_in` "is not a known field").
 */
const namedAsSent = new WeakSet<InvalidInputError>();

/** An `InvalidInputError` whose field the engine named by its camelCase path, renamed to the wire's. */
export function wireError(error: unknown, input: WireInput<unknown>): unknown {
  if (!(error instanceof InvalidInputError) || error.field === undefined || namedAsSent.has(error)) return error;
  const field = input.field(error.field);
  if (field === error.field) return error;
  const renamed = new InvalidInputError(field, "");
  Object.defineProperty(renamed, "message", { value: field + error.message.slice(error.field.length) });
  return renamed;
}
