import { ConflictError, ExpiredError, IllegalTransitionError, InvalidInputError } from "../errors.js";
import { type Message, type Step, type Wait, type WaitType, type Workflow, workflowKind } from "../kinds/workflow.js";
import { accept, defineMachine, earliestDeadline, iso, type Machine, NO_METADATA, NONE, refuse, type Transition } from "../machine.js";
import { extractOtp } from "../otp.js";
import type { EventDraft } from "../schemas/event.js";

/**
 * Commands a workflow session answers to. Ids of new inboxes, messages and waits come in, so a
 * retried command makes the same ones; `startedAt` times the recorded step. A new inbox's or
 * wait's id is asked for as an alias of the session (an effect the engine writes with the state).
 */
export type WorkflowCommand =
  | { readonly type: "createInbox"; readonly inboxId: string; readonly ttlSeconds: number; readonly startedAt?: number }
  | {
      readonly type: "receiveMessage";
      readonly messageId: string;
      readonly inboxId: string;
      readonly from: string;
      readonly subject: string;
      readonly body: string;
    }
  | {
      readonly type: "createWait";
      readonly waitId: string;
      readonly waitType: WaitType;
      readonly inboxId: string;
      readonly timeoutSeconds: number;
      readonly startedAt?: number;
    }
  | {
      readonly type: "recordStep";
      readonly action: string;
      readonly input?: unknown;
      readonly output?: unknown;
      readonly durationMs: number;
      readonly error?: { readonly message: string; readonly critical?: boolean };
    }
  | { readonly type: "complete" }
  | { readonly type: "fail"; readonly message: string }
  | { readonly type: "tick" };

/** How much one workflow session holds; past these a command is refused as a conflict. */
const LIMITS = workflowKind.limits;

/** Builds a new workflow session in `active`. */
export function createWorkflow(
  input: { id: string; orgId: string; name: string; metadata?: Record<string, unknown> },
  now: number,
): { state: Workflow; events: EventDraft[] } {
  const state: Workflow = {
    id: input.id,
    orgId: input.orgId,
    name: input.name,
    status: "active",
    metadata: input.metadata ?? NO_METADATA,
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    failedAt: null,
    failure: null,
    inboxes: NONE,
    waits: NONE,
    messages: NONE,
    steps: NONE,
  };
  return { state, events: [{ type: "session.created", at: now, payload: { sessionId: input.id } }] };
}

function settle(state: Workflow, now: number): { state: Workflow; events: EventDraft[] } {
  const due = state.waits.filter((wait) => wait.status === "pending" && now >= wait.expiresAt);
  if (due.length === 0) return { state, events: [] };
  due.sort((a, b) => a.expiresAt - b.expiresAt);
  const timedOut = new Set(due.map((wait) => wait.id));
  const waits = state.waits.map((wait) => (timedOut.has(wait.id) ? { ...wait, status: "timed_out" as const, completedAt: wait.expiresAt } : wait));
  const events = due.map((wait) => ({ type: "wait.timed_out", at: wait.expiresAt, payload: { waitId: wait.id } }));
  const last = due[due.length - 1]!.expiresAt;
  return { state: { ...state, waits, updatedAt: Math.max(state.updatedAt, last) }, events };
}

function matches(wait: Wait, message: Message): boolean {
  return wait.inboxId === message.inboxId && (wait.type === "message" || message.otp !== null);
}

function completeWait(wait: Wait, message: Message, now: number): Wait {
  return {
    ...wait,
    status: "completed",
    completedAt: now,
    result: {
      messageId: message.id,
      from: message.from,
      subject: message.subject,
      body: message.body,
      code: wait.type === "otp" ? message.otp : null,
    },
  };
}

/** How long a step took: from when its operation started (`startedAt`, from the command) to `now`. */
function elapsed(startedAt: number | undefined, now: number): number {
  return startedAt === undefined ? 0 : Math.max(0, now - startedAt);
}

