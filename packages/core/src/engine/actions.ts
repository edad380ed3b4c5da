import { isAgentSessionsError } from "../errors.js";
import type { PendingAction, Thread } from "../kinds/thread.js";
import { threadMachine } from "../machines/thread.js";
import { LIMITS } from "../schemas/common.js";
import type { OutboxEntry } from "../store.js";
import { jsonBytes } from "../validate.js";
import type { Records } from "./records.js";
import type { ActionOutcome, ThreadOperations } from "./threads.js";

/** What an executor is told beside the action itself. */
export interface ActionContext {
  /** The action id: the same on every attempt, so the tool can refuse to act twice. */
  readonly idempotencyKey: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly orgId: string;
  readonly threadId: string;
  readonly callbackId: string;
}

/**
 * Runs a confirmed action's tool and returns its result (any JSON value). Throwing records a
 * failed attempt, retried until the maximum number of attempts. It may run more than once for
 * one action (at least once: after a crash mid-run, its lease passes to another worker).
 */
export type ActionExecutor = (action: PendingAction, context: ActionContext) => unknown | Promise<unknown>;

/** How confirmed actions are executed, from `createEngine`'s options. */
export interface ActionSettings {
  readonly executors: Readonly<Record<string, ActionExecutor>>;
  readonly maxAttempts: number;
  /** Delays before each retry; the last one repeats. */
  readonly retryDelaysMs: readonly number[];
  readonly clock: () => number;
}

/** Delays before the retries of a failed action: 1 s, 10 s, 1 min, then 5 min. */
export const DEFAULT_ACTION_RETRY_DELAYS: readonly number[] = [1_000, 10_000, 60_000, 300_000];

/** Default attempts of an action's executor before the action fails. */
export const DEFAULT_ACTION_ATTEMPTS = 5;

/** The result as JSON, or why it cannot be kept. */
function keepable(result: unknown): { result: unknown } | { error: string } {
  let json: unknown;
  try {
    const text = JSON.stringify(result ?? null);
    json = text === undefined ? null : JSON.parse(text);
  } catch (error) {
    return { error: `the executor's result is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const bytes = jsonBytes(json);
  if (bytes > LIMITS.metadataBytes) return { error: `the executor's result is ${bytes} bytes of JSON; at most ${LIMITS.metadataBytes} are kept` };
  return { result: json };
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}

/**
 * Runs one claimed action: its executor with the action id as idempotency key, then records the
 * outcome through the pending-action machine (`action.succeeded`, `action.attempt_failed` with a
 * retry scheduled, or `action.failed` after `maxAttempts`). An action no longer `processing`
 * (already recorded by another worker) is dropped. A crash before the outcome is recorded leaves
 * the message leased; it runs again once the lease runs out.
 */
export async function runAction(
  entry: OutboxEntry,
  now: number,
  context: { records: Records; threads: ThreadOperations; settings: ActionSettings; owner: string },
): Promise<void> {
  const { records, threads, settings } = context;
  const threadId = String(entry.payload.thread_id);
  const actionId = String(entry.payload.action_id);
  const settle = (retryAt?: number, error?: string) =>
    records.store.settleOutbox(entry.id, context.owner, retryAt === undefined ? {} : { retryAt, ...(error ? { error } : {}) });

  /** Records the run's outcome; false (and the message settled) when another worker recorded the action's end first. */
  const recordOutcome = async (outcome: ActionOutcome): Promise<boolean> => {
    try {
      await threads.recordActionOutcome(entry.orgId, threadId, actionId, outcome);
    } catch (error) {
      // Another worker recorded this action's end first (its lease ran out under us): ours is moot.
      if (isAgentSessionsError(error) && (error.code === "illegal_transition" || error.code === "not_found")) {
        await settle();
        return false;
      }
      throw error;
    }
    return true;
  };

  const thread = await records.view<Thread>(entry.orgId, "thread", threadId, threadMachine).catch((error: unknown) => {
    if (isAgentSessionsError(error) && error.code === "not_found") return null;
    throw error;
  });
  const action = thread?.actions.find((candidate) => candidate.id === actionId);
  if (action?.status !== "processing") {
    await settle();
    return;
  }

  // Every run is noted before it starts, so runs a crash cut short count toward the limit too:
  // an executor that takes its worker down every time still ends in `failed`.
  const runs = action.runs ?? 0;
  const unfinished = runs - action.attempts;
  if (runs >= settings.maxAttempts) {
    const error = `gave up after ${runs} runs of the executor, ${unfinished} of them cut short (its worker stopped or lost its lease mid-run)`;
    if (await recordOutcome({ error, final: true })) await settle();
    return;
  }
  try {
    await threads.startActionRun(entry.orgId, threadId, actionId);
  } catch (error) {
    if (isAgentSessionsError(error) && (error.code === "illegal_transition" || error.code === "not_found")) {
      await settle(); // another worker recorded its end meanwhile
      return;
    }
    throw error;
  }

  const attempt = action.attempts + 1;
  const executor = Object.hasOwn(settings.executors, action.tool) ? settings.executors[action.tool] : undefined;
  let outcome: ActionOutcome;
  if (!executor) {
    outcome = { error: `no executor is registered for tool "${action.tool}"`, final: true };
  } else {
    try {
      const kept = keepable(
        await executor(action, {
          idempotencyKey: action.id,
          attempt,
          orgId: entry.orgId,
          threadId,
          callbackId: action.callbackId!,
        }),
      );
      outcome = "result" in kept ? kept : { error: kept.error, final: attempt >= settings.maxAttempts };
    } catch (error) {
      outcome = { error: messageOf(error), final: attempt >= settings.maxAttempts };
    }
  }

  if (!(await recordOutcome(outcome))) return;
  if ("error" in outcome && !outcome.final) {
    const delays = settings.retryDelaysMs;
    const delay = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
    await settle(Math.max(now, settings.clock()) + delay, outcome.error);
  } else {
    await settle();
  }
}
