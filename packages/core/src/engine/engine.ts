import mitt, { type Emitter } from "mitt";
import { createIdGenerator } from "../ids.js";
import type { Machine } from "../machine.js";
import { agentSessionMachine } from "../machines/agent-session.js";
import { formSessionMachine } from "../machines/form-session.js";
import { type BillablePolicy, defaultBillablePolicy, threadMachine } from "../machines/thread.js";
import { workflowMachine } from "../machines/workflow.js";
import type { RecordKind } from "../schemas/common.js";
import type { SessionEvent } from "../schemas/event.js";
import type { Store } from "../store.js";
import { agentOperations, agentSessionOperations } from "./agents.js";
import { formOperations, formSessionOperations } from "./forms.js";
import { type EngineEvents, notFound, Records } from "./records.js";
import { threadOperations } from "./threads.js";
import { workflowOperations } from "./workflows.js";

export interface EngineOptions {
  /** Where records, timelines, deadlines and the outbox live. */
  readonly store: Store;
  /** The engine's only source of time, in milliseconds since the epoch. Default: `Date.now`. */
  readonly clock?: () => number;
  /** Makes prefixed ids. Default: time-ordered ids from Web Crypto, timed by `clock`. */
  readonly ids?: (prefix: string) => string;
  /** How many times a write lost to a concurrent one is retried before giving up. Default: 8. */
  readonly maxRetries?: number;
  /** Decides whether a closed thread counts toward billing. */
  readonly billable?: BillablePolicy;
  /** Names this instance in due-deadline leases. Default: a random id. */
  readonly instanceId?: string;
  /** Told of an in-process listener that threw. Default: `console.error`. */
  readonly onListenerError?: (error: unknown, event: SessionEvent) => void;
}

/** What one `tick` did. */
export interface TickResult {
  /** Records whose deadline was claimed. */
  readonly claimed: number;
  /** Events written by expiries and timeouts. */
  readonly events: number;
}

const MACHINES: Partial<Record<RecordKind, Machine<unknown, unknown>>> = {
  form_session: formSessionMachine as Machine<unknown, unknown>,
  workflow: workflowMachine as Machine<unknown, unknown>,
  thread: threadMachine as Machine<unknown, unknown>,
  agent_session: agentSessionMachine as Machine<unknown, unknown>,
};

/**
 * Creates the engine: every operation of the four session kinds over one store. Each operation
 * loads a record, applies a pure machine at the clock's `now`, saves with compare-and-set (retried
 * on conflict) and then emits the written events in-process.
 */
export function createEngine(options: EngineOptions) {
  const clock = options.clock ?? Date.now;
  const newId = options.ids ?? createIdGenerator(clock);
  const emitter: Emitter<EngineEvents> = mitt<EngineEvents>();
  const instanceId = options.instanceId ?? newId("worker");
  const records = new Records({
    store: options.store,
    clock,
    emitter,
    maxRetries: options.maxRetries ?? 8,
    onListenerError: options.onListenerError ?? ((error) => console.error("agent-sessions: an event listener threw", error)),
  });
  const forms = formOperations(records, newId);

  return {
    store: options.store,
    /** In-process listeners: `engine.events.on("session.expired", (event) => …)`, or `"*"` for all. */
    events: emitter,
    /** The engine's clock. */
    now: clock,
    forms,
    formSessions: formSessionOperations(records, newId, forms),
    workflows: workflowOperations(records, newId),
    threads: threadOperations(records, newId, options.billable ?? defaultBillablePolicy),
    agents: agentOperations(records, newId),
    agentSessions: agentSessionOperations(records, newId),

    /** A record's events in order, after `afterSeq` when given (any kind, one organization). */
    async timeline(orgId: string, id: string, query: { afterSeq?: number; limit?: number } = {}): Promise<SessionEvent[]> {
      const record = await options.store.get(orgId, id);
      if (!record) throw notFound("workflow", id);
      return options.store.timeline(orgId, id, query);
    },

    /**
     * Persists what time alone did to one record by now (an expiry, a timeout) and returns how
     * many events that wrote: for a caller that waits on a deadline instead of a sweep.
     */
    async settle(orgId: string, id: string): Promise<number> {
      const record = await options.store.get(orgId, id);
      if (!record) throw notFound("workflow", id);
      const machine = MACHINES[record.kind];
      return machine ? records.settle(orgId, record.kind, id, machine, clock()) : 0;
    },

    /**
     * Persists every expiry and timeout due by `now` exactly once, even when several instances
     * tick one store: each due record is leased to one ticker, and the write is a compare-and-set.
     */
    async tick(now: number = clock(), tickOptions: { batch?: number; leaseMs?: number } = {}): Promise<TickResult> {
      const batch = tickOptions.batch ?? 100;
      let claimed = 0;
      let written = 0;
      for (;;) {
        const claims = await options.store.claimDue({ now, limit: batch, leaseMs: tickOptions.leaseMs ?? 30_000, owner: instanceId });
        claimed += claims.length;
        for (const claim of claims) {
          const machine = MACHINES[claim.kind];
          if (machine) written += await records.settle(claim.orgId, claim.kind, claim.id, machine, now);
        }
        if (claims.length < batch) return { claimed, events: written };
      }
    },
  };
}

/** The engine `createEngine` returns. */
export type Engine = ReturnType<typeof createEngine>;