function step(state: Workflow, now: number, fields: Omit<Step, "index" | "at">): Step {
  return { index: state.steps.length, at: now, ...fields };
}

function apply(state: Workflow, command: WorkflowCommand, now: number): Transition<Workflow> {
  if (command.type === "tick") return accept(state);
  if (command.type === "complete" || command.type === "fail") {
    const target = command.type === "complete" ? "completed" : "failed";
    if (state.status === target) return accept(state);
    if (state.status !== "active") return refuse(illegal(state, command.type));
    const next: Workflow =
      target === "completed"
        ? { ...state, status: "completed", completedAt: now, updatedAt: now }
        : {
            ...state,
            status: "failed",
            failedAt: now,
            failure: { message: command.type === "fail" ? command.message : "", step: null },
            updatedAt: now,
          };
    const payload = command.type === "fail" ? { sessionId: state.id, reason: command.message } : { sessionId: state.id };
    return finish(next, [{ type: `session.${target}`, at: now, payload }], now);
  }
  if (state.status !== "active") return refuse(illegal(state, command.type));

  switch (command.type) {
    case "createInbox": {
      if (state.inboxes.length >= LIMITS.inboxes) return refuse(limit(state, "inboxes"));
      if (state.steps.length >= LIMITS.steps) return refuse(limit(state, "steps"));
      const inbox = {
        id: command.inboxId,
        ttlSeconds: command.ttlSeconds,
        createdAt: now,
        expiresAt: now + command.ttlSeconds * 1000,
      };
      const recorded = step(state, now, {
        action: "create_inbox",
        input: { ttlSeconds: command.ttlSeconds },
        output: { id: inbox.id },
        durationMs: elapsed(command.startedAt, now),
        error: null,
      });
      const next = { ...state, inboxes: [...state.inboxes, inbox], steps: [...state.steps, recorded], updatedAt: now };
      // The inbox's id becomes an alias of the session: how a message or a read finds its session.
      return accept(next, [{ type: "inbox.created", at: now, payload: { inboxId: inbox.id } }], { aliases: [inbox.id] });
    }
    case "receiveMessage": {
      const inbox = state.inboxes.find((candidate) => candidate.id === command.inboxId);
      if (!inbox) return refuse(new InvalidInputError("inboxId", `no inbox ${command.inboxId} in session ${state.id}`));
      if (now >= inbox.expiresAt) return refuse(new ExpiredError(`inbox ${inbox.id} expired at ${iso(inbox.expiresAt)}`));
      if (state.messages.length >= LIMITS.messages) return refuse(limit(state, "messages"));
      let message: Message = {
        id: command.messageId,
        inboxId: inbox.id,
        from: command.from,
        subject: command.subject,
        body: command.body,
        receivedAt: now,
        otp: extractOtp(command.subject, command.body),
        consumedBy: null,
      };
      const events: EventDraft[] = [{ type: "message.received", at: now, payload: { messageId: message.id, inboxId: inbox.id } }];
      let waits = state.waits;
      const waiting = waits.find((wait) => wait.status === "pending" && matches(wait, message));
      if (waiting) {
        message = { ...message, consumedBy: waiting.id };
        waits = waits.map((wait) => (wait === waiting ? completeWait(wait, message, now) : wait));
        events.push({ type: "wait.completed", at: now, payload: { waitId: waiting.id, messageId: message.id } });
      }
      return accept({ ...state, messages: [...state.messages, message], waits, updatedAt: now }, events);
    }
    case "createWait": {
      if (!state.inboxes.some((inbox) => inbox.id === command.inboxId)) {
        return refuse(new InvalidInputError("inboxId", `no inbox ${command.inboxId} in session ${state.id}`));
      }
      if (state.waits.length >= LIMITS.waits) return refuse(limit(state, "waits"));
      if (state.steps.length >= LIMITS.steps) return refuse(limit(state, "steps"));
      let wait: Wait = {
        id: command.waitId,
        type: command.waitType,
        inboxId: command.inboxId,
        timeoutSeconds: command.timeoutSeconds,
        createdAt: now,
        expiresAt: now + command.timeoutSeconds * 1000,
        status: "pending",
        result: null,
        completedAt: null,
      };
      const recorded = step(state, now, {
        action: "create_wait",
        input: { type: command.waitType, inboxId: command.inboxId, timeoutSeconds: command.timeoutSeconds },
        output: { id: wait.id },
        durationMs: elapsed(command.startedAt, now),
        error: null,
      });
      const events: EventDraft[] = [{ type: "wait.created", at: now, payload: { waitId: wait.id, inboxId: wait.inboxId } }];
      let messages = state.messages;
      // A message that arrived before its wait was created still completes it.
      const earlier = messages.find((message) => message.consumedBy === null && matches(wait, message));
      if (earlier) {
        wait = completeWait(wait, earlier, now);
        messages = messages.map((message) => (message === earlier ? { ...message, consumedBy: wait.id } : message));
        events.push({ type: "wait.completed", at: now, payload: { waitId: wait.id, messageId: earlier.id } });
      }
      const next = { ...state, waits: [...state.waits, wait], messages, steps: [...state.steps, recorded], updatedAt: now };
      return accept(next, events, { aliases: [wait.id] });
    }
    case "recordStep": {
      if (state.steps.length >= LIMITS.steps) return refuse(limit(state, "steps"));
      const error = command.error ? { message: command.error.message, critical: command.error.critical === true } : null;
      const recorded = step(state, now, {
        action: command.action,
        input: command.input ?? null,
        output: command.output ?? null,
        durationMs: command.durationMs,
        error,
      });
      const events: EventDraft[] = [
        { type: "step.recorded", at: now, payload: { sessionId: state.id, index: recorded.index, action: recorded.action } },
      ];
      let next: Workflow = { ...state, steps: [...state.steps, recorded], updatedAt: now };
      if (error?.critical) {
        next = { ...next, status: "failed", failedAt: now, failure: { message: error.message, step: recorded.index } };
        events.push({ type: "session.failed", at: now, payload: { sessionId: state.id, reason: error.message, step: recorded.index } });
        return finish(next, events, now);
      }
      return accept(next, events);
    }
  }
}

