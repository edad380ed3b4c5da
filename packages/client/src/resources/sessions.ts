import type { WorkflowStatus } from "@agent-sessions/core";
import { type RequestOptions, segment, type Transport } from "../transport.js";
import type { CompletedSession, CreateWorkflowInput, ListOptions, RecordStepInput, Session, Step, TimelineEvent } from "../types.js";
import { collection } from "./collection.js";
import { type EventsOptions, sessionEvents } from "./events.js";

/** The query of `sessions.list`. */
export interface ListSessionsQuery extends ListOptions {
  status?: WorkflowStatus;
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
     * The events of any session (workflow, form session, thread) as they happen, from
     * `GET /api/v1/sessions/:id/events`: first those already written (after `since`), then each new
     * one, each once and in order, over Server-Sent Events or, with `transport: "poll"` or a server
     * that does not stream, the long-poll. It never ends by itself: `break`, or abort `signal`.
     */
    events(id: string, options: EventsOptions = {}): AsyncGenerator<TimelineEvent, void, undefined> {
      return sessionEvents(transport, id, options);
    },
  };
}
