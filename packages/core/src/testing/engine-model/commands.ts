import fc from "fast-check";
import { answer, checkList, checkRecord, checkTouched, expectVerdict, list, read } from "./checks.js";
import { FORM_COMMANDS } from "./form-commands.js";
import { ref, show } from "./inputs.js";
import { type Entry, KINDS, type Kind, SECOND, STATUSES, type Verdict } from "./model.js";
import { named, resolve, Step, type Weighted } from "./step.js";
import { AGENT_COMMANDS, THREAD_COMMANDS } from "./thread-commands.js";
import { WORKFLOW_COMMANDS } from "./workflow-commands.js";

// Commands of every family: the clock, ticks, settles, reads and lists; and the families.

/**
 * The clock moves: often a little, often by whole seconds or minutes (deadlines and the billing
 * grace are whole seconds, so those land on them), now and then past every deadline.
 */
const moveClock = fc
  .oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 * SECOND }) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 90 }).map((seconds) => seconds * SECOND) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 15 }).map((minutes) => minutes * 60 * SECOND) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 20 * 60 * SECOND }) },
    { weight: 1, arbitrary: fc.integer({ min: 60, max: 180 }).map((minutes) => minutes * 60 * SECOND) },
  )
  .map(
    (ms) =>
      new Step(`clock += ${ms} ms`, [], async (m, r) => {
        m.advance(ms);
        r.clock.now += ms;
      }),
  );

/** The clock moves to a millisecond before, onto or after one of the deadlines ahead, where off-by-one errors live. */
const toDeadline = fc.record({ pick: fc.nat({ max: 1000 }), offset: fc.constantFrom(-1, 0, 0, 1) }).map((p) => {
  const label = `clock → deadline#${p.pick}${p.offset === 0 ? "" : ` ${p.offset > 0 ? "+" : "-"} 1 ms`}`;
  return new Step(
    label,
    (m) => m.deadlines().length > 0,
    async (m, r) => {
      const deadlines = m.deadlines();
      const ms = Math.max(0, deadlines[p.pick % deadlines.length]! + p.offset - m.now);
      m.advance(ms);
      r.clock.now += ms;
    },
  );
});

/** A round of background work; then every record that time or an executor changes reads as the model says. */
const tick = fc.constant(
  new Step("tick()", [], async (m, r) => {
    m.tick();
    await r.engine.tick();
    r.expect(r.problems, "errors the engine reported in the background").toEqual([]);
    for (const kind of ["form_session", "workflow", "thread"] as const) {
      for (const entry of m.records[kind]) await checkRecord(m, r, kind, entry as Entry);
    }
  }),
);

/** Writing what time did to one record (of any kind, so a record of another kind of this run is found too). */
const settle = fc.record({ kind: fc.constantFrom(...KINDS), target: ref }).map(
  (p) =>
    new Step(`settle(${named(p.target, p.kind)})`, [p.kind], async (m, r) => {
      const { id } = resolve(m, r, p.kind, p.target);
      const kind = KINDS.find((k) => m.records[k].some((e) => e.state.id === id)) ?? p.kind;
      const entry = (m.records[kind] as Entry[]).find((e) => e.state.id === id);
      const verdict: Verdict = entry ? { ok: true } : { ok: false, code: "not_found" };
      const count = entry ? m.flush(entry) : 0;
      const got = await answer(() => r.engine.settle(r.org, id));
      expectVerdict("settle", verdict, got);
      if (got.ok) r.expect(got.value, "settle: events written").toBe(count);
      await checkTouched(m, r, kind, entry);
    }),
);

/** One record read every way, or "not found" for an id that names none of this kind. */
const readOne = fc.record({ kind: fc.constantFrom(...KINDS), target: ref }).map(
  (p) =>
    new Step(`read(${named(p.target, p.kind)})`, [p.kind], async (m, r) => {
      const { id, entry } = resolve(m, r, p.kind, p.target);
      if (entry) return checkRecord(m, r, p.kind, entry as Entry, true);
      expectVerdict(`get ${p.kind} ${id}`, { ok: false, code: "not_found" }, await answer(() => read[p.kind](r, id)));
    }),
);

/** A page of a list of one of `kinds`, by offset or walked by cursor, with or without a status. */
const listPage = (kinds: Kind[]) =>
  fc
    .record({
      kind: fc.constantFrom(...kinds),
      status: fc.nat(),
      filtered: fc.nat({ max: 2 }),
      limit: fc.integer({ min: 1, max: 4 }),
      offset: fc.oneof({ weight: 12, arbitrary: fc.nat({ max: 6 }) }, { weight: 1, arbitrary: fc.constantFrom(1_000_000, Number.MAX_SAFE_INTEGER) }),
      walk: fc.boolean(),
    })
    .map((p) => {
      const statuses = STATUSES[p.kind];
      const status = p.filtered > 0 ? { status: statuses[p.status % statuses.length]! } : {};
      const query = { ...status, limit: p.limit, ...(p.walk ? { walk: true } : { offset: p.offset }) };
      return new Step(`list(${p.kind}, ${show(query)})`, [], (m, r) => checkList(m, r, p.kind, query));
    });

/** Queries every list refuses: limits and offsets out of range or not whole, a status no kind has, unknown fields, a cursor no page gave. */
const BAD_QUERIES: object[] = [
  { limit: 0 },
  { limit: 101 },
  { limit: 2.5 },
  { offset: -1 },
  { offset: 1.5 },
  { offset: 2 ** 53 },
  { offset: 1e30 },
  { status: "no-such-status" },
  { status: "x".repeat(33) },
  { cursor: "no such cursor!" },
  { cursor: "nope" },
  { colour: "red" },
];
const badList = fc.record({ kind: fc.constantFrom(...KINDS), query: fc.constantFrom(...BAD_QUERIES) }).map(
  (p) =>
    new Step(`list(${p.kind}, ${show(p.query)})`, [], async (_m, r) => {
      const got = await answer(() => list[p.kind](r, p.query));
      expectVerdict(`list of ${p.kind} by ${show(p.query)}`, { ok: false, code: "invalid_input" }, got);
    }),
);

const COMMON: Weighted[] = [
  [moveClock, 3],
  [toDeadline, 2],
  [tick, 2],
  [settle, 1],
  [readOne, 1],
  [badList, 1],
];

/** `[arbitrary, weight]` pairs as the list `fc.commands` draws from uniformly. */
const weighted = (pairs: Weighted[]) => pairs.flatMap(([arbitrary, weight]) => Array.from({ length: weight }, () => arbitrary));
const twice = (pairs: Weighted[]): Weighted[] => pairs.map(([arbitrary, weight]) => [arbitrary, weight * 2]);

/**
 * The engine model test's commands by family, each weighted toward the commands that move records
 * on, so that a run reaches deep states (a submitted session, a failed action); `all` mixes every
 * family in one organization.
 */
export const FAMILIES: Record<string, fc.Arbitrary<Step>[]> = {
  forms: weighted([...FORM_COMMANDS, [listPage(["form", "form_session"]), 2], ...COMMON]),
  workflows: weighted([...WORKFLOW_COMMANDS, [listPage(["workflow"]), 1], ...COMMON]),
  threads: weighted([...THREAD_COMMANDS, [listPage(["thread"]), 1], ...COMMON]),
  agents: weighted([...AGENT_COMMANDS, [listPage(["agent", "agent_session"]), 1], ...COMMON]),
  all: weighted([...FORM_COMMANDS, ...WORKFLOW_COMMANDS, ...THREAD_COMMANDS, ...AGENT_COMMANDS, [listPage(KINDS), 2], ...twice(COMMON)]),
};
