import type { Message, Step, Wait, WaitResult } from "../../kinds/workflow.js";
import { LIMITS } from "../../schemas/common.js";
import { type EngineModel, type Entry, no, ok, SECOND, type States, type Verdict } from "./model.js";

// The model's rules for workflow sessions (seed 001): active → completed | failed, with inboxes
// that take messages until their time to live ends, waits that a matching message completes, and
// recorded steps.

type Workflow = Entry<"workflow"> | undefined;

export function createWorkflow(m: EngineModel, input: { name: string; metadata?: object }, valid: boolean): Verdict {
  if (!valid) return no("invalid_input");
  const state = {
    id: "",
    name: input.name,
    status: "active",
    metadata: input.metadata ?? {},
    createdAt: m.now,
    updatedAt: m.now,
    ...{ completedAt: null, failedAt: null, failure: null, inboxes: [], waits: [], messages: [], steps: [] },
  };
  return m.add("workflow", state as States["workflow"], "session.created");
}

/** What every command on a workflow checks once its input is valid: found, and still active. */
function refused(m: EngineModel, entry: Workflow): Verdict | null {
  if (!entry) return no("not_found");
  return entry.state.status === "active" ? null : refuse(m, entry, "illegal_transition");
}

/** A refusal by the workflow's rules: what time did to it is written all the same. */
function refuse(m: EngineModel, entry: NonNullable<Workflow>, code: "illegal_transition" | "invalid_input" | "expired"): Verdict {
  m.flush(entry);
  return no(code);
}

/** A step the engine records for an operation of its own (`create_inbox`, `create_wait`); its output names the id made. */
function recordOwn(m: EngineModel, state: States["workflow"], action: string, input: object): Step {
  const step = { index: state.steps.length, at: m.now, action, input, output: { id: "" }, durationMs: 0, error: null };
  state.steps.push(step);
  return step;
}

export function createInbox(m: EngineModel, entry: Workflow, ttlSeconds: number, valid: boolean): Verdict {
  if (!valid) return no("invalid_input");
  const refusal = refused(m, entry);
  if (refusal) return refusal;
  const { state } = entry!;
  const inbox = { id: "", ttlSeconds, createdAt: m.now, expiresAt: m.now + ttlSeconds * SECOND };
  state.inboxes.push(inbox);
  const step = recordOwn(m, state, "create_inbox", { ttlSeconds });
  m.write(entry!, "inbox.created");
  return ok((answer: { id: string }) => void (inbox.id = (step.output as { id: string }).id = answer.id));
}

/**
 * The code a message completes a wait with (`null` for a message wait without a pattern), or
 * `undefined` when it does not match: another inbox, before the wait's `since`, no match of its
 * pattern in the subject or else the body (read here with JavaScript's own RegExp, an engine of
 * its own: the run's patterns mean the same in both), or no code for an otp wait.
 */
function codeOf(wait: Wait, message: Message): string | null | undefined {
  if (wait.inboxId !== message.inboxId) return undefined;
  if (wait.since !== undefined && message.receivedAt < wait.since) return undefined;
  if (wait.pattern !== undefined) {
    for (const text of [message.subject, message.body]) {
      const code = new RegExp(wait.pattern).exec(text)?.[1];
      if (code !== undefined) return code;
    }
    return undefined;
  }
  return wait.type === "message" ? null : (message.otp ?? undefined);
}

function complete(m: EngineModel, wait: Wait, message: Message, code: string | null): void {
  const { id: messageId, from, subject, body } = message;
  delete wait.reminders;
  Object.assign(wait, { status: "completed", completedAt: m.now, result: { messageId, from, subject, body, code } });
}

/** A wait as `engine.workflows.createWait` takes it, options included (`since` as text). */
export interface CreateWaitCall {
  type: Wait["type"];
  inboxId: string;
  timeoutSeconds: number;
  onTimeout?: "fail" | { resolve_with: unknown };
  pattern?: string;
  since?: string;
  remindBefore?: number[];
}

/**
 * A wait on one of the workflow's inboxes; a message already there that it matches (received no
 * earlier than its `since`) and nothing consumed completes it.
 */
