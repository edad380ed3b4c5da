import { InvalidInputError, NotFoundError } from "../errors.js";
import { isShowable } from "../ids.js";
import { ID_PREFIXES } from "../kinds/index.js";
import {
  CreateThreadInput,
  DecideActionInput,
  type PendingAction,
  ProposeActionInput,
  type Thread,
  type ThreadStatus,
  threadKind,
  UpdateContextInput,
} from "../kinds/thread.js";
import type { PendingActionCommand } from "../machines/pending-action.js";
import { type BillablePolicy, createThread, type ThreadCommand, threadMachine } from "../machines/thread.js";
import { LIMITS } from "../schemas/common.js";
import { assertJsonSize, parseInput } from "../validate.js";
import type { ListOptions, Page, Records } from "./records.js";

/** The tools that have an executor; `null` when the engine runs none (actions are then completed by the caller). */
export type ExecutableTools = ReadonlySet<string> | null;

/** A thread after a command on one of its actions, and that action as it now is. */
export interface ThreadAction {
  readonly thread: Thread;
  readonly action: PendingAction;
}

/** What a run of an action's executor did: a result, or an error that is `final` or retried. */
export type ActionOutcome = { readonly result: unknown } | { readonly error: string; readonly final: boolean };

/** Conversation threads: context variables, closing, and the pending actions a person decides. */
export interface ThreadOperations {
  /** Opens a thread in `active`, with optional context variables and metadata. */
  create(orgId: string, input?: CreateThreadInput): Promise<Thread>;
  /** Reads a thread as of now: actions past their deadline show as cancelled. */
  get(orgId: string, id: string): Promise<Thread>;
  /** Lists an organization's threads, newest first, optionally by status. */
  list(orgId: string, query?: ListOptions<ThreadStatus>): Promise<Page<Thread>>;
  /** Merges context variables (`null` removes a key) while the thread is active. */
  updateContext(orgId: string, id: string, input: UpdateContextInput): Promise<Thread>;
  /** Closes the thread: records its duration and billing, and cancels its pending actions. */
  close(orgId: string, id: string): Promise<Thread>;
  /** Proposes a tool call that waits for a person's confirmation until it expires. */
  proposeAction(orgId: string, threadId: string, input: ProposeActionInput): Promise<PendingAction>;
  /** Reads one action of a thread as of now. */
  getAction(orgId: string, threadId: string, actionId: string): Promise<PendingAction>;
  /** The person's answer: `{ confirmed: true }` moves the action to `processing` with a callback id; `false` cancels it. */
  decideAction(orgId: string, threadId: string, actionId: string, input: DecideActionInput): Promise<ThreadAction>;
  /** Notes that a worker begins a run of a processing action's executor; answers the action as it now is. */
  startActionRun(orgId: string, threadId: string, actionId: string): Promise<ThreadAction>;
  /** Records what the tool's executor did: success, a failed attempt to retry, or a final failure. */
  recordActionOutcome(orgId: string, threadId: string, actionId: string, outcome: ActionOutcome): Promise<ThreadAction>;
}

export function threadOperations(
  records: Records,
  newId: (prefix: string) => string,
  billable: BillablePolicy,
  tools: ExecutableTools = null,
): ThreadOperations {
  const command = (orgId: string, id: string, cmd: ThreadCommand) => records.mutate(orgId, "thread", id, threadMachine, cmd);

  function actionOf(thread: Thread, actionId: string): PendingAction {
    const action = thread.actions.find((candidate) => candidate.id === actionId);
    if (!action) throw new NotFoundError(isShowable(actionId) ? `Action ${actionId} not found` : "Action not found");
    return action;
  }

  async function decide(orgId: string, threadId: string, actionId: string, cmd: PendingActionCommand): Promise<ThreadAction> {
    const thread = await command(orgId, threadId, { type: "action", actionId, command: cmd });
    return { thread, action: actionOf(thread, actionId) };
  }

  return {
    async create(orgId, input = {}) {
      const body = parseInput(CreateThreadInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const created = createThread(
        {
          id: newId(ID_PREFIXES.thread),
          orgId,
          ...(body.contextVariables ? { contextVariables: body.contextVariables } : {}),
          ...(body.metadata ? { metadata: body.metadata } : {}),
        },
        records.now,
      );
      if (!created.ok) throw created.error;
      return records.insert("thread", created.state, created.events, { status: created.state.status });
    },
    async get(orgId, id) {
      return records.view(orgId, "thread", id, threadMachine);
    },
    async list(orgId, query = {}) {
      return records.list(orgId, "thread", query, threadMachine);
    },
    async updateContext(orgId, id, input) {
      const body = parseInput(UpdateContextInput, input);
      return command(orgId, id, { type: "updateContext", variables: body.contextVariables });
    },
    async close(orgId, id) {
      return command(orgId, id, { type: "close", policy: billable });
    },
    async proposeAction(orgId, threadId, input) {
      const body = parseInput(ProposeActionInput, input);
      if (tools !== null && !tools.has(body.tool)) {
        const known = [...tools].sort().join(", ");
        throw new InvalidInputError("tool", `no executor is registered for "${body.tool}"${known ? `; registered tools: ${known}` : ""}`);
      }
      assertJsonSize("preview", body.preview, LIMITS.metadataBytes);
      const actionId = newId(ID_PREFIXES.action);
      const expiresAt = records.now + (body.expiresIn ?? threadKind.limits.defaultActionExpiresInSeconds) * 1000;
      const thread = await command(orgId, threadId, {
        type: "proposeAction",
        actionId,
        tool: body.tool,
        preview: body.preview,
        expiresAt,
      });
      return actionOf(thread, actionId);
    },
    async getAction(orgId, threadId, actionId) {
      return actionOf(await records.view<Thread>(orgId, "thread", threadId, threadMachine), actionId);
    },
    async decideAction(orgId, threadId, actionId, input) {
      const body = parseInput(DecideActionInput, input);
      // With executors, a confirmation enqueues the executor's run in the write that moves the action to `processing`.
      const cmd: PendingActionCommand = body.confirmed
        ? { type: "confirm", callbackId: newId(ID_PREFIXES.callback), execute: tools !== null }
        : { type: "cancel" };
      return decide(orgId, threadId, actionId, cmd);
    },
    async startActionRun(orgId, threadId, actionId) {
      return decide(orgId, threadId, actionId, { type: "start" });
    },
    async recordActionOutcome(orgId, threadId, actionId, outcome) {
      const cmd: PendingActionCommand =
        "result" in outcome
          ? { type: "succeed", result: outcome.result }
          : outcome.final
            ? { type: "fail", error: outcome.error }
            : { type: "attemptFailed", error: outcome.error };
      return decide(orgId, threadId, actionId, cmd);
    },
  };
}
