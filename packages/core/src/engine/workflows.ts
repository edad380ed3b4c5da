import { NotFoundError } from "../errors.js";
import { isPrefixedId, isShowable } from "../ids.js";
import { ID_PREFIXES } from "../kinds/index.js";
import { createWorkflow, type WorkflowCommand, workflowMachine } from "../machines/workflow.js";
import { LIMITS, ListQuery } from "../schemas/common.js";
import {
  CreateInboxInput,
  CreateWaitInput,
  CreateWorkflowInput,
  type Inbox,
  type Message,
  PostMessageInput,
  RecordStepInput,
  type Step,
  type Wait,
  type Workflow,
} from "../schemas/workflow.js";
import { assertJsonSize, parseInput } from "../validate.js";
import type { Page, Records } from "./records.js";
import type { EventWatch, WatchOptions } from "./watch.js";

/** The events that end a pending wait. */
const WAIT_ENDINGS = new Set(["wait.completed", "wait.timed_out", "wait.cancelled"]);

/** Workflow sessions with their inboxes, messages, waits and recorded steps. */
export function workflowOperations(
  records: Records,
  newId: (prefix: string) => string,
  watch: (orgId: string, id: string, options: WatchOptions) => EventWatch,
) {
  const command = (orgId: string, id: string, cmd: WorkflowCommand) => records.mutate(orgId, "workflow", id, workflowMachine, cmd);

  /** The session that owns an inbox or a wait, found through the alias its creation registered. */
  async function owner(orgId: string, childId: string, what: "Inbox" | "Wait"): Promise<string> {
    if (!isPrefixedId(childId, what === "Inbox" ? ID_PREFIXES.inbox : ID_PREFIXES.wait)) throw notFoundChild(what, childId);
    const id = await records.store.resolveAlias(orgId, childId);
    if (id === null) throw notFoundChild(what, childId);
    return id;
  }

  /** Applies a command that creates an inbox or a wait, registering its id as an alias of the session. */
  function addChild(orgId: string, sessionId: string, childId: string, cmd: WorkflowCommand): Promise<Workflow> {
    return records.mutate(orgId, "workflow", sessionId, workflowMachine, cmd, { aliases: () => [childId] });
  }

  /** A wait as of now with its session, and the session's last stored event, from one read: a watch from there misses nothing. */
  async function readWait(orgId: string, waitId: string): Promise<{ wait: Wait & { sessionId: string }; seq: number }> {
    const sessionId = await owner(orgId, waitId, "Wait");
    const record = await records.load(orgId, "workflow", sessionId);
    const state = workflowMachine.settle(record.data as Workflow, records.now).state;
    const wait = state.waits.find((candidate) => candidate.id === waitId);
    if (!wait) throw notFoundChild("Wait", waitId);
    return { wait: { ...wait, sessionId }, seq: record.eventCount };
  }

  return {
    /** Creates a workflow session in `active`. */
    async create(orgId: string, input: unknown): Promise<Workflow> {
      const body = parseInput(CreateWorkflowInput, input);
      if (body.metadata) assertJsonSize("metadata", body.metadata, LIMITS.metadataBytes);
      const { state, events } = createWorkflow(
        { id: newId(ID_PREFIXES.workflow), orgId, name: body.name, ...(body.metadata ? { metadata: body.metadata } : {}) },
        records.now,
      );
      return records.insert("workflow", state, events, { status: state.status });
    },
    /** Reads a session as of now, waits past their timeout shown as timed out. */
    async get(orgId: string, id: string): Promise<Workflow> {
      return records.view(orgId, "workflow", id, workflowMachine);
    },
    /** Lists an organization's workflow sessions, newest first, optionally by status. */
    async list(orgId: string, query: unknown = {}): Promise<Page<Workflow>> {
      return records.list(orgId, "workflow", parseInput(ListQuery, query), workflowMachine);
    },
    /** Marks the session completed; repeating it is harmless. */
    async complete(orgId: string, id: string): Promise<Workflow> {
      return command(orgId, id, { type: "complete" });
    },
    /** Marks the session failed with a reason. */
    async fail(orgId: string, id: string, reason: string): Promise<Workflow> {
      return command(orgId, id, { type: "fail", message: reason });
    },
    /** Records a step for replay; a critical error moves the session to `failed`. */
    async recordStep(orgId: string, id: string, input: unknown): Promise<Step> {
      const body = parseInput(RecordStepInput, input);
      const state = await command(orgId, id, { type: "recordStep", ...body });
      return state.steps[state.steps.length - 1]!;
    },
    /** The recorded steps, in order, for a replay. */
    async replay(orgId: string, id: string): Promise<Step[]> {
      return (await records.view<Workflow>(orgId, "workflow", id)).steps;
    },
    /** Creates an inbox in an active session; recorded as a `create_inbox` step. */
    async createInbox(orgId: string, sessionId: string, input: unknown): Promise<Inbox> {
      const startedAt = records.now;
      const body = parseInput(CreateInboxInput, input);
      const inboxId = newId(ID_PREFIXES.inbox);
      const state = await addChild(orgId, sessionId, inboxId, { type: "createInbox", inboxId, ttlSeconds: body.ttlSeconds, startedAt });
      return state.inboxes.find((inbox) => inbox.id === inboxId)!;
    },
    /** Reads an inbox with the messages it received. */
    async getInbox(orgId: string, inboxId: string): Promise<{ inbox: Inbox; sessionId: string; messages: Message[] }> {
      const sessionId = await owner(orgId, inboxId, "Inbox");
      const state = await records.view<Workflow>(orgId, "workflow", sessionId, workflowMachine);
      const inbox = state.inboxes.find((candidate) => candidate.id === inboxId);
      if (!inbox) throw notFoundChild("Inbox", inboxId);
      return { inbox, sessionId, messages: state.messages.filter((message) => message.inboxId === inboxId) };
    },
    /** Delivers a message to an inbox; it completes the oldest pending wait it matches. */
    async postMessage(orgId: string, inboxId: string, input: unknown): Promise<Message> {
      const body = parseInput(PostMessageInput, input);
      const sessionId = await owner(orgId, inboxId, "Inbox");
      const messageId = newId(ID_PREFIXES.message);
      const state = await command(orgId, sessionId, { type: "receiveMessage", messageId, inboxId, ...body });
      return state.messages.find((message) => message.id === messageId)!;
    },
    /** Creates a wait on an inbox; a message already there that matches completes it at once. */
    async createWait(orgId: string, sessionId: string, input: unknown): Promise<Wait> {
      const startedAt = records.now;
      const body = parseInput(CreateWaitInput, input);
      const waitId = newId(ID_PREFIXES.wait);
      const state = await addChild(orgId, sessionId, waitId, {
        type: "createWait",
        waitId,
        waitType: body.type,
        inboxId: body.inboxId,
        timeoutSeconds: body.timeoutSeconds,
        startedAt,
      });
      return state.waits.find((wait) => wait.id === waitId)!;
    },
    /** Reads a wait as of now: past its timeout and still pending, it shows `timed_out`. */
    async getWait(orgId: string, waitId: string): Promise<Wait & { sessionId: string }> {
      return (await readWait(orgId, waitId)).wait;
    },
    /**
     * Reads a wait once it is no longer pending (completed, timed out at its deadline, cancelled),
     * or as it is when `signal` aborts: the long-poll of `GET /api/v1/waits/:id?timeout=`.
     */
    async waitFor(orgId: string, waitId: string, options: { signal?: AbortSignal } = {}): Promise<Wait & { sessionId: string }> {
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
