import { findCode, patternProblem } from "../code-pattern.js";
import { ConflictError, ExpiredError, IllegalTransitionError, InvalidInputError } from "../errors.js";
import { type Message, type Step, type Wait, type WaitType, type Workflow, workflowKind } from "../kinds/workflow.js";
import {
  accept,
  defineMachine,
  dueReminders,
  earlier,
  iso,
  type Machine,
  NO_METADATA,
  NONE,
  refuse,
  reminderMoments,
  type Transition,
} from "../machine.js";
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
      /** At the timeout: `"fail"` (the default, also when absent) or complete with `resolveWith`. */
      readonly onTimeout?: "fail" | { readonly resolveWith: unknown };
      /** A regular expression with one capture group (see `CreateWaitInput.pattern`); refused as invalid input otherwise. */
      readonly pattern?: string;
      /** Messages received before this moment (ms) never match; at most the wait's deadline. */
      readonly since?: number;
      /** Seconds before the timeout at which `wait.expiring` is sent. */
      readonly remindBefore?: readonly number[];
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

/** Whether time can change `wait` by `now`: its timeout passed, or its first pending reminder came. */
function isDue(wait: Wait, now: number): boolean {
  return wait.status === "pending" && (now >= wait.expiresAt || (wait.reminders !== undefined && wait.reminders[0]! <= now));
}

/**
 * What time did to the pending waits by `now`, in the order it happened: each reminder whose
 * moment came is sent as one `wait.expiring` (and leaves `reminders`); a wait past its timeout
 * completes with its `resolve_with` value (`wait.completed`, `timedOut`) or else times out
 * (`wait.timed_out`), sending no reminder left. A reminder changes nothing a reader sees of the
 * wait, so `updatedAt` moves only for the endings.
 */
function settle(state: Workflow, now: number): { state: Workflow; events: EventDraft[] } {
  if (!state.waits.some((wait) => isDue(wait, now))) return { state, events: [] };
  const events: EventDraft[] = [];
  let updatedAt = state.updatedAt;
  const waits = state.waits.map((wait): Wait => {
    if (!isDue(wait, now)) return wait;
    if (now < wait.expiresAt) {
      const { due, left } = dueReminders(wait.reminders, wait.expiresAt, now);
      const expiresAt = iso(wait.expiresAt);
      for (const at of due) {
        events.push({ type: "wait.expiring", at, payload: { waitId: wait.id, expiresAt, remindBefore: (wait.expiresAt - at) / 1000 } });
      }
      return left.length === 0 ? withoutReminders(wait) : { ...wait, reminders: [...left] };
    }
    const at = wait.expiresAt;
    updatedAt = Math.max(updatedAt, at);
    if (wait.onTimeout !== undefined && wait.onTimeout !== "fail") {
      events.push({ type: "wait.completed", at, payload: { waitId: wait.id, timedOut: true } });
      return { ...withoutReminders(wait), status: "completed", completedAt: at, timedOut: true, result: wait.onTimeout.resolveWith };
    }
    events.push({ type: "wait.timed_out", at, payload: { waitId: wait.id } });
    return { ...withoutReminders(wait), status: "timed_out", completedAt: at };
  });
  // Stable: the events of one moment keep the order of the waits.
  events.sort((a, b) => a.at - b.at);
  return { state: { ...state, waits, updatedAt }, events };
}

/** `wait` without pending reminders: it ended, or they were all sent. */
function withoutReminders<W extends Wait>(wait: W): W {
  if (wait.reminders === undefined) return wait;
  const { reminders: _sent, ...rest } = wait;
  return rest as W;
}

/**
 * The code `message` completes `wait` with, `null` for a message wait without a pattern, or
 * `undefined` when it does not match: another inbox, received before the wait's `since`, no match
 * of its `pattern`, or (an `otp` wait without one) no code found.
 */
function match(wait: Wait, message: Message): string | null | undefined {
  if (wait.inboxId !== message.inboxId) return undefined;
  if (wait.since !== undefined && message.receivedAt < wait.since) return undefined;
  if (wait.pattern !== undefined) return findCode(wait.pattern, message.subject, message.body) ?? undefined;
  if (wait.type === "message") return null;
  return message.otp ?? undefined;
}

/** The oldest pending wait a new message matches, which takes it, with the code it completes with. */
function takerOf(waits: readonly Wait[], message: Message): { wait: Wait; code: string | null } | null {
  for (const wait of waits) {
    if (wait.status !== "pending") continue;
    const code = match(wait, message);
    if (code !== undefined) return { wait, code };
  }
  return null;
}

/**
 * The earliest message no wait took that a new wait matches, with its code: a message that
 * arrived before its wait was created (and not before its `since`) still completes it.
 */
function earliestFor(wait: Wait, messages: readonly Message[]): { message: Message; code: string | null } | null {
  for (const message of messages) {
    if (message.consumedBy !== null) continue;
    const code = match(wait, message);
    if (code !== undefined) return { message, code };
  }
  return null;
}

