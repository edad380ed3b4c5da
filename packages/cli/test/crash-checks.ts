// What the crash tests check after the kills: every acknowledged write is there as it was
// acknowledged, no record is half-written, lists agree with reads, and timelines run 1..n.
import { eventId, idTime } from "@agent-sessions/core";
import { mapLimit, read, readAll } from "./crash-harness.js";
import type { CrashLoad, FormModel, WorkflowModel } from "./crash-load.js";

/** An event of a timeline, as `GET /api/v1/sessions/:id/timeline` answers it. */
export interface TimelineEvent {
  readonly id: string;
  readonly timestamp: string;
  readonly type: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** A committed event and the record whose timeline holds it. */
export interface CommittedEvent extends TimelineEvent {
  readonly recordId: string;
}

/** What the checks found: each problem in a sentence, and every committed event by id. */
export interface Findings {
  readonly problems: string[];
  readonly committed: Map<string, CommittedEvent>;
  readonly records: number;
}

/** The timeline's events in order, with a problem for each break of seq 1..n or a logical event written twice. */
export async function readTimeline(base: string, id: string, problems: string[]): Promise<TimelineEvent[]> {
  const { events } = (await read(base, `/api/v1/sessions/${id}/timeline`)) as { events: TimelineEvent[] };
  const seen = new Set<string>();
  events.forEach((event, index) => {
    // An event's id derives from its record, its seq and its time: event n must be seq n.
    if (eventId(id, index + 1, idTime(event.id)) !== event.id) problems.push(`${id}: event ${index + 1} (${event.type}) is not seq ${index + 1}`);
    const key = `${event.type} ${JSON.stringify(event.payload)}`;
    if (seen.has(key)) problems.push(`${id}: ${event.type} is in the timeline twice`);
    seen.add(key);
  });
  return events;
}

/**
 * Reads back every session the lists hold and every one the load saw acknowledged; the problems
 * name the record and what is wrong with it.
 */
export async function checkDurability(base: string, load: CrashLoad, formId: string): Promise<Findings> {
  const problems: string[] = [];
  const committed = new Map<string, CommittedEvent>();
  const keep = (recordId: string, events: readonly TimelineEvent[]) => {
    for (const event of events) {
      if (committed.has(event.id)) problems.push(`${recordId}: event ${event.id} is also in ${committed.get(event.id)!.recordId}'s timeline`);
      committed.set(event.id, { ...event, recordId });
    }
  };
  keep(formId, await readTimeline(base, formId, problems));
  const forms = await listed(base, "/v1/sessions", load.forms, problems);
  const formModels = new Map(load.forms.map((model) => [model.id, model]));
  await mapLimit([...forms.values()], 16, async (summary) =>
    keep(summary.id, await checkFormSession(base, summary, formModels.get(summary.id), problems)),
  );
  const workflows = await listed(base, "/api/v1/sessions", load.workflows, problems);
  const workflowModels = new Map(load.workflows.map((model) => [model.id, model]));
  await mapLimit([...workflows.values()], 16, async (summary) =>
    keep(summary.id, await checkWorkflow(base, summary, workflowModels.get(summary.id), problems)),
  );
  return { problems, committed, records: forms.size + workflows.size };
}

/** A list paged to the end, by id; a problem when its total disagrees or an acknowledged id is missing. */
async function listed(base: string, path: string, acked: readonly { id: string }[], problems: string[]): Promise<Map<string, any>> {
  const { items, total } = await readAll(base, path);
  const byId = new Map(items.map((item) => [item.id as string, item]));
  if (items.length !== total || byId.size !== total)
    problems.push(`GET ${path}: total ${total}, but the pages held ${items.length} items, ${byId.size} distinct`);
  for (const { id } of acked) if (!byId.has(id)) problems.push(`GET ${path}: acknowledged ${id} is not listed`);
  return byId;
}

/** The timeline each form session status has after the load's writes. */
const FORM_TIMELINES: Record<string, string> = {
  created: "session.created",
  submitted: "session.created session.opened submission.created",
};

async function checkFormSession(base: string, summary: any, model: FormModel | undefined, problems: string[]): Promise<TimelineEvent[]> {
  const id = summary.id as string;
  const session = await read(base, `/v1/sessions/${id}`);
  const events = await readTimeline(base, id, problems);
  const types = events.map((event) => event.type).join(" ");
  if (session.status !== summary.status) problems.push(`${id}: listed as ${summary.status}, read as ${session.status}`);
  if (FORM_TIMELINES[session.status] !== types) problems.push(`${id}: status ${session.status} with the timeline ${types}`);
  const submitted = events.find((event) => event.type === "submission.created");
  if (submitted && JSON.stringify(submitted.payload.values) !== JSON.stringify(session.submission?.values)) {
    problems.push(`${id}: submission ${JSON.stringify(session.submission?.values)} but the event holds ${JSON.stringify(submitted.payload.values)}`);
  }
  if (!model) return events;
  if (session.metadata?.tag !== model.tag) problems.push(`${id}: metadata ${JSON.stringify(session.metadata)}, acknowledged with tag ${model.tag}`);
  const allowed = model.pendingSubmit ? ["created", "submitted"] : [model.status];
  if (!allowed.includes(session.status)) problems.push(`${id}: acknowledged ${model.status}, read as ${session.status}`);
  if (session.status === "submitted" && JSON.stringify(session.submission.values) !== JSON.stringify(model.values)) {
    problems.push(`${id}: submitted ${JSON.stringify(model.values)}, read ${JSON.stringify(session.submission.values)}`);
  }
  return events;
}

/** The timelines the workflow scenario can leave, at any step. */
const WORKFLOW_TIMELINE = /^session\.created( inbox\.created( message\.received){0,2}( session\.completed)?)?$/;

async function checkWorkflow(base: string, summary: any, model: WorkflowModel | undefined, problems: string[]): Promise<TimelineEvent[]> {
  const id = summary.id as string;
  const session = await read(base, `/api/v1/sessions/${id}`);
  const events = await readTimeline(base, id, problems);
  const types = events.map((event) => event.type).join(" ");
  const payloads = (type: string, field: string) => events.filter((event) => event.type === type).map((event) => String(event.payload[field]));
  if (session.status !== summary.status) problems.push(`${id}: listed as ${summary.status}, read as ${session.status}`);
  if (!WORKFLOW_TIMELINE.test(types)) problems.push(`${id}: a timeline the scenario cannot leave: ${types}`);
  if ((session.status === "completed") !== types.endsWith("session.completed"))
    problems.push(`${id}: status ${session.status} with the timeline ${types}`);
  const inboxes = payloads("inbox.created", "inboxId");
  if (JSON.stringify(session.inboxes) !== JSON.stringify(inboxes)) problems.push(`${id}: inboxes ${session.inboxes}, timeline ${inboxes}`);
  const messages = payloads("message.received", "messageId");
  const held = inboxes.length > 0 ? (await read(base, `/api/v1/inboxes/${inboxes[0]}`)).messages.map((message: { id: string }) => message.id) : [];
  if (JSON.stringify(held) !== JSON.stringify(messages)) problems.push(`${id}: the inbox holds ${held}, the timeline received ${messages}`);
  if (!model) return events;
  if (session.name !== model.tag) problems.push(`${id}: named ${session.name}, acknowledged as ${model.tag}`);
  if (model.inboxId !== null && inboxes[0] !== model.inboxId) problems.push(`${id}: acknowledged inbox ${model.inboxId}, timeline ${inboxes}`);
  const lost = model.messages.filter((message) => !messages.includes(message));
  if (lost.length > 0) problems.push(`${id}: acknowledged messages ${lost} are gone`);
  if (messages.length > model.messages.length + (model.pending === "message" ? 1 : 0)) problems.push(`${id}: messages nobody sent: ${messages}`);
  const status = model.completed ? "completed" : "active";
  if (session.status !== status && !(model.pending === "complete" && session.status === "completed")) {
    problems.push(`${id}: acknowledged ${status}, read as ${session.status}`);
  }
  return events;
}
