import { type Engine, eventId, ID_PREFIXES, idTime, isPrefixedId, type SessionEvent } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { HttpError, json } from "../http.js";
import type { RouteContext, RouteDefinition } from "../route.js";
import { TimelineEvent, timelineEvent, WaitBody, waitBody } from "../wire.js";
import { errors, orSessionNotFound } from "./common.js";

/** The `timeout` query parameter in milliseconds, at most the configured long-poll. */
function timeoutMs(context: RouteContext): number {
  const raw = context.url.searchParams.get("timeout");
  if (raw === null) return 0;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new HttpError(400, "timeout: must be a number of seconds");
  return Math.min(Number(raw), context.settings.maxWaitSeconds) * 1000;
}

/**
 * A signal that aborts when the client leaves or after `ms`, and its `clear`, which drops the
 * timer and the listener on the request's signal.
 */
function until(request: Request, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = ms > 0 ? setTimeout(abort, ms) : undefined;
  if (timer === undefined || request.signal.aborted) abort();
  request.signal.addEventListener("abort", abort, { once: true, signal: controller.signal });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      abort();
    },
  };
}

async function waitRoute(context: RouteContext): Promise<Response> {
  const { engine, orgId, request } = context;
  const id = context.params.id!;
  const held = until(request, timeoutMs(context));
  try {
    const wait = await engine.workflows.waitFor(orgId, id, { signal: held.signal });
    return json(waitBody(wait, wait.sessionId));
  } finally {
    held.clear();
  }
}

/**
 * The sequence number after which to read: that of the `since` event, or of `Last-Event-ID`.
 * An event's id is derived from its record's id, its sequence number and its time (which the id
 * shows), so the number is found by deriving ids from the newest event back, usually at the first
 * try, instead of reading the whole timeline on every poll. An id not derived that way is looked
 * up in the timeline.
 */
async function afterSeq(engine: Engine, orgId: string, id: string, last: number, since: string | null): Promise<number> {
  if (!since) return 0;
  if (isPrefixedId(since, ID_PREFIXES.event)) {
    const at = idTime(since);
    for (let seq = last; seq >= 1; seq--) if (eventId(id, seq, at) === since) return seq;
  }
  const found = (await engine.timeline(orgId, id)).find((event) => event.id === since);
  if (!found) throw new HttpError(400, `since: no event ${since} in session ${id}`);
  return found.seq;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": heartbeat\n\n");

function sseFrame(event: SessionEvent): Uint8Array {
  return encoder.encode(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(timelineEvent(event))}\n\n`);
}

/**
 * A session's events after `since` (or `Last-Event-ID`): long-polled as JSON, or streamed as
 * Server-Sent Events with `Accept: text/event-stream`. The console serves it to signed-in browsers too.
 */
export async function eventsRoute(context: RouteContext): Promise<Response> {
  const { engine, orgId, request, url } = context;
  const id = context.params.id!;
  const { seq: last } = await orSessionNotFound(id, engine.records.get(orgId, id));
  const stream = (request.headers.get("accept") ?? "").includes("text/event-stream");
  const seq = await afterSeq(engine, orgId, id, last, url.searchParams.get("since") ?? (stream ? request.headers.get("last-event-id") : null));

  if (!stream) {
    const held = until(request, timeoutMs(context));
    try {
      let events: readonly SessionEvent[] = [];
      for await (const batch of engine.watch(orgId, id, { afterSeq: seq, signal: held.signal }).batches()) {
        events = batch;
        break;
      }
      return json({ events: events.map(timelineEvent) });
    } finally {
      held.clear();
    }
  }

  const heartbeatMs = context.settings.heartbeatMs;
  const leave = new AbortController();
  const batches = engine.watch(orgId, id, { afterSeq: seq, signal: leave.signal }).batches()[Symbol.asyncIterator]();
  /** The read in progress, kept across a heartbeat that came first. */
  let reading: Promise<IteratorResult<readonly SessionEvent[]>> | null = null;
  const readNext = () => {
    const next = batches.next();
    next.catch(() => {}); // awaited by this pull, or by the next one when a heartbeat came first
    return next;
  };
  let lastWrite = Date.now();
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    leave.abort(); // also removes the listener on the request's signal, and ends the watch
    try {
      controller.close();
    } catch {
      // already closed or cancelled by the client
    }
  };
  // Pulled, not pushed: the next frames are read only once the client took the last ones, so a
  // slow reader holds the server to what its socket takes instead of a queue without bound.
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(`retry: 2000\n: connected to ${id}\n\n`));
      },
      async pull(controller) {
        try {
          reading ??= readNext();
          const next = await beforeHeartbeat(reading, heartbeatMs - (Date.now() - lastWrite));
          if (next === HEARTBEAT_DUE) {
            controller.enqueue(HEARTBEAT);
          } else {
            reading = null;
            if (next.done) return finish(controller);
            // One batch of the store's at a time, each event its own chunk.
            for (const event of next.value) controller.enqueue(sseFrame(event));
          }
          lastWrite = Date.now();
        } catch (error) {
          // The store failed: told to onError, and the stream ends; the client reconnects after the
          // last event it saw.
          if (!leave.signal.aborted) context.report(error);
          finish(controller);
        }
      },
      cancel() {
        leave.abort();
      },
    },
    { highWaterMark: 1 },
  );
  request.signal.addEventListener("abort", () => leave.abort(), { once: true, signal: leave.signal });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}

const HEARTBEAT_DUE = Symbol("heartbeat due");

/** What `reading` answers, or `HEARTBEAT_DUE` when `ms` pass first. */
function beforeHeartbeat<T>(reading: Promise<T>, ms: number): Promise<T | typeof HEARTBEAT_DUE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const due = new Promise<typeof HEARTBEAT_DUE>((resolve) => {
    timer = setTimeout(() => resolve(HEARTBEAT_DUE), Math.max(ms, 0));
  });
  return Promise.race([reading, due]).finally(() => clearTimeout(timer));
}

/** Long-polls and streams: a wait held open until it ends, and a session's events as they happen. */
export const eventRoutes: RouteDefinition[] = [
  {
    method: "GET",
    path: "/api/v1/waits/:id",
    summary: "Retrieve a wait; with ?timeout=N, answer as soon as it completes or times out (at most N seconds)",
    tag: "Waits",
    query: { timeout: { description: "Seconds to hold the request open while the wait is pending", schema: Type.Number({ minimum: 0 }) } },
    responses: { 200: { description: "The wait", schema: WaitBody }, ...errors(400, 404) },
    failure: "Failed to retrieve wait",
    handle: waitRoute,
  },
  {
    method: "GET",
    path: "/api/v1/sessions/:id/events",
    summary: "A session's events after ?since=<event id>; long-polls with ?timeout=N, streams with Accept: text/event-stream",
    tag: "Sessions",
    query: {
      since: { description: "The id of the last event already seen", schema: Type.String() },
      timeout: { description: "Seconds to hold the request open while there is no new event", schema: Type.Number({ minimum: 0 }) },
    },
    responses: {
      200: {
        description: "The events after since (JSON), or a Server-Sent Events stream",
        schema: Type.Object({ events: Type.Array(TimelineEvent) }),
      },
      ...errors(400, 404),
    },
    failure: "Failed to retrieve events",
    handle: eventsRoute,
  },
];
