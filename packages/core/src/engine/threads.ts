import { InvalidInputError, NotFoundError } from "../errors.js";
import { isShowable } from "../ids.js";
import { ID_PREFIXES } from "../kinds/index.js";
import { DEFAULT_ACTION_SECONDS, type PendingActionCommand } from "../machines/pending-action.js";
import { type BillablePolicy, createThread, type ThreadCommand, threadMachine } from "../machines/thread.js";
import { LIMITS } from "../schemas/common.js";
import {
  CreateThreadInput,
  DecideActionInput,
  type PendingAction,
  ProposeActionInput,
  type Thread,
  UpdateContextInput,
} from "../schemas/thread.js";
import { ListQuery } from "../schemas/common.js";
import { assertJsonSize, parseInput } from "../validate.js";
import { actionMessage } from "./actions.js";
import type { Page, Records } from "./records.js";

/** The tools that have an executor; `null` when the engine runs none (actions are then completed by the caller). */
export type ExecutableTools = ReadonlySet<string> | null;

/** Conversation threads: context variables, closing, and the pending actions a person decides. */
export function threadOperations(
  records: Records,
  newId: (prefix: string) => string,
  billable: BillablePolicy,
  tools: ExecutableTools = null,
) {
  const command = (orgId: string, id: string, cmd: ThreadCommand) => records.mutate(orgId, "thread", id, threadMachine, cmd);

  function actionOf(thread: Thread, actionId: string): PendingAction {
    const action = thread.actions.find((candidate) => candidate.id === actionId);
    if (!action) throw new NotFoundError(isShowable(actionId) ? `Action ${actionId} not found` : "Action not found");
    return action;
  }

  async function decide(orgId: string, threadId: string, actionId: string, cmd: PendingActionCommand) {
    // A confirmation enqueues the executor's run in the same write that moves the action to `processing`.
    const outbox =
      cmd.type === "confirm" && tools !== null
        ? (thread: Thread, events: readonly { type: string; payload: Record<string, unknown> }[]) =>
            events.some((event) => event.type === "action.confirmed" && event.payload.action_id === actionId)
              ? [actionMessage(orgId, threadId, actionOf(thread, actionId), records.now)]
              : []
        : undefined;
    const thread = await records.mutate(orgId, "thread", threadId, threadMachine, { type: "action", actionId, command: cmd }, outbox ? { outbox } : {});
    return { thread, action: actionOf(thread, actionId) };
  }

  return {
    /** Opens a thread in `active`, with optional context variables and metadata. */
    async create(orgId: string, input: unknown = {}): Promise<Thread> {
      const body = parseInput(CreateThreadInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const { state, events } = createThread(
        {
          id: newId(ID_PREFIXES.thread),
          orgId,
          ...(body.context_variables ? { contextVariables: body.context_variables } : {}),
          ...(body.metadata ? { metadata: body.metadata } : {}),
        },
        records.now,
      );
      return records.insert("thread", state, events, { status: state.status });
    },
    /** Reads a thread as of now: actions past their deadline show as cancelled. */
    async get(orgId: string, id: string): Promise<Thread> {
      return records.view(orgId, "thread", id, threadMachine);
    },
    /** Lists an organization's threads, newest first, optionally by status. */
    async list(orgId: string, query: unknown = {}): Promise<Page<Thread>> {
      return records.list(orgId, "thread", parseInput(ListQuery, query), threadMachine);
    },
    /** Merges context variables (`null` removes a key) while the thread is active. */
    async updateContext(orgId: string, id: string, input: unknown): Promise<Thread> {
      const body = parseInput(UpdateContextInput, input);
      return command(orgId, id, { type: "updateContext", variables: body.context_variables });
    },
    /** Closes the thread: records its duration and billing, and cancels its pending actions. */
    async close(orgId: string, id: string): Promise<Thread> {
      return command(orgId, id, { type: "close", policy: billable });
    },
    /** Proposes a tool call that waits for a person's confirmation until it expires. */
    async proposeAction(orgId: string, threadId: string, input: unknown): Promise<PendingAction> {
      const body = parseInput(ProposeActionInput, input);
      if (tools !== null && !tools.has(body.tool)) {
        const known = [...tools].sort().join(", ");
        throw new InvalidInputError("tool", `no executor is registered for "${body.tool}"${known ? `; registered tools: ${known}` : ""}`);
      }
      assertJsonSize("preview", body.preview, LIMITS.metadataBytes);
      const actionId = newId(ID_PREFIXES.action);
      const expiresAt = records.now + (body.expires_in ?? DEFAULT_ACTION_SECONDS) * 1000;
      const thread = await command(orgId, threadId, {
        type: "proposeAction",
        actionId,
        tool: body.tool,
        preview: body.preview,
        expiresAt,
      });
      return actionOf(thread, actionId);
    },
    /** Reads one action of a thread as of now. */
    async getAction(orgId: string, threadId: string, actionId: string): Promise<PendingAction> {
      return actionOf(await records.view<Thread>(orgId, "thread", threadId, threadMachine), actionId);
    },
    /** The person's answer: `{confirmed: true}` moves the action to `processing` with a callback id; `false` cancels it. */
    async decideAction(orgId: string, threadId: string, actionId: string, input: unknown) {
      const body = parseInput(DecideActionInput, input);
      const cmd: PendingActionCommand = body.confirmed
        ? { type: "confirm", callbackId: newId(ID_PREFIXES.callback) }
        : { type: "cancel" };
      return decide(orgId, threadId, actionId, cmd);
    },
    /** Notes that a worker begins a run of a processing action's executor; answers the action as it now is. */
    async startActionRun(orgId: string, threadId: string, actionId: string) {
      return decide(orgId, threadId, actionId, { type: "start" });
    },
    /** Records what the tool's executor did: success, a failed attempt to retry, or a final failure. */
    async recordActionOutcome(
      orgId: string,
      threadId: string,
      actionId: string,
      outcome: { result: unknown } | { error: string; final: boolean },
    ) {
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
