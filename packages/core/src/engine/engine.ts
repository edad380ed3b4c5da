import mitt, { type Emitter } from "mitt";
import type { Codec } from "../encryption.js";
import { createIdGenerator, isPrefixedId } from "../ids.js";
import { ID_PREFIXES, kindOf, type RecordKind } from "../kinds/index.js";
import { ACTION_TOPIC } from "../kinds/thread.js";
import { type BillablePolicy, defaultBillablePolicy } from "../machines/thread.js";
import type { SessionEvent } from "../schemas/event.js";
import { type IdempotencyStore, type Store, type StoredRecord, storeCapabilities, storeIdempotency } from "../store.js";
import type { ResolveHost } from "../webhooks/addresses.js";
import { type ActionExecutor, DEFAULT_ACTION_ATTEMPTS, DEFAULT_ACTION_RETRY_DELAYS, runAction } from "./actions.js";
import { type AgentOperations, type AgentSessionOperations, agentOperations, agentSessionOperations } from "./agents.js";
import { type AnyRecord, anyRecordOperations } from "./any-record.js";
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  DeliveryLog,
  deliver,
  type FetchFunction,
  SharedReads,
  senderOverFetch,
  type WebhookSender,
} from "./deliveries.js";
import { encryptStore } from "./encrypted-store.js";
import { type FormOperations, type FormSessionOperations, formOperations, formSessionOperations } from "./forms.js";
import { KeyedLimiter } from "./limiter.js";
import { NotificationRelay, type Notifier } from "./notifier.js";
import { type EngineEvents, Records } from "./records.js";
import { type PurgeReport, type PurgeRequest, Retention, type RetentionOptions } from "./retention.js";
import { Telemetry, type TelemetryOptions } from "./telemetry.js";
import { type ThreadOperations, threadOperations } from "./threads.js";
import { type EventWatch, Watchers, type WatchOptions, watchRecord } from "./watch.js";
import { DELIVERY_TOPIC, EndpointDirectory, type WebhookOperations, webhookOperations } from "./webhooks.js";
import { type TickOptions, type TickResult, Worker, type WorkerOptions } from "./worker.js";
import { type WorkflowOperations, workflowOperations } from "./workflows.js";

/** How webhooks are delivered. */
export interface WebhookOptions {
  /** Milliseconds before each retry of a failed delivery. Default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h. */
  readonly retrySchedule?: readonly number[];
  /** A receiver that has not answered within this many milliseconds has failed. Default: 10 000. */
  readonly timeoutMs?: number;
  /**
   * Allows targets on loopback, private, link-local and every other special-purpose address, and
   * local names (`localhost`, `.internal`). Default: false, so a tenant cannot make the server
   * call into its own network. Tests and local development turn it on.
   */
  readonly allowPrivateAddresses?: boolean;
  /** Resolves a host name, so a name that points at a special-purpose address is refused too, at creation and before each delivery (core cannot resolve names). */
  readonly resolveHost?: ResolveHost;
  /** How long an engine trusts its cached list of an organization's endpoints, in ms. Default: 1000. */
  readonly endpointCacheMs?: number;
  /** How many requests one engine has open to one endpoint at a time; the rest wait their turn. Default: 16. */
  readonly maxConcurrentPerEndpoint?: number;
}

