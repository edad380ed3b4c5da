import type { DeliveryAttempt, Engine, FormSession, PendingAction, Thread, WebhookEndpoint } from "@agent-sessions/core";

/**
 * What the console reads beyond one page of a list, each read bounded so a page costs the same
 * with a hundred records or a hundred thousand: counts come from list totals (one row read per
 * status), and scans stop after a fixed number of the newest records.
 */
export const BOUNDS = {
  /** Newest active threads scanned for pending actions. */
  threads: 200,
  /** Newest created and open form sessions scanned for those expiring soon. */
  expiring: 200,
  /** Newest form sessions bucketed into the hourly chart. */
  chartSessions: 1000,
  /** Endpoints read for failed deliveries and latency. */
  endpoints: 20,
  /** Newest attempts read per endpoint. */
  attempts: 100,
} as const;

const PAGE = 100;

/** Up to `max` of a list's newest records, read page by page with its cursor. */
async function newest<T>(read: (cursor: string | undefined) => Promise<{ data: T[]; nextCursor: string | null }>, max: number): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  while (out.length < max) {
    const page = await read(cursor);
    out.push(...page.data);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return out.slice(0, max);
}

/** The session kinds the console lists, each with its list operation, its statuses and its URL segment. */
export const LISTED_KINDS = ["form_session", "workflow", "thread", "agent_session"] as const;
/** A kind the console lists. */
export type ListedKind = (typeof LISTED_KINDS)[number];

/** One page of a listed kind's records, newest first. */
export function listKind(engine: Engine, orgId: string, kind: ListedKind, query: { status?: string; limit: number; cursor?: string }) {
  // The status is checked against the kind by the engine, which names the statuses it has.
  const q = query as never;
  switch (kind) {
    case "form_session":
      return engine.formSessions.list(orgId, q);
    case "workflow":
      return engine.workflows.list(orgId, q);
    case "thread":
      return engine.threads.list(orgId, q);
    case "agent_session":
      return engine.agentSessions.list(orgId, q);
  }
}

/** A pending action with the thread it belongs to. */
export interface ThreadedAction {
  readonly threadId: string;
  readonly action: PendingAction;
}

/** The pending actions of the newest active threads, the soonest deadline first. */
export async function pendingActions(engine: Engine, orgId: string): Promise<ThreadedAction[]> {
  const threads = await newest<Thread>(
    (cursor) => engine.threads.list(orgId, { status: "active", limit: PAGE, ...(cursor ? { cursor } : {}) }),
    BOUNDS.threads,
  );
  return threads
    .flatMap((thread) => thread.actions.filter((action) => action.status === "pending").map((action) => ({ threadId: thread.id, action })))
    .sort((a, b) => a.action.expiresAt - b.action.expiresAt);
}

/** Live form sessions whose deadline falls within `withinMs` of `now`, the soonest first. */
export async function expiringSoon(engine: Engine, orgId: string, now: number, withinMs: number): Promise<FormSession[]> {
  const live = await Promise.all(
    (["created", "open"] as const).map((status) =>
      newest<FormSession>((cursor) => engine.formSessions.list(orgId, { status, limit: PAGE, ...(cursor ? { cursor } : {}) }), BOUNDS.expiring),
    ),
  );
  return live
    .flat()
    .filter((session) => session.expiresAt > now && session.expiresAt <= now + withinMs)
    .sort((a, b) => a.expiresAt - b.expiresAt);
}

/** The newest form sessions, for the hourly chart. */
export function recentFormSessions(engine: Engine, orgId: string): Promise<FormSession[]> {
  return newest<FormSession>((cursor) => engine.formSessions.list(orgId, { limit: PAGE, ...(cursor ? { cursor } : {}) }), BOUNDS.chartSessions);
}

/** A delivery attempt with the endpoint it went to. */
export interface EndpointAttempt {
  readonly endpoint: WebhookEndpoint;
  readonly attempt: DeliveryAttempt;
}

/** The newest attempts of the organization's endpoints (a bounded number of each), newest first. */
export async function recentAttempts(engine: Engine, orgId: string): Promise<EndpointAttempt[]> {
  const endpoints = (await engine.webhooks.list(orgId, { limit: BOUNDS.endpoints })).data;
  const logs = await Promise.all(
    endpoints.map(async (endpoint) =>
      (await engine.webhooks.deliveries(orgId, endpoint.id, { limit: BOUNDS.attempts })).data.map((attempt) => ({ endpoint, attempt })),
    ),
  );
  return logs.flat().sort((a, b) => b.attempt.at - a.attempt.at);
}
