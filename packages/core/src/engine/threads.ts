import { constantTimeEqual, toBase64Url, toHex } from "../bytes.js";
import { InvalidInputError, NotFoundError } from "../errors.js";
import { isPrefixedId, isShowable } from "../ids.js";
import { ID_PREFIXES } from "../kinds/index.js";
import {
  CreateThreadInput,
  DecideActionInput,
  type PendingAction,
  ProposeActionInput,
  type ProposedAction,
  ReviewDecisionInput,
  type Reviewer,
  type Thread,
  type ThreadStatus,
  threadKind,
  UpdateContextInput,
} from "../kinds/thread.js";
import { checkArgs, checkArgsSchema, type Decider, type PendingActionCommand } from "../machines/pending-action.js";
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

/** Who decides over the API: by default the organization, as `decided_by`. */
export interface DecisionOptions {
  /** `decided_by` of the decision: the router passes `<org>/<key label>`. Default: the organization's id. */
  readonly decidedBy?: string;
}

/** A decision posted on a review link: approve (with the arguments as edited) or deny (with a reason). */
export type ReviewDecision = ReviewDecisionInput;

/** What a review link opens: the action, its thread's id, and whose link it is. */
export interface ReviewView {
  readonly orgId: string;
  readonly threadId: string;
  readonly action: PendingAction;
  /** The approver the link belongs to; `null` for the action's own link. */
  readonly approver: string | null;
  /** Whether a post on this link can decide now: the action is pending, and this link has not decided yet. */
  readonly canDecide: boolean;
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
  /**
   * Proposes a tool call that waits for a person's confirmation until it expires. The answer
   * holds the tokens of its review links (`reviewTokens`), shown this once: only their hashes are kept.
   */
  proposeAction(orgId: string, threadId: string, input: ProposeActionInput): Promise<ProposedAction>;
  /** Reads one action of a thread as of now. */
  getAction(orgId: string, threadId: string, actionId: string): Promise<PendingAction>;
  /**
   * The person's answer: `{ confirmed: true, args? }` moves the action to `processing` with a
   * callback id (and the edited arguments, checked against its schema); `{ confirmed: false,
   * reason? }` cancels it. Recorded as decided via `api` by `options.decidedBy`.
   */
  decideAction(orgId: string, threadId: string, actionId: string, input: DecideActionInput, options?: DecisionOptions): Promise<ThreadAction>;
  /**
   * Opens a review link by its token (no organization: the token is the capability). A token
   * that names no link is not found. Needs a store with `capabilities.unscopedReads`.
   */
  reviewOpen(token: string): Promise<ReviewView>;
  /**
   * Decides on a review link: refused as a conflict when this link already decided or the action
   * is no longer pending (expired: as expired), and as invalid input naming the path when edited
   * arguments break the action's schema (the action stays pending).
   */
  reviewDecide(token: string, decision: ReviewDecision): Promise<ReviewView>;
  /** Notes that a worker begins a run of a processing action's executor; answers the action as it now is. */
  startActionRun(orgId: string, threadId: string, actionId: string): Promise<ThreadAction>;
  /** Records what the tool's executor did: success, a failed attempt to retry, or a final failure. */
  recordActionOutcome(orgId: string, threadId: string, actionId: string, outcome: ActionOutcome): Promise<ThreadAction>;
}

