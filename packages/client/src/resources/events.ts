import { AgentSessionsClientError } from "../errors.js";
import { type EventStreamMessage, readEventStream } from "../event-stream.js";
import { segment, type Transport } from "../transport.js";
import type { TimelineEvent } from "../types.js";

/** Options of `sessions.events`. */
export interface EventsOptions {
  /** The id of the last event already seen: the iterator starts after it. Default: the first event. */
  since?: string;
  /**
   * How the events travel. `"sse"` (the default): one Server-Sent Events request for the whole
   * session, each event as soon as it is written; when the stream ends or drops it is reopened
   * after the last event seen, on the client's backoff. An answer that is not `text/event-stream`
   * (an older server, a proxy that strips it) switches this iterator to the long-poll. `"poll"`:
   * the long-poll only, one `GET …/events?since=…&timeout=…` per batch of events.
   */
  transport?: "sse" | "poll";
  /** Long-poll only: seconds each request is held open while nothing happens. Default: 25. */
  pollSeconds?: number;
  /**
   * SSE only: seconds without a byte from the server, not even a heartbeat, after which the stream
   * counts as dropped and is reopened. The client's `timeoutMs` covers opening the stream, never
   * its length. Default: 45, three times the router's default heartbeat of 15 seconds.
   */
  idleSeconds?: number;
  /** Ends the iteration (the loop throws the signal's reason) and closes the connection. */
  signal?: AbortSignal;
}

/** The events of a session after `options.since`, each once and in order, for ever: see `sessions.events`. */
export async function* sessionEvents(transport: Transport, id: string, options: EventsOptions = {}): AsyncGenerator<TimelineEvent, void, undefined> {
  const pollSeconds = options.pollSeconds ?? 25;
  if (!(pollSeconds >= 0)) throw new TypeError("pollSeconds: must be a number of seconds, 0 or more");
  const idleSeconds = options.idleSeconds ?? 45;
  if (!(idleSeconds > 0)) throw new TypeError("idleSeconds: must be a number of seconds above 0");
  const mode = options.transport ?? "sse";
  if (mode !== "sse" && mode !== "poll") throw new TypeError(`transport: must be "sse" or "poll", not ${JSON.stringify(mode)}`);
  const path = `/api/v1/sessions/${segment(id)}/events`;
  const { signal } = options;
  const request = signal ? { signal } : {};
  let since = options.since;

  if (mode === "sse") {
    // A stream that ended without an event backs off further each time; one that delivered starts over.
    for (let drops = 0; ; ) {
      const response = await transport.open({ method: "GET", path, query: { since }, accept: "text/event-stream" }, request);
      if (!isEventStream(response)) {
        await response.body?.cancel().catch(() => {});
        break;
      }
      let delivered = false;
      if (response.body) {
        for await (const message of readEventStream(response.body, { idleMs: idleSeconds * 1000, signal })) {
          const event = timelineEvent(message, `GET ${path}`);
          since = event.id;
          delivered = true;
          yield event;
        }
      }
      drops = delivered ? 1 : drops + 1;
      await transport.backoff(drops, signal);
    }
  }

  for (;;) {
    const { events } = await transport.request<{ events: TimelineEvent[] }>(
      { method: "GET", path, query: { since, timeout: pollSeconds }, holdSeconds: pollSeconds },
      request,
    );
    for (const event of events) {
      if (signal?.aborted) throw signal.reason;
      since = event.id;
      yield event;
    }
  }
}

function isEventStream(response: Response): boolean {
  const type = response.headers.get("content-type") ?? "";
  return type.split(";")[0]!.trim().toLowerCase() === "text/event-stream";
}

/** The router sends each event as `id: <id>`, `event: <type>`, `data: <the timeline event as JSON>`. */
function timelineEvent(message: EventStreamMessage, label: string): TimelineEvent {
  const which = message.id === "" ? `a '${message.event}' event` : `event ${message.id}`;
  let event: unknown;
  try {
    event = JSON.parse(message.data);
  } catch (error) {
    throw new AgentSessionsClientError(`${label}: the data of ${which} is not JSON (${(error as Error).message})`, label, { cause: error });
  }
  if (typeof event !== "object" || event === null || typeof (event as { id?: unknown }).id !== "string") {
    throw new AgentSessionsClientError(`${label}: the data of ${which} is not a timeline event: it needs a string id`, label);
  }
  return event as TimelineEvent;
}
