import { MemoryStore } from "@agent-sessions/memory";
import { context, createTraceState, SamplingDecision, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TELEMETRY_ATTRIBUTES as A, createEngine, type Engine } from "../src/index.js";
import { httpReceiver } from "./http-receiver.js";

const ORG = "org_00000000000000000000000000000001";
const EMAIL_FORM = { name: "Intake", fields: [{ name: "email", type: "email" as const }] };

type Receiver = Awaited<ReturnType<typeof httpReceiver>>;

/** An engine and a receiver of its webhooks for every `submission.created`. */
async function engineWithReceiver(options: Partial<Parameters<typeof createEngine>[0]> = {}) {
  const receiver = await httpReceiver();
  const store = new MemoryStore();
  const engine = createEngine({ store, webhooks: { allowPrivateAddresses: true }, ...options });
  const hook = await engine.webhooks.create(ORG, { url: receiver.url, events: ["submission.created"] });
  const form = await engine.forms.create(ORG, EMAIL_FORM);
  return { engine, receiver, hook, form, store };
}

describe("traces, with an SDK registered globally", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  let engine: Engine;
  let receiver: Receiver;

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });
  afterEach(async () => {
    await engine?.close();
    await receiver?.close();
    exporter.reset();
  });

  const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name);
  const parentSpanId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it("links a submit and the delivery of its webhook by trace id, and the receiver gets the delivery span's traceparent", async () => {
    const setup = await engineWithReceiver();
    ({ engine, receiver } = setup);
    const session = await engine.formSessions.create(ORG, setup.form.id);
    await engine.formSessions.submit(session.id, { values: { email: "ada@example.com" } });
    expect(await engine.tick()).toMatchObject({ deliveries: 1 });

    const [submit] = spans("agent_sessions.formSessions.submit");
    expect(submit!.attributes).toEqual({ [A.kind]: "form_session", [A.sessionId]: session.id, [A.org]: ORG });
    expect(submit!.status.code).toBe(SpanStatusCode.UNSET);
    const [delivery] = spans("agent_sessions.webhooks.deliver");
    expect(delivery!.kind).toBe(SpanKind.CLIENT);
    expect(delivery!.spanContext().traceId).toBe(submit!.spanContext().traceId);
    expect(parentSpanId(delivery!)).toBe(submit!.spanContext().spanId);
    expect(delivery!.attributes).toMatchObject({
      [A.org]: ORG,
      [A.webhookId]: setup.hook.id,
      [A.eventType]: "submission.created",
      [A.attempt]: 1,
      [A.outcome]: "succeeded",
      [A.sessionId]: session.id,
      "http.request.method": "POST",
      "http.response.status_code": 204,
      "server.address": "127.0.0.1",
    });
    expect(delivery!.attributes).not.toHaveProperty("url.full"); // a receiver's path or query may hold its own secret

    const { traceId, spanId } = delivery!.spanContext();
    expect(receiver.headers[0]!.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    // The trace header is not signed: the signature still verifies.
    const [request] = receiver.received;
    const signed = { "webhook-id": request!.id, "webhook-timestamp": request!.timestamp, "webhook-signature": request!.signature };
    expect(new Webhook(setup.hook.secret).verify(request!.body, signed)).toMatchObject({ type: "submission.created" });

    // A round that did work is a span of its own trace, with its counts.
    const [round] = spans("agent_sessions.worker.tick");
    expect(parentSpanId(round!)).toBeUndefined();
    expect(round!.attributes).toMatchObject({ "agent_sessions.worker.deliveries": 1, "agent_sessions.worker.deadlines": 0 });
  });

  it("continues the caller's trace, keeps its tracestate, makes no span for an idle round and marks only server failures as errors", async () => {
    const setup = await engineWithReceiver();
    ({ engine, receiver } = setup);
    const session = await engine.formSessions.create(ORG, setup.form.id);
    await engine.tick();
    exporter.reset();
    expect(await engine.tick()).toMatchObject({ claimed: 0, deliveries: 0 });
    expect(spans("agent_sessions.worker.tick")).toEqual([]);

    // A caller's own span (an HTTP server span, say, with a vendor's tracestate) is the parent of the engine's.
    const parent = provider.getTracer("test").startSpan("POST /v1/sessions/:id/submit");
    const callerContext = trace.setSpanContext(context.active(), { ...parent.spanContext(), traceState: createTraceState("vendor=abc") });
    await context.with(callerContext, () => engine.formSessions.submit(session.id, { values: { email: "ada@example.com" } }));
    parent.end();
    await engine.tick();
    const [submit] = spans("agent_sessions.formSessions.submit");
    const [delivery] = spans("agent_sessions.webhooks.deliver");
    expect(parentSpanId(submit!)).toBe(parent.spanContext().spanId);
    expect(delivery!.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(receiver.headers[0]!.tracestate).toBe("vendor=abc");

    // A caller's mistake is no server error: the span says which mistake, with its status unset.
    await expect(engine.formSessions.get(ORG, "sess_00000000000000000000000000000000")).rejects.toMatchObject({ code: "not_found" });
    const [missing] = spans("agent_sessions.formSessions.get");
    expect(missing!.attributes[A.errorCode]).toBe("not_found");
    expect(missing!.status.code).toBe(SpanStatusCode.UNSET);
    expect(missing!.events).toEqual([]);
  });

  it("records an unexpected failure as an error with its exception", async () => {
    const store = new MemoryStore();
    engine = createEngine({ store });
    receiver = await httpReceiver();
    const broken = new Error("the store is down");
    store.get = () => Promise.reject(broken);
    await expect(engine.workflows.get(ORG, "sess_00000000000000000000000000000000")).rejects.toBe(broken);
    const [failed] = spans("agent_sessions.workflows.get");
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR, message: "the store is down" });
    expect(failed!.events.map((event) => event.name)).toEqual(["exception"]);
  });

  it("sends no traceparent when the write recorded no span", async () => {
    // The engine's own tracer (given, not the global one) samples nothing.
    const never = new BasicTracerProvider({ sampler: { shouldSample: () => ({ decision: SamplingDecision.NOT_RECORD }), toString: () => "never" } });
    const setup = await engineWithReceiver({ telemetry: { tracerProvider: never } });
    ({ engine, receiver } = setup);
    const session = await engine.formSessions.create(ORG, setup.form.id);
    await engine.formSessions.submit(session.id, { values: { email: "ada@example.com" } });
    await engine.tick();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.headers[0]).not.toHaveProperty("traceparent");
  });
});

