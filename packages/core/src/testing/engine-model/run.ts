import fc from "fast-check";
import { createEngine } from "../../engine/engine.js";
import type { Store } from "../../store.js";
import { orgId } from "../fixtures.js";
import { checkCapabilities, destroyStore, type Expect, probeCapabilities, type StoreSuiteOptions } from "../runner.js";
import { checkEverything, type Real } from "./checks.js";
import { FAMILIES } from "./commands.js";
import { ACTION_RETRY_MS, FLAKY_ERROR, MAX_ACTION_ATTEMPTS, SENT } from "./inputs.js";
import { EngineModel } from "./model.js";

/** How an adapter's engine model file hands the test its store and its test runner. */
export interface EngineModelOptions extends StoreSuiteOptions {
  /** An empty store in its own namespace, made once for all runs (each run is an organization of its own). */
  readonly create: () => Store | Promise<Store>;
  /** How many random command sequences run. */
  readonly runs: number;
  /** The most commands one sequence holds. Default: 100. */
  readonly maxCommands?: number;
  /** The test's time limit in milliseconds. Default: 120 000. */
  readonly timeoutMs?: number;
}

/** Where the first run's clock starts; each run starts a month after the one before. */
const FIRST_RUN = Date.UTC(2030, 0, 1);
const RUN_SPACING = 30 * 24 * 3600 * 1000;

/**
 * The engine model test: random sequences of commands of every session kind (creates, submits,
 * extends, messages, context updates, action decisions, clock moves, ticks, reads and lists) run
 * on an engine over the adapter's store and on a small reference model of the SPEC; after every
 * command the engine's answer, the records it touched, their timelines and lists equal the
 * model's. A failure prints fast-check's seed, path and the shrunk command sequence; set
 * `ENGINE_MODEL_SEED`, `ENGINE_MODEL_PATH` and `ENGINE_MODEL_REPLAY` (the counterexample's
 * `replayPath`) to run exactly that sequence again, or `ENGINE_MODEL_RUNS` to run more sequences.
 * The hosted page's commands need `capabilities.unscopedReads`: without it the test is skipped.
 * The suite reads the flags from a first store, so await it.
 */
export async function runEngineModel(options: EngineModelOptions): Promise<void> {
  const { describe, it, beforeAll, afterAll, expect } = options.test;
  const capabilities = await probeCapabilities(options);
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  const runs = Number(env.ENGINE_MODEL_RUNS ?? options.runs);
  // A longer run asked for by hand gets the time it needs.
  const timeoutMs = env.ENGINE_MODEL_RUNS ? 24 * 3600 * 1000 : (options.timeoutMs ?? 120_000);
  describe(`Engine model: ${options.name}`, () => {
    if (!capabilities.unscopedReads) {
      it.skip("skipped: the model's hosted-page commands need capabilities.unscopedReads", () => {});
      return;
    }
    let store: Store;
    let strangers: Real["strangers"];

    beforeAll(async () => {
      store = await options.create();
      checkCapabilities(store, capabilities);
      strangers = await createStrangers(store);
    });
    afterAll(async () => {
      await destroyStore(options, store);
    });

    it(
      `answers as the reference model in ${runs} random command sequences`,
      async () => {
        const replay = env.ENGINE_MODEL_SEED ? { seed: Number(env.ENGINE_MODEL_SEED), path: env.ENGINE_MODEL_PATH, endOnFailure: true } : {};
        let run = 0;
        const constraints = {
          maxCommands: options.maxCommands ?? 100,
          size: "max" as const,
          ...(env.ENGINE_MODEL_REPLAY ? { replayPath: env.ENGINE_MODEL_REPLAY } : {}),
        };
        // One family of commands a run, or all of them mixed: runs of one family go deeper.
        const sequences = fc.oneof(...Object.values(FAMILIES).map((family) => fc.commands(family, constraints)));
        await fc.assert(
          fc.asyncProperty(sequences, async (commands) => {
            let pair: { model: EngineModel; real: Real } | undefined;
            const start = FIRST_RUN + ++run * RUN_SPACING;
            await fc.asyncModelRun(() => (pair = newRun(store, strangers, start, expect)), commands);
            if (pair) await checkEverything(pair.model, pair.real);
          }),
          {
            numRuns: runs,
            // Sequences of every length up to the maximum, not mostly short ones.
            unbiased: true,
            // Stopped short of the test's time limit, so a failure still prints its seed and sequence, shrunk so far.
            interruptAfterTimeLimit: Math.max(1000, timeoutMs - 15_000),
            markInterruptAsFailure: true,
            ...replay,
          },
        );
      },
      timeoutMs,
    );
  });
}

/** A run: an engine with its own clock in a fresh organization of the shared store, and an empty model. */
function newRun(store: Store, strangers: Real["strangers"], start: number, expect: Expect): { model: EngineModel; real: Real } {
  const clock = { now: start };
  const problems: unknown[] = [];
  const engine = createEngine({
    store,
    clock: () => clock.now,
    actions: {
      send_email: () => SENT,
      flaky: () => {
        throw new Error(FLAKY_ERROR);
      },
    },
    maxActionAttempts: MAX_ACTION_ATTEMPTS,
    actionRetryDelaysMs: [ACTION_RETRY_MS],
    // No webhook endpoint exists, so nothing may be sent: a request is recorded as a failure.
    fetch: async (input) => {
      problems.push(new Error(`the engine sent a request to ${String(input)}`));
      return new Response(null, { status: 204 });
    },
    onWorkerError: (error) => problems.push(error),
    onListenerError: (error) => problems.push(error),
  });
  const org = orgId();
  const emitted = new Map<string, string[]>();
  engine.events.on("*", (type, event) => {
    if (event.orgId !== org) return; // a tick settles what earlier runs left due
    emitted.set(event.recordId, [...(emitted.get(event.recordId) ?? []), type as string]);
  });
  return { model: new EngineModel(start, org), real: { engine, org, clock, strangers, problems, emitted, expect } };
}

/** One record of each kind in an organization no run uses: every run must answer "not found" for them. */
async function createStrangers(store: Store): Promise<Real["strangers"]> {
  const engine = createEngine({ store, clock: () => FIRST_RUN });
  const org = orgId();
  const form = await engine.forms.create(org, { name: "Theirs", slug: "intake", fields: [{ name: "email", type: "email" }] });
  const session = await engine.formSessions.create(org, form.id, {});
  const workflow = await engine.workflows.create(org, { name: "theirs" });
  const inbox = await engine.workflows.createInbox(org, workflow.id, { ttlSeconds: 60 });
  const wait = await engine.workflows.createWait(org, workflow.id, { type: "otp", inboxId: inbox.id, timeoutSeconds: 60 });
  const thread = await engine.threads.create(org, {});
  const action = await engine.threads.proposeAction(org, thread.id, { tool: "send_email", preview: {} });
  const agent = await engine.agents.create(org, { name: "Theirs" });
  const agentSession = await engine.agentSessions.create(org, { agentId: agent.id });
  return {
    form: form.id,
    form_session: session.id,
    workflow: workflow.id,
    inbox: inbox.id,
    wait: wait.id,
    thread: thread.id,
    action: action.id,
    agent: agent.id,
    agent_session: agentSession.id,
  };
}