export interface EngineOptions {
  /** Where records, timelines, deadlines and the outbox live. */
  readonly store: Store;
  /** The engine's only source of time, in milliseconds since the epoch. Default: `Date.now`. */
  readonly clock?: () => number;
  /** Makes prefixed ids. Default: time-ordered ids from Web Crypto, timed by `clock`. */
  readonly ids?: (prefix: string) => string;
  /**
   * How many times a write lost to another instance's is applied again before giving up with a
   * `version_conflict`; the first retry runs at once, the later ones after jittered pauses of up to
   * 50 ms. Default: 16.
   */
  readonly maxRetries?: number;
  /** Decides whether a closed thread counts toward billing. */
  readonly billable?: BillablePolicy;
  /** Names this instance in the leases it holds and in the delivery log (`instance`); unique per instance. Default: a random id. */
  readonly instanceId?: string;
  /** Told of an in-process listener that threw. Default: `console.error`. */
  readonly onListenerError?: (error: unknown, event: SessionEvent) => void;
  /** Sends webhooks. Default: the global `fetch`. */
  readonly fetch?: FetchFunction;
  /** Sends webhooks instead of `fetch`, keeping the time limit itself (see `WebhookSender`); `serve` passes `createWebhookSender()`. */
  readonly sendWebhook?: WebhookSender;
  readonly webhooks?: WebhookOptions;
  /**
   * Executors of confirmed actions, by tool name: `{ send_email: async (action, { idempotencyKey }) => result }`.
   * When given, proposing a tool without one is refused, and the worker runs each confirmed action.
   */
  readonly actions?: Readonly<Record<string, ActionExecutor>>;
  /** Attempts of an action's executor before the action fails. Default: 5. */
  readonly maxActionAttempts?: number;
  /** Milliseconds before each retry of a failed action; the last repeats. Default: 1 s, 10 s, 1 min, 5 min. */
  readonly actionRetryDelaysMs?: readonly number[];
  /** Wakes this engine's long-polls and event streams for writes made by other instances. */
  readonly notifier?: Notifier;
  /**
   * Without a notifier, how often long-polls and event streams read the store again, so writes
   * made by other instances reach them. Default: none (one instance needs no polling).
   */
  readonly pollIntervalMs?: number;
  /** Told of background work that failed (it is retried). Default: `console.error`. */
  readonly onWorkerError?: (error: unknown) => void;
  /**
   * Encrypts what the store keeps of records, events, outbox messages and idempotency responses
   * (see `encryptStore`), e.g. `createAesGcmCodec({ keys })`; values written without one stay
   * readable. Default: none, values are stored as they are.
   */
  readonly codec?: Codec;
  /**
   * Where spans and metrics go (see the README's Observability section). Default: the global
   * OpenTelemetry API, which records nothing until an SDK is registered.
   */
  readonly telemetry?: TelemetryOptions;
  /**
   * Removes terminal records once they have been terminal longer than `terminalAfter` (`"30d"`),
   * with their timelines, aliases, idempotency entries, delivery logs and waiting outbox
   * messages: the worker removes a bounded batch of each kind every round. Default: kept forever.
   */
  readonly retention?: RetentionOptions;
}

export type { TickResult };

function positiveDelays(name: string, delays: readonly number[]): readonly number[] {
  if (!Array.isArray(delays) || delays.some((delay) => !Number.isFinite(delay) || delay <= 0)) {
    throw new TypeError(`createEngine: ${name} must be a list of positive numbers of milliseconds`);
  }
  return [...delays];
}

function checkCodec(codec: Codec): Codec {
  if (typeof codec?.encode !== "function" || typeof codec.decode !== "function") {
    throw new TypeError("createEngine: codec must have encode and decode functions, e.g. createAesGcmCodec({ keys })");
  }
  return codec;
}

function positive(name: string, value: number, whole = false): number {
  if (!Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
    throw new TypeError(`createEngine: ${name} must be a positive ${whole ? "whole number" : "number"}`);
  }
  return value;
}

/**
 * What `createEngine` returns: every operation of every session kind for one store, in
 * camelCase. Each operation takes its input type and returns its resource type; it checks its
 * input too, so a JavaScript caller's mistake is an `InvalidInputError` naming the field.
 */
export interface Engine {
  /** In-process listeners: `engine.events.on("session.expired", (event) => …)`, or `"*"` for all. */
  readonly events: Emitter<EngineEvents>;
  /** The engine's clock. */
  readonly now: () => number;
  readonly forms: FormOperations;
  readonly formSessions: FormSessionOperations;
  readonly workflows: WorkflowOperations;
  readonly threads: ThreadOperations;
  readonly agents: AgentOperations;
  readonly agentSessions: AgentSessionOperations;
  /** Webhook endpoints of an organization and their delivery logs. */
  readonly webhooks: WebhookOperations;
  /** How often watches read the store again (no notifier, several instances), or `null`. */
  readonly pollIntervalMs: number | null;
  /** The store's `Idempotency-Key` records when it declares `capabilities.idempotency`, else `null` (the router then keeps its own). */
  readonly idempotency: IdempotencyStore | null;
  /** Records of any kind. */
  readonly records: {
    /** A record of the organization by its id, whatever its kind, as of now: `{ kind, record, seq }`; not found for an unknown id or another organization's. */
    get(orgId: string, id: string): Promise<AnyRecord>;
  };
  /**
   * A record's events after `afterSeq` as they are written, until `signal` aborts: woken by this
   * engine's writes, by other instances' through the notifier, else every `pollIntervalMs`, and
   * at the record's deadlines, which it persists so their events show. Nothing is read until it
   * is iterated; not found for an unknown id or another organization's record.
   */
  watch(orgId: string, id: string, options?: WatchOptions): EventWatch;
  /** A record's events in order, after `afterSeq` when given (any kind, one organization). */
  timeline(orgId: string, id: string, query?: { afterSeq?: number; limit?: number }): Promise<SessionEvent[]>;
  /**
   * Persists what time alone did to one record by now (an expiry, a timeout) and returns how
   * many events that wrote: for a caller that waits on a deadline instead of a sweep.
   */
  settle(orgId: string, id: string): Promise<number>;
  /**
   * One round of background work, for serverless use from a cron: persists every expiry and
   * timeout due by `now` exactly once (even when several instances tick one store: each due
   * record is leased to one ticker, and the write is a compare-and-set), then sends the
   * webhook deliveries and runs the confirmed actions that are available.
   */
  tick(now?: number, options?: TickOptions): Promise<TickResult>;
  /** Starts the background worker: a `tick` every `intervalMs`, and at once after a write that enqueued work. */
  start(options?: WorkerOptions): void;
  /** Stops the worker: no more claims; resolves once the work in flight is done. */
  stop(): Promise<void>;
  /** Stops the worker and stops listening to the notifier. */
  close(): Promise<void>;
  /**
   * Removes, now and batch after batch, every terminal record last written longer ago than
   * `olderThan` (default: `retention.terminalAfter`) with everything that belongs to it, and says
   * how many of each went; `dryRun` only counts.
   */
  purge(request?: PurgeRequest): Promise<PurgeReport>;
}