describe("metrics", () => {
  it("counts transitions, conflicts retried, deliveries by outcome and their duration, and what rounds claimed", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const setup = await engineWithReceiver({ telemetry: { meterProvider } });
    try {
      setup.receiver.answer(500);
      const session = await setup.engine.formSessions.create(ORG, setup.form.id);
      // The submit's first compare-and-set loses (as to another instance's write), so it is applied again.
      const compareAndSet = setup.store.compareAndSet.bind(setup.store);
      let losing = 1;
      setup.store.compareAndSet = (write) => (losing-- > 0 ? Promise.resolve(false) : compareAndSet(write));
      await setup.engine.formSessions.submit(session.id, { values: { email: "ada@example.com" } });
      await setup.engine.tick();
      await reader.forceFlush();
      const metrics = exporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
      const named = (name: string) => metrics.find((metric) => metric.descriptor.name === name)!;
      const point = (name: string, attributes: Record<string, unknown>) =>
        named(name).dataPoints.find((p) => Object.entries(attributes).every(([key, value]) => p.attributes[key] === value));

      expect(point("agent_sessions.transitions", { [A.kind]: "form_session", [A.eventType]: "submission.created" })?.value).toBe(1);
      expect(point("agent_sessions.transitions", { [A.kind]: "form_session", [A.eventType]: "session.created" })?.value).toBe(1);
      expect(point("agent_sessions.conflicts_retried", { [A.kind]: "form_session" })?.value).toBe(1);
      expect(point("agent_sessions.deliveries", { [A.outcome]: "retrying" })?.value).toBe(1);
      const duration = point("agent_sessions.delivery.duration", { [A.outcome]: "retrying" })?.value as { count: number; sum: number };
      expect(duration.count).toBe(1);
      expect(duration.sum).toBeGreaterThanOrEqual(0);
      expect(named("agent_sessions.delivery.duration").descriptor.unit).toBe("ms");
      const claimed = point("agent_sessions.worker.claimed", { [A.work]: "delivery" })?.value as { count: number; sum: number };
      expect(claimed).toMatchObject({ count: 1, sum: 1 });
    } finally {
      await setup.engine.close();
      await setup.receiver.close();
      await meterProvider.shutdown();
    }
  });
});
