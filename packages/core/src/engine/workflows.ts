import { InvalidInputError, NotFoundError } from "../errors.js";
import { isPrefixedId, isShowable } from "../ids.js";
import { ID_PREFIXES } from "../kinds/index.js";
import {
  CreateInboxInput,
  CreateWaitInput,
  CreateWorkflowInput,
  FailWorkflowInput,
  type Inbox,
  type InboxWithMessages,
  type Message,
  PostMessageInput,
  RecordStepInput,
  type Step,
  type Wait,
  type WaitWithSession,
  type Workflow,
  type WorkflowStatus,
  workflowKind,
} from "../kinds/workflow.js";
import { createWorkflow, type WorkflowCommand, workflowMachine } from "../machines/workflow.js";
import { LIMITS, parseDateTime } from "../schemas/common.js";
import { assertJsonSize, parseInput } from "../validate.js";
import type { ListOptions, Page, Records } from "./records.js";
import type { EventWatch, WatchOptions } from "./watch.js";

/** The events that end a pending wait. */
const WAIT_ENDINGS = new Set(["wait.completed", "wait.timed_out", "wait.cancelled"]);

/** Workflow sessions (seed 001) with their inboxes, messages, waits and recorded steps. */
export interface WorkflowOperations {
  /** Creates a workflow session in `active`. */
  create(orgId: string, input: CreateWorkflowInput): Promise<Workflow>;
  /** Reads a session as of now, waits past their timeout shown as timed out. */
  get(orgId: string, id: string): Promise<Workflow>;
  /** Lists an organization's workflow sessions, newest first, optionally by status. */
  list(orgId: string, query?: ListOptions<WorkflowStatus>): Promise<Page<Workflow>>;
  /** Marks the session completed; repeating it is harmless. Its pending waits are cancelled. */
  complete(orgId: string, id: string): Promise<Workflow>;
  /** Marks the session failed with a reason. Its pending waits are cancelled. */
  fail(orgId: string, id: string, input: FailWorkflowInput): Promise<Workflow>;
  /** Records a step for replay; a critical error moves the session to `failed`. */
  recordStep(orgId: string, id: string, input: RecordStepInput): Promise<Step>;
  /** The recorded steps, in order, for a replay. */
  replay(orgId: string, id: string): Promise<Step[]>;
  /** Creates an inbox in an active session; recorded as a `create_inbox` step. */
  createInbox(orgId: string, sessionId: string, input: CreateInboxInput): Promise<Inbox>;
  /** Reads an inbox with its session's id and the messages it received. */
  getInbox(orgId: string, inboxId: string): Promise<InboxWithMessages>;
  /** Delivers a message to an inbox; it completes the oldest pending wait it matches. */
  postMessage(orgId: string, inboxId: string, input: PostMessageInput): Promise<Message>;
  /** Creates a wait on an inbox of the session; a message already there that matches completes it at once. */
  createWait(orgId: string, sessionId: string, input: CreateWaitInput): Promise<Wait>;
  /** Reads a wait as of now, with its session's id: past its timeout and still pending, it shows `timed_out`. */
  getWait(orgId: string, waitId: string): Promise<WaitWithSession>;
  /**
   * Reads a wait once it is no longer pending (completed, timed out at its deadline, cancelled),
   * or as it is when `signal` aborts: the long-poll of `GET /api/v1/waits/:id?timeout=`.
   */
  waitFor(orgId: string, waitId: string, options?: { signal?: AbortSignal }): Promise<WaitWithSession>;
}

