// Runs the fuzz on one store: fast-check generates runs of steps from the OpenAPI document, and
// each run plays them in a fresh world (two new organizations) on the shared store. On a failure
// fast-check shrinks the run and prints its seed and counterexample with the run's own report:
// the request, the answer, what the server reported and the trace. FUZZ_SEED (and FUZZ_PATH)
// replay a run, FUZZ_SCALE multiplies the number of requests, FUZZ_SURVEY=1 lists every failure.
import { createEngine, type Store } from "@agent-sessions/core";
import { MemoryStore } from "@agent-sessions/memory";
import { createRouter } from "@agent-sessions/router";
import fc from "fast-check";
import { operationsOf, servedDocument } from "./document.js";
import type { Known } from "./known.js";
import { preludeSteps } from "./prelude.js";
import { ResponseSchemas } from "./responses.js";
import { FuzzRun, type RunContext } from "./run.js";
import { type Step, stepArbitrary } from "./steps.js";
import { Survey } from "./survey.js";

/** What to fuzz and how much. */
export interface FuzzOptions {
  readonly name: string;
  readonly store: Store;
  /** At least this many requests reach the router. */
  readonly requests: number;
  /** Hostile classes and rules left out until their fix lands (see `known.ts`). */
  readonly known: Known;
}

/** What a fuzz saw, for the closing note of the issue. */
export type FuzzStats = Omit<RunContext["stats"], "states"> & { states: string[]; ms: number };

const STEPS_PER_RUN = 150;

/** Runs the fuzz on a store and returns what it saw; throws fast-check's report on a failure. */
export async function runRouterFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const document = await servedDocument(
    createRouter({ engine: createEngine({ store: new MemoryStore() }), apiKeys: [{ orgId: "org_doc", key: "doc" }] }),
  );
  const operations = operationsOf(document);
  const context: RunContext = {
    name: options.name,
    store: options.store,
    clock: { now: Date.UTC(2026, 0, 1) },
    operations,
    schemas: new ResponseSchemas(document),
    prelude: preludeSteps(operations),
    survey: process.env.FUZZ_SURVEY ? new Survey() : null,
    tolerated: process.env.FUZZ_SURVEY ? new Set() : options.known.tolerated,
    stats: { runs: 0, requests: 0, statuses: {}, fiveHundreds: 0, snapshots: 0, tolerated: {}, checks: {}, states: new Set() },
  };
  const started = Date.now();
  const target = options.requests * Number(process.env.FUZZ_SCALE ?? 1);
  // A run is the prelude and, on average, well over a quarter of the longest run.
  const numRuns = Math.ceil(target / (STEPS_PER_RUN / 4 + context.prelude.length));
  const replay = process.env.FUZZ_SEED
    ? { seed: Number(process.env.FUZZ_SEED), ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}) }
    : {};
  const steps = fc.array(stepArbitrary(document, operations, options.known.skips), { minLength: 1, maxLength: STEPS_PER_RUN, size: "max" });
  const property = fc.asyncProperty(steps, async (run: Step[]) => {
    context.stats.runs++;
    await new FuzzRun(context).play(run);
  });
  await fc.assert(property, { numRuns, includeErrorInReport: true, ...replay });
  // Runs vary in length: a round that fell short of the target is topped up with more runs (each
  // round has a seed of its own, printed on failure like the first).
  for (let round = 0; round < 5 && !process.env.FUZZ_SEED && context.stats.requests < target; round++) {
    const short = target - context.stats.requests;
    await fc.assert(property, { numRuns: Math.ceil(short / (STEPS_PER_RUN / 4 + context.prelude.length)), includeErrorInReport: true });
  }
  if (context.survey) console.info(context.survey.report(options.name));
  if (context.stats.requests < target && !process.env.FUZZ_SEED) {
    throw new Error(`the fuzz sent ${context.stats.requests} requests on ${options.name}, fewer than ${target}: the runs are too short`);
  }
  return { ...context.stats, states: [...context.stats.states].sort(), ms: Date.now() - started };
}
