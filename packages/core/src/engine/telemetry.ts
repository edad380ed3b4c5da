import {
  type Attributes,
  type Context,
  type Counter,
  context,
  createNoopMeter,
  createTraceState,
  type Histogram,
  isSpanContextValid,
  type MeterProvider,
  metrics,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { isAgentSessionsError } from "../errors.js";
import { isPrefixedId, isRecordId } from "../ids.js";
import { KINDS, type RecordKind } from "../kinds/index.js";
import type { SessionEvent } from "../schemas/event.js";
import type { OutboxMessage, StoredRecord } from "../store.js";

/**
 * Where the engine sends its spans and metrics. Without these, the engine uses the global
 * OpenTelemetry API (`trace`, `metrics` of `@opentelemetry/api`), which does nothing until an SDK
 * registers a provider.
 */
export interface TelemetryOptions {
  /** Makes the engine's tracer. Default: the globally registered one, or none. */
  readonly tracerProvider?: TracerProvider;
  /** Makes the engine's meter. Default: the globally registered one, or none. */
  readonly meterProvider?: MeterProvider;
}

/** The instrumentation scope of the engine's spans and metrics. */
export const INSTRUMENTATION_SCOPE = "@agent-sessions/core";

/** The attribute names the engine sets on its spans and metrics, written once here. */
export const TELEMETRY_ATTRIBUTES = {
  /** The id of the record (session, form, thread, endpoint) an operation acted on. */
  sessionId: "agent_sessions.session.id",
  /** The record kind: `form_session`, `workflow`, `thread`, … */
  kind: "agent_sessions.kind",
  /** The organization the record belongs to. */
  org: "agent_sessions.org",
  /** The stable code of an `AgentSessionsError` an operation ended with (`not_found`, `invalid_input`, …). */
  errorCode: "agent_sessions.error.code",
  /** The type of an event: `session.submitted`, … */
  eventType: "agent_sessions.event.type",
  /** The webhook endpoint a delivery went to. */
  webhookId: "agent_sessions.webhook.id",
  /** The delivery (one event to one endpoint), the same across its attempts. */
  deliveryId: "agent_sessions.delivery.id",
  /** The attempt number of a delivery, from 1. */
  attempt: "agent_sessions.delivery.attempt",
  /** How a delivery attempt ended: `succeeded`, `retrying` or `failed`. */
  outcome: "agent_sessions.delivery.outcome",
  /** What a worker round claimed: `deadline`, `delivery` or `action`. */
  work: "agent_sessions.work",
  /** A worker round's due deadlines claimed, events written, deliveries sent and actions run. */
  roundDeadlines: "agent_sessions.worker.deadlines",
  roundEvents: "agent_sessions.worker.events",
  roundDeliveries: "agent_sessions.worker.deliveries",
  roundActions: "agent_sessions.worker.actions",
} as const;

const A = TELEMETRY_ATTRIBUTES;

/** Error codes that mean the caller asked for something it may not have: the span is no server error. */
const CALLER_ERRORS: ReadonlySet<string> = new Set([
  "not_found",
  "invalid_input",
  "illegal_transition",
  "conflict",
  "expired",
  "unauthorized",
  "payload_too_large",
]);

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The W3C trace context of a span, as the `traceparent` and `tracestate` headers carry it. */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** What a delivery message written under a span carries beside its delivery: the trace to continue and the record. */
export interface TracedDelivery extends TraceCarrier {
  readonly record_id: string;
}

/** What one worker round did, as the worker tells it. */
export interface RoundCounts {
  readonly claimed: number;
  readonly deliveries: number;
  readonly actions: number;
  readonly events: number;
}

/** Milliseconds from a monotonic clock where the runtime has one (the SDK reads such a number as a performance timestamp). */
const elapsedNow = (): number => globalThis.performance?.now() ?? Date.now();

/**
 * The engine's OpenTelemetry instruments: a span per operation, worker round and delivery
 * attempt, and counters and histograms of what the engine writes and sends. With no SDK
 * registered the tracer answers non-recording spans, which the wrappers notice and step aside
 * for, and the meter is the API's no-op one, which the engine notices once and skips: the hot
 * paths allocate no attributes.
 */
export class Telemetry {
  private readonly tracer: Tracer;
  private readonly transitions: Counter | null;
  private readonly conflicts: Counter | null;
  private readonly deliveries: Counter | null;
  private readonly deliveryDuration: Histogram | null;
  private readonly claimed: Histogram | null;

  constructor(options: TelemetryOptions = {}) {
    this.tracer = (options.tracerProvider ?? trace).getTracer(INSTRUMENTATION_SCOPE);
    const meter = (options.meterProvider ?? metrics).getMeter(INSTRUMENTATION_SCOPE);
    // The metrics API has no proxy: a meter taken before an SDK registers stays a no-op, so one check suffices.
    const live = meter !== createNoopMeter();
    this.transitions = live
      ? meter.createCounter("agent_sessions.transitions", { description: "Events written: each one a state transition of a record." })
      : null;
    this.conflicts = live
      ? meter.createCounter("agent_sessions.conflicts_retried", {
          description: "Writes applied again after losing a compare-and-set to another write.",
        })
      : null;
    this.deliveries = live ? meter.createCounter("agent_sessions.deliveries", { description: "Webhook delivery attempts, by outcome." }) : null;
    this.deliveryDuration = live
      ? meter.createHistogram("agent_sessions.delivery.duration", { description: "How long a webhook delivery attempt took.", unit: "ms" })
      : null;
    this.claimed = live
      ? meter.createHistogram("agent_sessions.worker.claimed", {
          description: "Due deadlines and outbox messages one worker round claimed: the due backlog it worked off.",
        })
      : null;
  }

  /**
   * Wraps every function of an operation namespace in a span named
   * `agent_sessions.<namespace>.<operation>`, with the record's kind, id and organization.
   */
  instrument<T extends object>(namespace: string, kind: RecordKind, operations: T): T {
    const wrapped: Record<string, unknown> = {};
    for (const [name, operation] of Object.entries(operations)) {
      wrapped[name] = typeof operation === "function" ? this.operation(`agent_sessions.${namespace}.${name}`, kind, operation) : operation;
    }
    return wrapped as T;
  }

  private operation(name: string, kind: RecordKind, operation: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const { tracer } = this;
    const prefix = KINDS[kind].prefix;
    return (...args: unknown[]) => {
      const span = tracer.startSpan(name);
      if (!span.isRecording()) {
        span.end();
        return operation(...args);
      }
      span.setAttribute(A.kind, kind);
      // Operations take `(orgId, …)`, or a record id first for the hosted ones.
      if (typeof args[0] === "string" && !isRecordId(args[0])) span.setAttribute(A.org, args[0]);
      const id = args.find((arg): arg is string => typeof arg === "string" && isPrefixedId(arg, prefix));
      if (id !== undefined) span.setAttribute(A.sessionId, id);
      let result: unknown;
      try {
        result = context.with(trace.setSpan(context.active(), span), () => operation(...args));
      } catch (error) {
        ended(span, error);
        throw error;
      }
      if (!(result instanceof Promise)) {
        described(span, result, prefix);
        span.end();
        return result;
      }
      return result.then(
        (value: unknown) => {
          described(span, value, prefix);
          span.end();
          return value;
        },
        (error: unknown) => {
          ended(span, error);
          throw error;
        },
      );
    };
  }

  /**
   * The W3C trace context of the span active now, when it is a real one: what outbox messages
   * written now carry, so the deliveries they become continue the trace of the request that
   * wrote them.
   */
  carrier(): TraceCarrier | null {
    const span = trace.getSpan(context.active());
    return span === undefined ? null : carrierOf(span);
  }

  /**
   * The messages of `topic` with `carrier` and the id of the record whose events they deliver
   * (`record_id`, for the delivery span) added to their payloads; the others as they are.
   */
  stamp(messages: readonly OutboxMessage[], topic: string, carrier: TraceCarrier, recordId: string): readonly OutboxMessage[] {
    if (messages.length === 0) return messages;
    return messages.map((message) =>
      message.topic === topic ? { ...message, payload: { ...message.payload, ...carrier, record_id: recordId } } : message,
    );
  }

  /**
   * Starts the span of one webhook delivery attempt (an HTTP client span), a child of the trace
   * context its message carries, or `null` when nothing records it; its attributes are built only
   * when it records. `headers` gain the span's
   * `traceparent` (and `tracestate`) so the receiver continues the trace.
   */
  deliverySpan(carried: Partial<TraceCarrier>, attributes: () => Attributes, headers: Record<string, string>): Span | null {
    const span = this.tracer.startSpan("agent_sessions.webhooks.deliver", { kind: SpanKind.CLIENT }, parentOf(carried));
    if (!span.isRecording()) {
      span.end();
      return null;
    }
    span.setAttributes(attributes());
    const own = carrierOf(span);
    if (own !== null) Object.assign(headers, own);
    return span;
  }

  /** Ends a delivery span with how the attempt went, and counts the attempt and its duration. */
  delivered(span: Span | null, outcome: string, statusCode: number | null, error: string | null, durationMs: number): void {
    if (span !== null) {
      span.setAttribute(A.outcome, outcome);
      if (statusCode !== null) span.setAttribute("http.response.status_code", statusCode);
      if (error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    }
    if (this.deliveries === null) return;
    const attributes = { [A.outcome]: outcome };
    this.deliveries.add(1, attributes);
    this.deliveryDuration!.record(durationMs, attributes);
  }

  /** Counts the events a write appended, by kind and type. */
  wrote(record: StoredRecord, events: readonly SessionEvent[]): void {
    if (this.transitions === null) return;
    for (const event of events) this.transitions.add(1, { [A.kind]: record.kind, [A.eventType]: event.type });
  }

  /** Counts a write applied again after losing a compare-and-set. */
  conflicted(kind: RecordKind): void {
    this.conflicts?.add(1, { [A.kind]: kind });
  }

  /**
   * Starts timing a worker round; the function it returns records the round: a span with its
   * counts when it did any work (an idle worker makes no span a second), and what it claimed.
   */
  round(): (counts: RoundCounts) => void {
    const started = elapsedNow();
    return (counts) => {
      const outbox = counts.deliveries + counts.actions;
      if (counts.claimed + outbox === 0) return;
      if (this.claimed !== null) {
        this.claimed.record(counts.claimed, { [A.work]: "deadline" });
        this.claimed.record(counts.deliveries, { [A.work]: "delivery" });
        this.claimed.record(counts.actions, { [A.work]: "action" });
      }
      // A round is its own trace (its deliveries continue the traces of the writes that enqueued them).
      const span = this.tracer.startSpan("agent_sessions.worker.tick", { root: true, startTime: started });
      if (!span.isRecording()) {
        span.end();
        return;
      }
      span.setAttributes({
        [A.roundDeadlines]: counts.claimed,
        [A.roundEvents]: counts.events,
        [A.roundDeliveries]: counts.deliveries,
        [A.roundActions]: counts.actions,
      });
      span.end();
    };
  }
}

/** Sets the record's id and organization from what an operation answered (a record, or `{ session }`). */
function described(span: Span, result: unknown, prefix: string): void {
  const record = (result as { session?: unknown } | null)?.session ?? result;
  const { id, orgId } = (record ?? {}) as { id?: unknown; orgId?: unknown };
  if (typeof id === "string" && isPrefixedId(id, prefix)) span.setAttribute(A.sessionId, id);
  if (typeof orgId === "string") span.setAttribute(A.org, orgId);
}

/** Ends an operation's span that threw: a caller's mistake is noted by its code, anything else is a server error. */
function ended(span: Span, error: unknown): void {
  if (isAgentSessionsError(error) && CALLER_ERRORS.has(error.code)) {
    span.setAttribute(A.errorCode, error.code);
  } else {
    if (isAgentSessionsError(error)) span.setAttribute(A.errorCode, error.code);
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

function carrierOf(span: Span): TraceCarrier | null {
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return null;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
  const traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const tracestate = spanContext.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The context a carried `traceparent` names, or the root context (a new trace) without a valid one. */
function parentOf(carried: Partial<TraceCarrier>): Context {
  const match = typeof carried.traceparent === "string" ? TRACEPARENT.exec(carried.traceparent) : null;
  if (match === null) return ROOT_CONTEXT;
  const spanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
    ...(typeof carried.tracestate === "string" ? { traceState: createTraceState(carried.tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}
