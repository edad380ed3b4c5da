import type { CreateWorkflowInput, RecordStepInput, WorkflowStatus } from "@agent-sessions/core";
import { type RequestOptions, segment, type Transport } from "../transport.js";
import type { CompletedSession, ListOptions, Session, Step, TimelineEvent } from "../types.js";
import { collection } from "./collection.js";

/** The query of `sessions.list`. */
export interface ListSessionsQuery extends ListOptions {
  status?: WorkflowStatus;
}

/** Options of `sessions.events`. */
export interface EventsOptions {
  /** The id of the last event already seen: the iterator starts after it. Default: the first event. */
  since?: string;
  /** Seconds each long-poll is held open while nothing happens. Default: 25. */
  pollSeconds?: number;
  /** Ends the iteration (the loop throws the signal's reason). */
  signal?: AbortSignal;
}

const path = (id: string, rest = "") => `/api/v1/sessions/${segment(id)}${rest}`;

/** Workflow sessions (seed 001) and the event feed of any session. */
export function sessionsResource(transport: Transport) {
  return {
    // create, list (by `status` too) and get: a session with the ids of its inboxes and waits.
    ...collection<Session, CreateWorkflowInput, Session, ListSessionsQuery>(transport, "/api/v1/sessions"),
    /** `POST /api/v1/sessions/:id/complete`: marks the session completed. */
    complete(id: string, options?: RequestOptions): Promise<CompletedSession> {
      return transport.request({ method: "POST", path: path(id, "/complete") }, options);
    },
    /** `GET /api/v1/sessions/:id/timeline`: every event of the session, in order. */
    timeline(id: string, options?: RequestOptions): Promise<{ events: TimelineEvent[] }> {
      return transport.request({ method: "GET", path: path(id, "/timeline") }, options);
    },
    /** `POST /api/v1/sessions/:id/replay`: the recorded steps. */
    replay(id: string, options?: RequestOptions): Promise<{ steps: Step[] }> {
      return transport.request({ method: "POST", path: path(id, "/replay") }, options);
    },
    /** `POST /api/v1/sessions/:id/steps`: records a step for replay; a critical error fails the session. */
    recordStep(id: string, input: RecordStepInput, options?: RequestOptions): Promise<Step> {
      return transport.request({ method: "POST", path: path(id, "/steps"), body: input }, options);
    },
    /**
     * The events of any session (workflow, form session, thread) as they happen, over the
     * long-poll `GET /api/v1/sessions/:id/events?since=…&timeout=…`: first those already written
     * (after `since`), then each new one. It never ends by itself: `break`, or abort `signal`.
     */
    async *events(id: string, options: EventsOptions = {}): AsyncGenerator<TimelineEvent, void, undefined> {
      const pollSeconds = options.pollSeconds ?? 25;
      if (!(pollSeconds >= 0)) throw new TypeError("pollSeconds: must be a number of seconds, 0 or more");
      let since = options.since;
      const request = options.signal ? { signal: options.signal } : {};
      for (;;) {
        const { events } = await transport.request<{ events: TimelineEvent[] }>(
          { method: "GET", path: path(id, "/events"), query: { since, timeout: pollSeconds }, holdSeconds: pollSeconds },
          request,
        );
        for (const event of events) {
          since = event.id;
          yield event;
        }
      }
    },
  };
}
