import { type Engine, eventId, ID_PREFIXES, idTime, isPrefixedId, isRecordId, isShowable, type SessionEvent, type StoredRecord } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { HttpError, json } from "../http.js";
import type { RouteContext, RouteDefinition } from "../route.js";
import { TimelineEvent, timelineEvent, WaitBody, waitBody } from "../wire.js";
import { errors } from "./common.js";

/**
 * A subscription to the engine's events that match `accept`, opened before the caller reads
 * state, so an event written between the read and the wait is not missed.
 */
function subscribe(engine: Engine, accept: (event: SessionEvent) => boolean) {
  let wake: (() => void) | null = null;
  let pending = false;
  const listener = (_type: string, event: SessionEvent) => {
    if (!accept(event)) return;
    pending = true;
    wake?.();
  };
  engine.events.on("*", listener);
  return {
    /**
     * Resolves when a matching event arrived (since the last call), the time is up, or the client
     * left. Without a notifier, an engine sharing its store with other instances polls: it wakes
     * every `pollIntervalMs` so the caller reads the store again.
     */
    next(wait: number, signal: AbortSignal): Promise<void> {
      const ms = engine.pollIntervalMs === null ? wait : Math.min(wait, engine.pollIntervalMs);
      if (pending || ms <= 0 || signal.aborted) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = null;
          pending = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
    },
    close() {
      engine.events.off("*", listener);
      wake?.();
    },
  };
}

/** The `timeout` query parameter in milliseconds, at most the configured long-poll. */
function timeoutMs(context: RouteContext): number {
  const raw = context.url.searchParams.get("timeout");
  if (raw === null) return 0;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new HttpError(400, "timeout: must be a number of seconds");
  return Math.min(Number(raw), context.settings.maxWaitSeconds) * 1000;
}

async function waitRoute(context: RouteContext): Promise<Response> {
  const { engine, orgId, request } = context;
  const id = context.params.id!;
  const limit = timeoutMs(context);
  const deadline = Date.now() + limit;
  const subscription = subscribe(
    engine,
    (event) =>
      event.orgId === orgId &&
      (event.type === "wait.completed" || event.type === "wait.timed_out" || event.type === "wait.cancelled") &&
      event.payload.waitId === id,
  );
  try {
    let wait = await engine.workflows.getWait(orgId, id);
    while (wait.status === "pending" && Date.now() < deadline && !request.signal.aborted) {
      const untilTimeout = wait.expiresAt - engine.now();
      await subscription.next(Math.min(deadline - Date.now(), Math.max(untilTimeout, 0) + 5), request.signal);
      if (engine.now() >= wait.expiresAt) await engine.settle(orgId, wait.sessionId);
      wait = await engine.workflows.getWait(orgId, id);
    }
    return json(waitBody(wait, wait.sessionId));
  } finally {
    subscription.close();
  }
}

/**
 * The sequence number after which to read: that of the `since` event, or of `Last-Event-ID`.
 * An event's id is derived from its record's id, its sequence number and its time (which the id
 * shows), so the number is found by deriving ids from the newest event back, usually at the first
 * try, instead of reading the whole timeline on every poll. An id not derived that way is looked
 * up in the timeline.
 */
async function afterSeq(engine: Engine, record: StoredRecord, since: string | null): Promise<number> {
  if (!since) return 0;
  if (isPrefixedId(since, ID_PREFIXES.event)) {
    const at = idTime(since);
    for (let seq = record.eventCount; seq >= 1; seq--) if (eventId(record.id, seq, at) === since) return seq;
  }
  const { orgId, id } = record;
  const found = (await engine.timeline(orgId, id)).find((event) => event.id === since);
  if (!found) throw new HttpError(400, `since: no event ${since} in session ${id}`);
  return found.seq;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": heartbeat\n\n");

function sseFrame(event: SessionEvent): Uint8Array {
  return encoder.encode(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(timelineEvent(event))}\n\n`);
}

async function eventsRoute(context: RouteContext): Promise<Response> {
  const { engine, orgId, request, url } = context;
  const id = context.params.id!;
  const record = isRecordId(id) ? await engine.store.get(orgId, id) : null;
  if (!record) throw new HttpError(404, isShowable(id) ? `Session ${id} not found` : "Session not found");
  const stream = (request.headers.get("accept") ?? "").includes("text/event-stream");
  let seq = await afterSeq(engine, record, url.searchParams.get("since") ?? (stream ? request.headers.get("last-event-id") : null));
  const subscription = subscribe(engine, (event) => event.orgId === orgId && event.recordId === id);

  /** The record's next deadline as last read, so the wait between reads can end on it. */
  let dueAt: number | null = record.dueAt;

  /** Reads what came after `seq`, persisting a deadline that has passed so its event shows. */
  const read = async (): Promise<SessionEvent[]> => {
    let current = await engine.store.get(orgId, id);
    if (current?.dueAt != null && current.dueAt <= engine.now() && (await engine.settle(orgId, id)) > 0) {
      current = await engine.store.get(orgId, id);
    }
    dueAt = current?.dueAt ?? null;
    const events = await engine.store.timeline(orgId, id, { afterSeq: seq });
    if (events.length > 0) seq = events[events.length - 1]!.seq;
    return events;
  };
  const untilDue = (cap: number) => (dueAt === null ? cap : Math.min(cap, Math.max(dueAt - engine.now(), 0) + 5));

  if (!stream) {
    try {
      const limit = timeoutMs(context);
      const deadline = Date.now() + limit;
      let events = await read();
      while (events.length === 0 && Date.now() < deadline && !request.signal.aborted) {
        await subscription.next(untilDue(deadline - Date.now()), request.signal);
        events = await read();
      }
      return json({ events: events.map(timelineEvent) });
    } finally {
      subscription.close();
    }
  }

  const heartbeatMs = context.settings.heartbeatMs;
  const leave = new AbortController();
  let lastWrite = Date.now();
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    leave.abort(); // also removes the listener on the request's signal
    subscription.close();
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
          while (!leave.signal.aborted) {
            // One batch of the store's at a time, each event its own chunk; a heartbeat when quiet.
            const frames = (await read()).map(sseFrame);
            if (frames.length === 0 && Date.now() - lastWrite >= heartbeatMs) frames.push(HEARTBEAT);
            if (frames.length > 0) {
              for (const frame of frames) controller.enqueue(frame);
              lastWrite = Date.now();
              return;
            }
            await subscription.next(untilDue(heartbeatMs - (Date.now() - lastWrite)), leave.signal);
          }
        } catch (error) {
          // The store failed: told to onError, and the stream ends; the client reconnects after the
          // last event it saw.
          if (!leave.signal.aborted) context.report(error);
        }
        finish(controller);
      },
      cancel() {
        leave.abort();
        subscription.close();
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