export function createWait(
  m: EngineModel,
  entry: Workflow,
  input: CreateWaitCall,
  valid: boolean,
  /** Whether the machine takes the pattern (RE2 syntax, one capture group): the model does not parse it. */
  patternValid = true,
): Verdict {
  if (!valid) return no("invalid_input");
  const refusal = refused(m, entry);
  if (refusal) return refusal;
  const { state } = entry!;
  if (!state.inboxes.some((inbox) => inbox.id === input.inboxId)) return refuse(m, entry!, "invalid_input");
  const expiresAt = m.now + input.timeoutSeconds * SECOND;
  if (!patternValid) return refuse(m, entry!, "invalid_input");
  const since = input.since === undefined ? undefined : Date.parse(input.since);
  if (since !== undefined && since > expiresAt) return refuse(m, entry!, "invalid_input");
  const { type, inboxId, timeoutSeconds, onTimeout, pattern, remindBefore } = input;
  const wait: Wait = { id: "", type, inboxId, timeoutSeconds, createdAt: m.now, expiresAt, status: "pending", result: null, completedAt: null };
  const stepInput: Record<string, unknown> = { type, inboxId, timeoutSeconds };
  if (onTimeout !== undefined) {
    wait.onTimeout = onTimeout === "fail" ? "fail" : { resolveWith: onTimeout.resolve_with };
    stepInput.on_timeout = onTimeout;
  }
  if (pattern !== undefined) wait.pattern = stepInput.pattern = pattern;
  if (since !== undefined) {
    wait.since = since;
    stepInput.since = new Date(since).toISOString();
  }
  if (remindBefore !== undefined) {
    wait.remindBefore = stepInput.remind_before = remindBefore;
    const moments = remindBefore.map((seconds) => expiresAt - seconds * SECOND).filter((at) => at > m.now);
    if (moments.length > 0) wait.reminders = moments.sort((a, b) => a - b);
  }
  state.waits.push(wait);
  const step = recordOwn(m, state, "create_wait", stepInput);
  let code: string | null | undefined;
  const earlier = state.messages.find((message) => message.consumedBy === null && (code = codeOf(wait, message)) !== undefined);
  if (earlier) complete(m, wait, earlier, code as string | null);
  m.write(entry!, "wait.created", ...(earlier ? ["wait.completed"] : []));
  return ok((answer: { id: string }) => {
    wait.id = (step.output as { id: string }).id = answer.id;
    if (earlier) earlier.consumedBy = answer.id;
  });
}

/** A message into an inbox (of any workflow of the organization) completes the first pending wait it matches. */
export function postMessage(m: EngineModel, inboxId: string, content: { from: string; subject: string; body: string; otp: string | null }): Verdict {
  const entry = m.records.workflow.find((workflow) => workflow.state.inboxes.some((inbox) => inbox.id === inboxId));
  const refusal = refused(m, entry);
  if (refusal) return refusal;
  const { state } = entry!;
  if (m.now >= state.inboxes.find((inbox) => inbox.id === inboxId)!.expiresAt) return refuse(m, entry!, "expired");
  const message: Message = { id: "", inboxId, ...content, receivedAt: m.now, consumedBy: null };
  state.messages.push(message);
  let code: string | null | undefined;
  const waiting = state.waits.find((wait) => wait.status === "pending" && (code = codeOf(wait, message)) !== undefined);
  if (waiting) {
    message.consumedBy = waiting.id;
    complete(m, waiting, message, code as string | null);
  }
  m.write(entry!, "message.received", ...(waiting ? ["wait.completed"] : []));
  return ok((answer: { id: string }) => {
    message.id = answer.id;
    if (waiting) (waiting.result as WaitResult).messageId = answer.id;
  });
}

/** Completes the workflow, or fails it with `reason`: repeating either is harmless, the other is refused. */
export function finishWorkflow(m: EngineModel, entry: Workflow, reason?: string): Verdict {
  if (!entry) return no("not_found");
  const target = reason === undefined ? "completed" : "failed";
  if (entry.state.status === target) {
    m.flush(entry);
    return ok();
  }
  if (entry.state.status !== "active") return refuse(m, entry, "illegal_transition");
  if (reason === undefined) Object.assign(entry.state, { status: target, completedAt: m.now });
  else Object.assign(entry.state, { status: target, failedAt: m.now, failure: { message: reason, step: null } });
  m.write(entry, `session.${target}`, ...cancelWaits(m, entry.state));
  return ok();
}

/** A step the caller records; a critical error fails the workflow. */
export function recordStep(
  m: EngineModel,
  entry: Workflow,
  input: { action: string; input?: unknown; output?: unknown; durationMs: number; error?: { message: string; critical?: boolean } },
  valid: boolean,
): Verdict {
  if (!valid) return no("invalid_input");
  const refusal = refused(m, entry);
  if (refusal) return refusal;
  const { state } = entry!;
  const error = input.error ? { message: input.error.message, critical: input.error.critical === true } : null;
  const index = state.steps.length;
  const { action, durationMs } = input;
  const step = { index, at: m.now, action, input: input.input ?? null, output: input.output ?? null, durationMs, error };
  const failed = error?.critical ? { status: "failed" as const, failedAt: m.now, failure: { message: error.message, step: index } } : {};
  // A record is at most 1 MB of JSON, or the write is refused whole: even what time did stays unwritten.
  // (Only big step inputs come near it in this test.)
  const bytes = new TextEncoder().encode(JSON.stringify({ ...state, ...failed, orgId: m.orgId, steps: [...state.steps, step] })).length;
  if (bytes > LIMITS.recordBytes) return no("payload_too_large");
  state.steps.push(step);
  if (!error?.critical) {
    m.write(entry!, "step.recorded");
    return ok();
  }
  Object.assign(state, failed);
  m.write(entry!, "step.recorded", "session.failed", ...cancelWaits(m, state));
  return ok();
}

/** A finished workflow waits for nothing: its pending waits are cancelled. */
function cancelWaits(m: EngineModel, state: States["workflow"]): string[] {
  const pending = state.waits.filter((wait) => wait.status === "pending");
  for (const wait of pending) {
    delete wait.reminders;
    Object.assign(wait, { status: "cancelled", completedAt: m.now });
  }
  return pending.map(() => "wait.cancelled");
}
