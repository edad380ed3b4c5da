import type { Engine } from "../../engine/engine.js";
import type { Page } from "../../engine/records.js";
import { isAgentSessionsError } from "../../errors.js";
import type { Expect } from "../runner.js";
import { runtimeAgent } from "./agents.js";
import { type EngineModel, type Entry, type Happening, KINDS, type Kind, STATUSES, type Timeline, type Verdict } from "./model.js";

/** The system under test of one run: an engine on the shared store, in an organization of its own. */
export interface Real {
  readonly engine: Engine;
  readonly org: string;
  readonly clock: { now: number };
  /** Ids of records of another organization, by kind: this run must never find them. */
  readonly strangers: Readonly<Record<Kind | "inbox" | "wait" | "action", string>>;
  /** Errors the engine's worker or listeners reported: there must be none. */
  readonly problems: unknown[];
  /** Event types the engine emitted in-process, by record id. */
  readonly emitted: Map<string, string[]>;
  /** The test runner's `expect`. */
  readonly expect: Expect;
}

/** The engine's answer: a value, or the code and message of an `AgentSessionsError` (anything else fails the test). */
export type Answer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string; readonly message: string };

export async function answer<T>(call: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (isAgentSessionsError(error)) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

/** Fails unless the engine answered as the model did; on success hands the answer to the model (ids the engine made). */
export function expectVerdict<T>(what: string, verdict: Verdict, got: Answer<T>): void {
  if (verdict.ok && got.ok) {
    (verdict.bind as ((value: T) => void) | undefined)?.(got.value);
    return;
  }
  if (!verdict.ok && !got.ok && verdict.code === got.code) return;
  const engine = got.ok ? "success" : `${got.code} (${got.message})`;
  throw new Error(`${what}: the model answers ${verdict.ok ? "success" : verdict.code}, the engine ${engine}`);
}

/** A record of the run's organization as the model keeps it: everything but the organization. */
export function project(r: Real, value: unknown): unknown {
  const { orgId, ...rest } = value as { orgId?: string };
  if (orgId !== r.org) throw new Error(`a record of organization ${orgId} was answered to ${r.org}`);
  return rest;
}

/** Reads one record of one kind by id, as the engine offers it for that kind. */
export const read: { [K in Kind]: (r: Real, id: string) => Promise<unknown> } = {
  form: (r, id) => r.engine.forms.get(r.org, id),
  form_session: (r, id) => r.engine.formSessions.get(r.org, id),
  workflow: (r, id) => r.engine.workflows.get(r.org, id),
  thread: (r, id) => r.engine.threads.get(r.org, id),
  agent: (r, id) => r.engine.agents.get(r.org, id),
  agent_session: (r, id) => r.engine.agentSessions.get(r.org, id),
};

/** Lists one kind of record, as the engine offers it for that kind. */
export const list: { [K in Kind]: (r: Real, query: object) => Promise<Page<{ id: string }>> } = {
  form: (r, query) => r.engine.forms.list(r.org, query),
  form_session: (r, query) => r.engine.formSessions.list(r.org, query),
  workflow: (r, query) => r.engine.workflows.list(r.org, query),
  thread: (r, query) => r.engine.threads.list(r.org, query),
  agent: (r, query) => r.engine.agents.list(r.org, query),
  agent_session: (r, query) => r.engine.agentSessions.list(r.org, query),
};

/** Compares a timeline with the model's, event type and time: the written events in order (a group written at once in any order). */
function expectTimeline(r: Real, what: string, events: readonly Happening[], log: Timeline): void {
  const actual = events.map(({ type, at }) => ({ type, at }));
  const expected: Happening[] = [];
  const byType = (a: Happening, b: Happening) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.at - b.at);
  for (const part of log.written) {
    if (!Array.isArray(part)) {
      expected.push(part);
      continue;
    }
    // A group is compared as a bag: it and its slice of the engine's timeline are both sorted.
    const at = expected.length;
    expected.push(...[...part].sort(byType));
    actual.splice(at, part.length, ...actual.slice(at, at + part.length).sort(byType));
  }
  r.expect(actual, `${what}: timeline`).toEqual(expected);
}