/**
 * Accepts a session that just completed or failed. A finished session waits for nothing: its
 * pending waits are cancelled now, so no timeout fires later and whoever holds one open hears at
 * once (`wait.cancelled`, after the session's own event).
 */
function finish(next: Workflow, events: EventDraft[], now: number): Transition<Workflow> {
  if (!next.waits.some((wait) => wait.status === "pending")) return accept(next, events);
  const cancelled: EventDraft[] = [];
  const waits = next.waits.map((wait) => {
    if (wait.status !== "pending") return wait;
    cancelled.push({ type: "wait.cancelled", at: now, payload: { waitId: wait.id, reason: `session.${next.status}` } });
    return { ...wait, status: "cancelled" as const, completedAt: now };
  });
  return accept({ ...next, waits }, [...events, ...cancelled]);
}

function illegal(state: Workflow, command: string): IllegalTransitionError {
  return new IllegalTransitionError(state.status, command, `cannot ${command} session ${state.id}: it is ${state.status}`);
}

function limit(state: Workflow, what: "inboxes" | "waits" | "messages" | "steps"): ConflictError {
  return new ConflictError(`session ${state.id} already holds ${LIMITS[what]} ${what}, the most one session keeps`);
}

/** The workflow session machine: `active → completed | failed`, with inboxes, waits and steps. */
export const workflowMachine: Machine<Workflow, WorkflowCommand> = defineMachine({
  settle,
  apply,
  dueAt: (state) => earliestDeadline(state.waits, "pending"),
  status: (state) => state.status,
  timeChangesStatus: false,
});