const encoder = new TextEncoder();
const TOKEN = /^([a-z]+_[0-9a-f]{32})\.([a-z]+_[0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

/** SHA-256 of a review link's secret, as 64 hex digits: all a thread keeps of it. */
async function hashSecret(secret: string): Promise<string> {
  return toHex(new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", encoder.encode(secret))));
}

/** A fresh secret of `threadKind.limits.reviewSecretBytes` random bytes, base64url (43 characters for 32 bytes). */
function newSecret(): string {
  return toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(threadKind.limits.reviewSecretBytes)));
}

/** A review link's token: the thread and action it decides, and its secret. */
function parseToken(token: string): { threadId: string; actionId: string; secret: string } | null {
  const match = TOKEN.exec(token);
  if (!match || !isPrefixedId(match[1], ID_PREFIXES.thread) || !isPrefixedId(match[2], ID_PREFIXES.action)) return null;
  return { threadId: match[1]!, actionId: match[2]!, secret: match[3]! };
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

  /** The thread, action and link a review token names, or not found (the same for every way it can fail). */
  async function openReview(token: string): Promise<{ thread: Thread; action: PendingAction; reviewer: Reviewer }> {
    const parsed = typeof token === "string" ? parseToken(token) : null;
    if (!parsed) throw new NotFoundError("Review link not found");
    let thread: Thread;
    try {
      thread = await records.view<Thread>(null, "thread", parsed.threadId, threadMachine);
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError("Review link not found");
      throw error;
    }
    const action = thread.actions.find((candidate) => candidate.id === parsed.actionId);
    const hash = await hashSecret(parsed.secret);
    // Every link of the action is compared, each in time that depends only on its length.
    let reviewer: Reviewer | undefined;
    for (const candidate of action?.reviewers ?? []) if (constantTimeEqual(candidate.hash, hash) && reviewer === undefined) reviewer = candidate;
    if (!action || !reviewer) throw new NotFoundError("Review link not found");
    return { thread, action, reviewer };
  }

  function reviewView(thread: Thread, action: PendingAction, reviewer: Reviewer): ReviewView {
    const decided = reviewer.approver !== null && action.approvals?.some((approval) => approval.approver === reviewer.approver) === true;
    const showsOnly = reviewer.approver === null && action.approvers !== undefined;
    return {
      orgId: thread.orgId,
      threadId: thread.id,
      action,
      approver: reviewer.approver,
      canDecide: action.status === "pending" && !decided && !showsOnly,
    };
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
      if (body.args !== undefined) assertJsonSize("args", body.args, LIMITS.metadataBytes);
      if (body.argsSchema !== undefined) {
        assertJsonSize("argsSchema", body.argsSchema, LIMITS.metadataBytes);
        checkArgsSchema(body.argsSchema);
        checkArgs(body.argsSchema, body.args ?? null);
      }
      const approvers = body.approvers ?? [];
      const required = body.approvalsRequired ?? 1;
      if (required > Math.max(1, approvers.length)) {
        throw new InvalidInputError("approvalsRequired", `must be at most the number of approvers (${approvers.length})`);
      }
      const actionId = newId(ID_PREFIXES.action);
      // One secret per link: the action's own, then each approver's. The thread keeps their hashes.
      const secrets = [newSecret(), ...approvers.map(() => newSecret())];
      const hashes = await Promise.all(secrets.map(hashSecret));
      const reviewers: Reviewer[] = hashes.map((hash, index) => ({ approver: index === 0 ? null : approvers[index - 1]!, hash }));
      const expiresInMs = (body.expiresIn ?? threadKind.limits.defaultActionExpiresInSeconds) * 1000;
      const thread = await command(orgId, threadId, {
        type: "proposeAction",
        actionId,
        tool: body.tool,
        preview: body.preview,
        expiresInMs,
        reviewers,
        ...(body.args !== undefined ? { args: body.args } : {}),
        ...(body.argsSchema !== undefined ? { argsSchema: body.argsSchema } : {}),
        ...(approvers.length > 0 ? { approvers, approvalsRequired: required } : {}),
        ...(body.onExpire !== undefined ? { onExpire: body.onExpire } : {}),
        ...(body.remindBefore !== undefined ? { remindBefore: body.remindBefore } : {}),
      });
      const token = (secret: string) => `${thread.id}.${actionId}.${secret}`;
      const reviewTokens = {
        link: token(secrets[0]!),
        approvers: Object.fromEntries(approvers.map((approver, index) => [approver, token(secrets[index + 1]!)])),
      };
      return { ...actionOf(thread, actionId), reviewTokens };
    },
    async getAction(orgId, threadId, actionId) {
      return actionOf(await records.view<Thread>(orgId, "thread", threadId, threadMachine), actionId);
    },
    async decideAction(orgId, threadId, actionId, input, options = {}) {
      const body = parseInput(DecideActionInput, input);
      if (body.confirmed && body.reason !== undefined) throw new InvalidInputError("reason", "comes only with confirmed: false");
      if (!body.confirmed && body.args !== undefined) throw new InvalidInputError("args", "come only with confirmed: true");
      if (body.args !== undefined) assertJsonSize("args", body.args, LIMITS.metadataBytes);
      const decider: Decider = { by: options.decidedBy ?? orgId, via: "api" };
      // With executors, a confirmation enqueues the executor's run in the write that moves the action to `processing`.
      const cmd: PendingActionCommand = body.confirmed
        ? {
            type: "confirm",
            callbackId: newId(ID_PREFIXES.callback),
            execute: tools !== null,
            decider,
            ...(body.args !== undefined ? { args: body.args } : {}),
          }
        : { type: "cancel", decider, ...(body.reason !== undefined ? { text: body.reason } : {}) };
      return decide(orgId, threadId, actionId, cmd);
    },
    async reviewOpen(token) {
      const { thread, action, reviewer } = await openReview(token);
      return reviewView(thread, action, reviewer);
    },
    async reviewDecide(token, decision) {
      const body = parseInput(ReviewDecisionInput, decision);
      if (body.approve && body.reason !== undefined) throw new InvalidInputError("reason", "comes only with a denial");
      if (body.args !== undefined) assertJsonSize("args", body.args, LIMITS.metadataBytes);
      // The machine finds the link by its hash inside the write: no read before it.
      const parsed = typeof token === "string" ? parseToken(token) : null;
      if (!parsed) throw new NotFoundError("Review link not found");
      const hash = await hashSecret(parsed.secret);
      const cmd: PendingActionCommand = {
        type: "review",
        hash,
        approve: body.approve,
        callbackId: newId(ID_PREFIXES.callback),
        execute: tools !== null,
        ...(body.args !== undefined ? { args: body.args } : {}),
        ...(body.reason !== undefined ? { text: body.reason } : {}),
      };
      let after: Thread;
      try {
        after = await records.mutate<Thread, ThreadCommand>(null, "thread", parsed.threadId, threadMachine, {
          type: "action",
          actionId: parsed.actionId,
          command: cmd,
        });
      } catch (error) {
        // No such thread, action or link: told alike, as a link that does not exist.
        if (error instanceof NotFoundError) throw new NotFoundError("Review link not found");
        throw error;
      }
      const action = actionOf(after, parsed.actionId);
      return reviewView(after, action, action.reviewers!.find((reviewer) => reviewer.hash === hash)!);
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