/**
 * Creates the engine: every operation of the four session kinds over one store. Each operation
 * loads a record, applies a pure machine at the clock's `now`, saves with compare-and-set (retried
 * on conflict) and then emits the written events in-process.
 */
export function createEngine(options: EngineOptions): Engine {
  storeCapabilities(options.store); // a store that declares a capability it lacks fails here, not mid-request
  const store = options.codec === undefined ? options.store : encryptStore(options.store, checkCodec(options.codec));
  const clock = options.clock ?? Date.now;
  const newId = options.ids ?? createIdGenerator(clock);
  const emitter: Emitter<EngineEvents> = mitt<EngineEvents>();
  const instanceId = options.instanceId ?? newId("worker");
  const report = options.onWorkerError ?? ((error: unknown) => console.error("agent-sessions: background work failed", error));
  const webhookSettings = options.webhooks ?? {};
  const policy = {
    allowPrivateAddresses: webhookSettings.allowPrivateAddresses ?? false,
    resolveHost: webhookSettings.resolveHost,
  };
  const directory = new EndpointDirectory(store, clock, webhookSettings.endpointCacheMs ?? 1000);
  const executors = options.actions ?? null;
  for (const [tool, executor] of Object.entries(executors ?? {})) {
    if (typeof executor !== "function") throw new TypeError(`createEngine: actions.${tool} must be a function (the tool's executor)`);
  }
  const notifier = options.notifier ?? null;
  let relay: NotificationRelay | null = null;
  let nudgeWorker = () => {};
  const telemetry = new Telemetry(options.telemetry);

  const written = (record: StoredRecord, outbox: boolean, events: readonly SessionEvent[]) => {
    telemetry.wrote(record, events);
    if (outbox) nudgeWorker();
    if (!notifier) return;
    relay?.wrote(record.id, record.eventCount);
    try {
      const published = notifier.publish(record.orgId, record.id, record.eventCount);
      if (published instanceof Promise) published.catch(report);
    } catch (error) {
      report(error);
    }
  };
  const records = new Records({
    store,
    clock,
    emitter,
    maxRetries: options.maxRetries ?? 16,
    onListenerError: options.onListenerError ?? ((error) => console.error("agent-sessions: an event listener threw", error)),
    eventOutbox: (record, events) => {
      // The trace context is read now, in the writing operation's context, and rides with the deliveries.
      const carrier = telemetry.carrier();
      const messages = directory.outboxFor(record, events);
      if (carrier === null) return messages;
      return messages instanceof Promise
        ? messages.then((loaded) => telemetry.stamp(loaded, DELIVERY_TOPIC, carrier, record.id))
        : telemetry.stamp(messages, DELIVERY_TOPIC, carrier, record.id);
    },
    written,
    conflicted: (kind) => telemetry.conflicted(kind),
  });
  const forms = formOperations(records, newId);
  const threads = threadOperations(records, newId, options.billable ?? defaultBillablePolicy, executors && new Set(Object.keys(executors)));
  const log = new DeliveryLog(store);
  const endpoints = new SharedReads(store);
  const deliverySettings = {
    ...policy,
    send: options.sendWebhook ?? senderOverFetch(options.fetch ?? ((input, init) => globalThis.fetch(input, init))),
    retrySchedule: positiveDelays("webhooks.retrySchedule", webhookSettings.retrySchedule ?? DEFAULT_WEBHOOK_RETRY_SCHEDULE),
    timeoutMs: positive("webhooks.timeoutMs", webhookSettings.timeoutMs ?? 10_000),
    clock,
  } satisfies Parameters<typeof deliver>[2]["settings"];
  const actionSettings = {
    executors: executors ?? {},
    maxAttempts: positive("maxActionAttempts", options.maxActionAttempts ?? DEFAULT_ACTION_ATTEMPTS, true),
    retryDelaysMs: positiveDelays("actionRetryDelaysMs", options.actionRetryDelaysMs ?? DEFAULT_ACTION_RETRY_DELAYS),
    clock,
  };
  const pollIntervalMs = options.pollIntervalMs === undefined ? null : positive("pollIntervalMs", options.pollIntervalMs);
  const watchContext = {
    store,
    clock,
    watchers: new Watchers(emitter),
    pollIntervalMs,
    settle(record: StoredRecord, now: number): Promise<number> {
      const machine = kindOf(record.kind).machine;
      return machine ? records.settle(record.orgId, record.kind, record.id, machine, now) : Promise.resolve(0);
    },
  };
  const watch = (orgId: string, id: string, watchOptions?: WatchOptions): EventWatch => watchRecord(watchContext, orgId, id, watchOptions);
  const anyRecord = anyRecordOperations(records);

  const retention = new Retention(options.store, clock, options.retention);
  const perEndpoint = new KeyedLimiter(positive("webhooks.maxConcurrentPerEndpoint", webhookSettings.maxConcurrentPerEndpoint ?? 16, true));
  const worker = new Worker({
    store,
    owner: instanceId,
    clock,
    report,
    round: () => telemetry.round(),
    ...(retention.terminalAfterMs === null ? {} : { purge: (now: number) => retention.round(now) }),
    async settle(claim, now) {
      const machine = kindOf(claim.kind as RecordKind).machine;
      return machine ? records.settle(claim.orgId, claim.kind as RecordKind, claim.id, machine, now, claim.record) : 0;
    },
    topics: {
      // A batch sends its deliveries together, but never more than a few requests at once to one
      // receiver; logging and settling an attempt take no slot, so a slow store never idles one.
      [DELIVERY_TOPIC]: (entry, now) =>
        deliver(entry, now, { records, settings: deliverySettings, log, owner: instanceId, endpoints, endpointSlots: perEndpoint, telemetry }),
      [ACTION_TOPIC]: (entry, now) => runAction(entry, now, { records, threads, settings: actionSettings, owner: instanceId }),
    },
  });

  nudgeWorker = () => worker.nudge();

  let unsubscribe: (() => void) | null = null;
  if (notifier) {
    relay = new NotificationRelay(store, (events) => records.emitRelayed(events), report);
    const listening = relay;
    unsubscribe = notifier.subscribe((orgId, recordId, seq) => {
      // An endpoint created or deleted elsewhere: this engine's cached list of them is stale.
      if (isPrefixedId(recordId, ID_PREFIXES.webhook)) directory.forget(orgId);
      void listening.receive(orgId, recordId, seq);
    });
  }

  return {
    /** In-process listeners: `engine.events.on("session.expired", (event) => …)`, or `"*"` for all. */
    events: emitter,
    /** The engine's clock. */
    now: clock,
    // Each namespace's operations in spans; the engine's own calls between them (a session reading its form) make none.
    forms: telemetry.instrument("forms", "form", forms),
    formSessions: telemetry.instrument("formSessions", "form_session", formSessionOperations(records, newId, forms)),
    workflows: telemetry.instrument("workflows", "workflow", workflowOperations(records, newId, watch)),
    threads: telemetry.instrument("threads", "thread", threads),
    agents: telemetry.instrument("agents", "agent", agentOperations(records, newId)),
    agentSessions: telemetry.instrument("agentSessions", "agent_session", agentSessionOperations(records, newId)),
    /** Webhook endpoints of an organization and their delivery logs. */
    webhooks: telemetry.instrument("webhooks", "webhook", webhookOperations(records, newId, policy, directory)),
    /** How often watches read the store again (no notifier, several instances), or `null`. */
    pollIntervalMs,
    idempotency: storeIdempotency(store),

    records: { get: anyRecord.get },
    watch,
    timeline: anyRecord.timeline,
    settle: anyRecord.settle,

    /**
     * One round of background work, for serverless use from a cron: persists every expiry and
     * timeout due by `now` exactly once (even when several instances tick one store: each due
     * record is leased to one ticker, and the write is a compare-and-set), then sends the
     * webhook deliveries and runs the confirmed actions that are available.
     */
    tick(now: number = clock(), tickOptions: TickOptions = {}): Promise<TickResult> {
      return worker.tick(now, tickOptions);
    },

    /** Starts the background worker: a `tick` every `intervalMs`, and at once after a write that enqueued work. */
    start(workerOptions: WorkerOptions = {}): void {
      worker.start(workerOptions);
    },

    /** Stops the worker: no more claims; resolves once the work in flight is done. */
    stop(): Promise<void> {
      return worker.stop();
    },

    /** Stops the worker and stops listening to the notifier. */
    async close(): Promise<void> {
      await worker.stop();
      unsubscribe?.();
      unsubscribe = null;
    },

    purge: (request?: PurgeRequest) => retention.purge(request),
  };
}