export function workflowOperations(
  records: Records,
  newId: (prefix: string) => string,
  watch: (orgId: string, id: string, options: WatchOptions) => EventWatch,
): WorkflowOperations {
  const command = (orgId: string, id: string, cmd: WorkflowCommand) => records.mutate(orgId, "workflow", id, workflowMachine, cmd);

  /** The session that owns an inbox or a wait, found through the alias the machine asked for at its creation. */
  async function owner(orgId: string, childId: string, what: "Inbox" | "Wait"): Promise<string> {
    if (!isPrefixedId(childId, what === "Inbox" ? ID_PREFIXES.inbox : ID_PREFIXES.wait)) throw notFoundChild(what, childId);
    const id = await records.store.resolveAlias(orgId, childId);
    if (id === null) throw notFoundChild(what, childId);
    return id;
  }

  /** A wait as of now with its session, and the session's last stored event, from one read: a watch from there misses nothing. */
  async function readWait(orgId: string, waitId: string): Promise<{ wait: WaitWithSession; seq: number }> {
    const sessionId = await owner(orgId, waitId, "Wait");
    const record = await records.load(orgId, "workflow", sessionId);
    const state = workflowMachine.settle(record.data as Workflow, records.now).state;
    const wait = state.waits.find((candidate) => candidate.id === waitId);
    if (!wait) throw notFoundChild("Wait", waitId);
    return { wait: { ...wait, sessionId }, seq: record.eventCount };
  }

  return {
    async create(orgId, input) {
      const body = parseInput(CreateWorkflowInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const { state, events } = createWorkflow(
        { id: newId(ID_PREFIXES.workflow), orgId, name: body.name, ...(body.metadata ? { metadata: body.metadata } : {}) },
        records.now,
      );
      return records.insert("workflow", state, events, { status: state.status });
    },
    async get(orgId, id) {
      return records.view(orgId, "workflow", id, workflowMachine);
    },
    async list(orgId, query = {}) {
      return records.list(orgId, "workflow", query, workflowMachine);
    },
    async complete(orgId, id) {
      return command(orgId, id, { type: "complete" });
    },
    async fail(orgId, id, input) {
      const body = parseInput(FailWorkflowInput, input);
      return command(orgId, id, { type: "fail", message: body.reason });
    },
    async recordStep(orgId, id, input) {
      const body = parseInput(RecordStepInput, input);
      const state = await command(orgId, id, { type: "recordStep", ...body });
      return state.steps[state.steps.length - 1]!;
    },
    async replay(orgId, id) {
      return (await records.view<Workflow>(orgId, "workflow", id)).steps;
    },
    async createInbox(orgId, sessionId, input) {
      const startedAt = records.now;
      const body = parseInput(CreateInboxInput, input);
      const inboxId = newId(ID_PREFIXES.inbox);
      const state = await command(orgId, sessionId, { type: "createInbox", inboxId, ttlSeconds: body.ttlSeconds, startedAt });
      return state.inboxes.find((inbox) => inbox.id === inboxId)!;
    },
    async getInbox(orgId, inboxId) {
      const sessionId = await owner(orgId, inboxId, "Inbox");
      const state = await records.view<Workflow>(orgId, "workflow", sessionId, workflowMachine);
      const inbox = state.inboxes.find((candidate) => candidate.id === inboxId);
      if (!inbox) throw notFoundChild("Inbox", inboxId);
      return { inbox, sessionId, messages: state.messages.filter((message) => message.inboxId === inboxId) };
    },
    async postMessage(orgId, inboxId, input) {
      const body = parseInput(PostMessageInput, input);
      const sessionId = await owner(orgId, inboxId, "Inbox");
      const messageId = newId(ID_PREFIXES.message);
      const state = await command(orgId, sessionId, { type: "receiveMessage", messageId, inboxId, ...body });
      return state.messages.find((message) => message.id === messageId)!;
    },
    async createWait(orgId, sessionId, input) {
      const startedAt = records.now;
      const body = parseInput(CreateWaitInput, input);
      const { onTimeout, pattern, since, remindBefore } = body;
      if (onTimeout !== undefined && onTimeout !== "fail") {
        assertJsonSize("onTimeout.resolve_with", onTimeout.resolve_with, workflowKind.limits.resolveWithBytes);
      }
      const sinceMs = since === undefined ? undefined : parseDateTime(since);
      if (sinceMs === null) throw new InvalidInputError("since", `'${since}' names no moment from 1970 on`);
      const waitId = newId(ID_PREFIXES.wait);
      const state = await command(orgId, sessionId, {
        type: "createWait",
        waitId,
        waitType: body.type,
        inboxId: body.inboxId,
        timeoutSeconds: body.timeoutSeconds,
        ...(onTimeout === undefined ? {} : { onTimeout: onTimeout === "fail" ? "fail" : { resolveWith: onTimeout.resolve_with } }),
        ...(pattern === undefined ? {} : { pattern }),
        ...(sinceMs === undefined ? {} : { since: sinceMs }),
        ...(remindBefore === undefined ? {} : { remindBefore }),
        startedAt,
      });
      return state.waits.find((wait) => wait.id === waitId)!;
    },
    async getWait(orgId, waitId) {
      return (await readWait(orgId, waitId)).wait;
    },
    async waitFor(orgId, waitId, options = {}) {
      const { wait, seq } = await readWait(orgId, waitId);
      if (wait.status !== "pending" || options.signal?.aborted) return wait;
      for await (const event of watch(orgId, wait.sessionId, { afterSeq: seq, signal: options.signal })) {
        if (WAIT_ENDINGS.has(event.type) && event.payload.waitId === waitId) break;
      }
      return (await readWait(orgId, waitId)).wait;
    },
  };
}

function notFoundChild(what: "Inbox" | "Wait", id: string): NotFoundError {
  return new NotFoundError(isShowable(id) ? `${what} ${id} not found` : `${what} not found`);
}