function completeWait(wait: Wait, message: Message, code: string | null, now: number): Wait {
  return {
    ...withoutReminders(wait),
    status: "completed",
    completedAt: now,
    result: { messageId: message.id, from: message.from, subject: message.subject, body: message.body, code },
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
      const taker = takerOf(waits, message);
      if (taker) {
        const taken: Message = { ...message, consumedBy: taker.wait.id };
        message = taken;
        waits = waits.map((wait) => (wait === taker.wait ? completeWait(wait, taken, taker.code, now) : wait));
        events.push({ type: "wait.completed", at: now, payload: { waitId: taker.wait.id, messageId: message.id } });
      }
      return accept({ ...state, messages: [...state.messages, message], waits, updatedAt: now }, events);
    }
    case "createWait": {
      if (!state.inboxes.some((inbox) => inbox.id === command.inboxId)) {
        return refuse(new InvalidInputError("inboxId", `no inbox ${command.inboxId} in session ${state.id}`));
      }
      const expiresAt = now + command.timeoutSeconds * 1000;
      const problem = command.pattern === undefined ? null : patternProblem(command.pattern);
      if (problem !== null) return refuse(new InvalidInputError("pattern", problem));
      if (command.since !== undefined && command.since > expiresAt) {
        return refuse(new InvalidInputError("since", `must not be after the wait times out (${iso(expiresAt)}): no message could complete it`));
      }
      if (state.waits.length >= LIMITS.waits) return refuse(limit(state, "waits"));
      if (state.steps.length >= LIMITS.steps) return refuse(limit(state, "steps"));
      let wait: Wait = {
        id: command.waitId,
        type: command.waitType,
        inboxId: command.inboxId,
        timeoutSeconds: command.timeoutSeconds,
        createdAt: now,
        expiresAt,
        status: "pending",
        result: null,
        completedAt: null,
        ...waitOptions(command, expiresAt, now),
      };
      const recorded = step(state, now, {
        action: "create_wait",
        input: { type: command.waitType, inboxId: command.inboxId, timeoutSeconds: command.timeoutSeconds, ...stepOptions(wait) },
        output: { id: wait.id },
        durationMs: elapsed(command.startedAt, now),
        error: null,
      });
      const events: EventDraft[] = [{ type: "wait.created", at: now, payload: { waitId: wait.id, inboxId: wait.inboxId } }];
      let messages = state.messages;
      const earlier = earliestFor(wait, messages);
      if (earlier) {
        wait = completeWait(wait, earlier.message, earlier.code, now);
        messages = messages.map((message) => (message === earlier.message ? { ...message, consumedBy: wait.id } : message));
        events.push({ type: "wait.completed", at: now, payload: { waitId: wait.id, messageId: earlier.message.id } });
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
  const waits = next.waits.map((wait): Wait => {
    if (wait.status !== "pending") return wait;
    cancelled.push({ type: "wait.cancelled", at: now, payload: { waitId: wait.id, reason: `session.${next.status}` } });
    return { ...withoutReminders(wait), status: "cancelled", completedAt: now };
  });
  return accept({ ...next, waits }, [...events, ...cancelled]);
}

type WaitOptions = Partial<Pick<Wait, "onTimeout" | "pattern" | "since" | "remindBefore" | "reminders">>;

/** The options a new wait keeps, each only when given (a wait without them holds no more than before). */
function waitOptions(command: Extract<WorkflowCommand, { type: "createWait" }>, expiresAt: number, now: number): WaitOptions {
  const options: WaitOptions = {};
  if (command.onTimeout !== undefined) {
    options.onTimeout = command.onTimeout === "fail" ? "fail" : { resolveWith: command.onTimeout.resolveWith };
  }
  if (command.pattern !== undefined) options.pattern = command.pattern;
  if (command.since !== undefined) options.since = command.since;
  if (command.remindBefore !== undefined) {
    options.remindBefore = [...command.remindBefore];
    const moments = reminderMoments(command.remindBefore, expiresAt, now);
    if (moments.length > 0) options.reminders = moments;
  }
  return options;
}

/** A new wait's options as its `create_wait` step records them: as the wire names them, so a replay shows what was sent. */
function stepOptions(wait: Wait): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (wait.onTimeout !== undefined) input.on_timeout = wait.onTimeout === "fail" ? "fail" : { resolve_with: wait.onTimeout.resolveWith };
  if (wait.pattern !== undefined) input.pattern = wait.pattern;
  if (wait.since !== undefined) input.since = iso(wait.since);
  if (wait.remindBefore !== undefined) input.remind_before = wait.remindBefore;
  return input;
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
  // The earliest over pending waits of the timeout and the first reminder: settle writes at least one event once it passed.
  dueAt: (state) => {
    let due: number | null = null;
    for (const wait of state.waits) if (wait.status === "pending") due = earlier(earlier(due, wait.expiresAt), wait.reminders?.[0]);
    return due;
  },
  status: (state) => state.status,
  timeChangesStatus: false,
});