/** Reads one record every way the engine offers and compares each with the model. */
export async function checkRecord(m: EngineModel, r: Real, kind: Kind, entry: Entry, deep = false): Promise<void> {
  const { id } = entry.state;
  const what = `${kind} ${id}`;
  r.expect(project(r, await read[kind](r, id)), `${what}: get`).toEqual(entry.state);
  await checkTimeline(r, kind, entry);
  const state = entry.state as Entry<Kind>["state"] & Record<string, unknown>;
  if (kind === "form" && typeof state.slug === "string") {
    r.expect(project(r, await r.engine.forms.get(r.org, state.slug)), `${what}: get by slug`).toEqual(entry.state);
  }
  if (kind === "form_session") {
    r.expect(project(r, await r.engine.formSessions.hosted(id)), `${what}: the hosted page's read`).toEqual(entry.state);
  }
  if (kind === "workflow") {
    const workflow = (entry as Entry<"workflow">).state;
    r.expect(await r.engine.workflows.replay(r.org, id), `${what}: replay`).toEqual(workflow.steps);
    if (!deep) return;
    for (const inbox of workflow.inboxes) {
      const messages = workflow.messages.filter((message) => message.inboxId === inbox.id);
      r.expect(await r.engine.workflows.getInbox(r.org, inbox.id), `${what}: inbox ${inbox.id}`).toEqual({ inbox, sessionId: id, messages });
    }
    for (const wait of workflow.waits) {
      r.expect(await r.engine.workflows.getWait(r.org, wait.id), `${what}: wait ${wait.id}`).toEqual({ ...wait, sessionId: id });
    }
  }
  if (kind === "thread" && deep) {
    for (const action of (entry as Entry<"thread">).state.actions) {
      r.expect(await r.engine.threads.getAction(r.org, id, action.id), `${what}: action ${action.id}`).toEqual(action);
    }
  }
  if (kind === "agent_session" && deep) {
    const session = (entry as Entry<"agent_session">).state;
    const agent = m.records.agent.find((candidate) => candidate.state.id === session.agentId)!.state;
    r.expect(await r.engine.agentSessions.runtimeAgent(r.org, id), `${what}: runtime agent`).toEqual(runtimeAgent(agent, session));
  }
}

/**
 * A record's timeline: its events (type and time) as the model's, numbered 1, 2, 3…, each emitted
 * in-process exactly once, and the same read from any `afterSeq`, with or without a `limit`.
 */
async function checkTimeline(r: Real, kind: Kind, entry: Entry): Promise<void> {
  const { id } = entry.state;
  const what = `${kind} ${id}`;
  const events = await r.engine.timeline(r.org, id);
  expectTimeline(r, what, events, entry.log);
  r.expect(
    events.map((event) => [event.seq, event.recordId, event.orgId, event.kind]),
    `${what}: timeline numbering`,
  ).toEqual(events.map((_, index) => [index + 1, id, r.org, kind]));
  r.expect(r.emitted.get(id) ?? [], `${what}: events emitted in-process`).toEqual(events.map((event) => event.type));
  const half = Math.floor(events.length / 2);
  r.expect(await r.engine.timeline(r.org, id, { afterSeq: half }), `${what}: timeline after ${half}`).toEqual(events.slice(half));
  const two = await r.engine.timeline(r.org, id, { afterSeq: half, limit: 2 });
  r.expect(two, `${what}: 2 events after ${half}`).toEqual(events.slice(half, half + 2));
}

/** Compares one page of a list (offset, or every page by cursor when `limit` is small and `cursor` set) with the model's. */
export async function checkList(
  m: EngineModel,
  r: Real,
  kind: Kind,
  query: { status?: string; limit?: number; offset?: number; walk?: boolean } = {},
): Promise<void> {
  const { status, limit = 100, offset = 0, walk = false } = query;
  // A list of form sessions by status first writes every expiry that is due (up to 100 a list;
  // a run holds fewer form sessions), as the worker would: the model takes them as written.
  if (kind === "form_session" && status !== undefined) for (const entry of m.records.form_session) m.flush(entry);
  const filter = status === undefined ? {} : { status };
  const what = `list of ${kind}${status === undefined ? "" : ` with status ${status}`}`;
  const expected = m.page(kind, { ...filter, limit: walk ? Number.MAX_SAFE_INTEGER : limit, offset: walk ? 0 : offset });
  const pages: Page<{ id: string }>[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<{ id: string }> = await list[kind](r, { ...filter, limit, ...(walk ? (cursor ? { cursor } : {}) : { offset }) });
    pages.push(page);
    cursor = walk ? page.nextCursor : null;
    if (pages.length > 200) throw new Error(`${what}: the cursor never ends`);
  } while (cursor);
  const data = pages.flatMap((page) => page.data);
  const { entries } = expected;
  r.expect({ ids: data.map((item) => item.id), totals: pages.map((page) => page.total) }, what).toEqual({
    ids: entries.map((entry) => entry.state.id),
    totals: pages.map(() => expected.total),
  });
  for (const [index, item] of data.entries()) r.expect(project(r, item), `${what}: item ${index}`).toEqual(entries[index]!.state);
}

/** After a command: the records it touched, and their kind's lists with and without their status. */
export async function checkTouched(m: EngineModel, r: Real, kind: Kind, entry: Entry | undefined): Promise<void> {
  r.expect(r.problems, "errors the engine reported in the background").toEqual([]);
  if (!entry) return;
  await checkRecord(m, r, kind, entry);
  await checkList(m, r, kind);
  await checkList(m, r, kind, { status: m.status(kind, entry) });
}

/** At the end of a run: every record read every way, and every list with every status. */
export async function checkEverything(m: EngineModel, r: Real): Promise<void> {
  for (const kind of KINDS) {
    for (const entry of m.records[kind]) await checkRecord(m, r, kind, entry as Entry, true);
    await checkList(m, r, kind);
    for (const status of STATUSES[kind]) await checkList(m, r, kind, { status });
  }
  r.expect(r.problems, "errors the engine reported in the background").toEqual([]);
}
