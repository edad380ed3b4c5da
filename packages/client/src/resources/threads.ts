import { type RequestOptions, segment, type Transport } from "../transport.js";
import type {
  ActionDecision,
  ClosedThread,
  CreateThreadInput,
  DecideActionInput,
  PendingAction,
  ProposeActionInput,
  ProposedAction,
  Thread,
  UpdateContextInput,
} from "../types.js";

const path = (threadId: string, rest = "") => `/api/v1/sessions/${segment(threadId)}${rest}`;

/** Conversation threads (seed 002). */
export function threadsResource(transport: Transport) {
  return {
    /** `POST /api/v1/threads`: starts a thread (sent with an Idempotency-Key). */
    create(input: CreateThreadInput = {}, options?: RequestOptions): Promise<Thread> {
      return transport.request({ method: "POST", path: "/api/v1/threads", body: input, creates: true }, options);
    },
    /** `GET /api/v1/sessions/:thread_id`: the thread with its context variables and pending actions. */
    get(threadId: string, options?: RequestOptions): Promise<Thread> {
      return transport.request({ method: "GET", path: path(threadId) }, options);
    },
    /**
     * `PATCH /api/v1/sessions/:thread_id`: merges `context_variables` (UPPERCASE_SNAKE_CASE keys,
     * within `threadKind.limits` after the update; `null` removes a key).
     */
    updateContext(threadId: string, input: UpdateContextInput, options?: RequestOptions): Promise<Thread> {
      return transport.request({ method: "PATCH", path: path(threadId), body: input }, options);
    },
    /** `POST /api/v1/sessions/:thread_id/close`: closes the thread and cancels its pending actions. */
    close(threadId: string, options?: RequestOptions): Promise<ClosedThread> {
      return transport.request({ method: "POST", path: path(threadId, "/close") }, options);
    },
  };
}

/** Pending actions of threads: proposed by the agent, confirmed or denied by a person (seed 002). */
export function actionsResource(transport: Transport) {
  const decide = (threadId: string, actionId: string, input: DecideActionInput, options?: RequestOptions): Promise<ActionDecision> =>
    transport.request({ method: "POST", path: path(threadId, `/actions/${segment(actionId)}`), body: input }, options);
  return {
    /**
     * `POST /api/v1/sessions/:thread_id/actions`: proposes a tool call (sent with an Idempotency-Key).
     * The answer carries the review links (`review_url`, and `review_urls` per approver) this once.
     */
    propose(threadId: string, input: ProposeActionInput, options?: RequestOptions): Promise<ProposedAction> {
      return transport.request({ method: "POST", path: path(threadId, "/actions"), body: input, creates: true }, options);
    },
    /** `GET /api/v1/sessions/:thread_id/actions/:action_id`: the action with its status, arguments, result and who decided. */
    get(threadId: string, actionId: string, options?: RequestOptions): Promise<PendingAction> {
      return transport.request({ method: "GET", path: path(threadId, `/actions/${segment(actionId)}`) }, options);
    },
    /**
     * `POST /api/v1/sessions/:thread_id/actions/:action_id`: `{ confirmed: true, args? }` (202, with a
     * `callback_id`) or `{ confirmed: false, reason? }` (200, `cancelled`).
     */
    decide,
    /**
     * Confirms: 202 with a `callback_id`; the tool's executor runs asynchronously, with `args` when
     * given (edited arguments, checked against the action's `args_schema`: a 400 names the path and
     * the action stays `pending`).
     */
    confirm(threadId: string, actionId: string, input: { args?: unknown } = {}, options?: RequestOptions): Promise<ActionDecision> {
      return decide(threadId, actionId, input.args !== undefined ? { confirmed: true, args: input.args } : { confirmed: true }, options);
    },
    /** Denies: 200, status `cancelled`, with the `reason` (at most 1,000 characters) kept on the action for the agent to read. */
    deny(threadId: string, actionId: string, input: { reason?: string } = {}, options?: RequestOptions): Promise<ActionDecision> {
      return decide(threadId, actionId, input.reason !== undefined ? { confirmed: false, reason: input.reason } : { confirmed: false }, options);
    },
    /** Cancels: 200, status `cancelled` (a denial without a reason). */
    cancel(threadId: string, actionId: string, options?: RequestOptions): Promise<ActionDecision> {
      return decide(threadId, actionId, { confirmed: false }, options);
    },
  };
}
