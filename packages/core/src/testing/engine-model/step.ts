import type fc from "fast-check";
import { answer, checkTouched, expectVerdict, project, type Real } from "./checks.js";
import { choice, MALFORMED_IDS, METADATA, type Ref } from "./inputs.js";
import { type EngineModel, type Entry, KINDS, type Kind, type Verdict } from "./model.js";

/** One generated command: it runs on the model and on the engine and compares what each answers and reads. */
export class Step implements fc.AsyncCommand<EngineModel, Real> {
  constructor(
    private readonly label: string,
    /** The kinds of record the command acts on, or a test of the model: until then it would only ever be "not found". */
    private readonly needs: readonly Kind[] | ((m: EngineModel) => boolean),
    private readonly body: (m: EngineModel, r: Real) => Promise<void>,
  ) {}
  check(m: Readonly<EngineModel>): boolean {
    const needs = this.needs;
    return typeof needs === "function" ? needs(m as EngineModel) : needs.every((kind) => m.records[kind].length > 0);
  }
  run(m: EngineModel, r: Real): Promise<void> {
    return this.body(m, r);
  }
  toString(): string {
    return this.label;
  }
}

/** A command arbitrary and how often `fc.commands` draws it, relative to the others of its family. */
export type Weighted = [fc.Arbitrary<Step>, number];

const PREFIXES: Record<Kind, string> = {
  form: "form",
  form_session: "sess",
  workflow: "sess",
  thread: "thread",
  agent: "agent",
  agent_session: "session",
};
/** A well-formed id of `prefix` that no record has. */
export const absentId = (prefix: string) => `${prefix}_0000000000007000800000000000dead`;

/** The id a reference names, and the model's record when it is one of this run's. */
export function resolve<K extends Kind>(m: EngineModel, r: Real, kind: K, target: Ref): { id: string; entry?: Entry<K> } {
  switch (target.how) {
    case "own": {
      const entry = ownEntry(m, kind, target)!;
      return { id: entry.state.id, entry };
    }
    case "absent":
      return { id: absentId(PREFIXES[kind]) };
    case "malformed":
      return { id: MALFORMED_IDS[target.pick % MALFORMED_IDS.length]! };
    case "otherKind": {
      const others = KINDS.filter((other) => other !== kind).flatMap((other) => m.records[other] as Entry[]);
      return { id: others.length > 0 ? others[target.pick % others.length]!.state.id : absentId(PREFIXES[kind]) };
    }
    case "stranger":
      return { id: r.strangers[kind] };
  }
}

/** The record of this run `target` names, when it names one. */
export function ownEntry<K extends Kind>(m: EngineModel, kind: K, target: Ref): Entry<K> | undefined {
  const entries = m.records[kind] as Entry<K>[];
  return target.how === "own" && entries.length > 0 ? entries[target.pick % entries.length] : undefined;
}

/** How a command names its record in the failure report: `thread#3` (the fourth, modulo how many there are) or `absent thread#3`. */
export const named = (target: Ref, kind: Kind) => `${target.how === "own" ? "" : `${target.how} `}${kind}#${target.pick}`;

/** The record a create added, when the model says it did. */
export const created =
  (m: EngineModel, kind: Kind) =>
  (verdict: Verdict): Entry | undefined =>
    verdict.ok ? (m.records[kind].at(-1) as Entry | undefined) : undefined;

/** Metadata for a create: mostly valid. */
export const metadataIndex = choice(METADATA, (item) => (item.valid ? 6 : 1));
export const withMetadata = (index: number) => (METADATA[index]!.value === undefined ? {} : { metadata: METADATA[index]!.value });

/**
 * Runs one command on both sides: the model's verdict and the engine's answer must be the same
 * code, or both successes; then what the engine answered equals the model's record (or the part
 * `shown` picks), and the record it touched and its kind's lists read back as the model says.
 */
export async function both<T>(
  m: EngineModel,
  r: Real,
  command: {
    what: string;
    kind: Kind;
    model: () => Verdict;
    engine: () => Promise<T>;
    /** The record the command acted on, if any; given the model's verdict. */
    touched: (verdict: Verdict) => Entry | undefined;
    shown?: (value: T, entry: Entry) => [unknown, unknown];
  },
): Promise<void> {
  const verdict = command.model();
  const got = await answer(command.engine);
  expectVerdict(command.what, verdict, got);
  const entry = command.touched(verdict);
  if (got.ok && entry) {
    const [actual, expected] = command.shown ? command.shown(got.value, entry) : [project(r, got.value), entry.state];
    r.expect(actual, `${command.what}: the answer`).toEqual(expected);
  }
  await checkTouched(m, r, command.kind, entry);
}
