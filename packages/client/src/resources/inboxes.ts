import { type RequestOptions, segment, type Transport } from "../transport.js";
import type { CreateInboxInput, CreateWaitInput, Inbox, Message, PostMessageInput, Wait } from "../types.js";

/** Inboxes of workflow sessions (seed 001). */
export function inboxesResource(transport: Transport) {
  return {
    /** `POST /api/v1/sessions/:id/inboxes`: creates an inbox in a session (sent with an Idempotency-Key). */
    create(sessionId: string, input: CreateInboxInput, options?: RequestOptions): Promise<Inbox> {
      return transport.request({ method: "POST", path: `/api/v1/sessions/${segment(sessionId)}/inboxes`, body: input, creates: true }, options);
    },
    /** `GET /api/v1/inboxes/:id`: an inbox with the messages it received. */
    get(id: string, options?: RequestOptions): Promise<Inbox & { messages: Message[] }> {
      return transport.request({ method: "GET", path: `/api/v1/inboxes/${segment(id)}` }, options);
    },
  };
}

/** Messages delivered to inboxes, e.g. from a mail provider's webhook. */
export function messagesResource(transport: Transport) {
  return {
    /** `POST /api/v1/inboxes/:id/messages`: delivers a message (sent with an Idempotency-Key). */
    create(inboxId: string, input: PostMessageInput, options?: RequestOptions): Promise<Message> {
      return transport.request({ method: "POST", path: `/api/v1/inboxes/${segment(inboxId)}/messages`, body: input, creates: true }, options);
    },
  };
}

/** Options of `waits.waitFor`. */
export interface WaitForOptions {
  /** Give up after this many seconds and resolve with the wait as it is (still `pending`). Default: until it ends. */
  timeoutSeconds?: number;
  /** Seconds each long-poll is held open. Default: 25. */
  pollSeconds?: number;
  signal?: AbortSignal;
}

/** Waits for a message or a one-time code (seed 001). */
export function waitsResource(transport: Transport) {
  const get = (id: string, query: { timeout?: number }, options?: RequestOptions): Promise<Wait> =>
    transport.request({ method: "GET", path: `/api/v1/waits/${segment(id)}`, query, holdSeconds: query.timeout ?? 0 }, options);
  return {
    /** `POST /api/v1/sessions/:id/waits`: waits for a message or an OTP in an inbox (sent with an Idempotency-Key). */
    create(sessionId: string, input: CreateWaitInput, options?: RequestOptions): Promise<Wait> {
      return transport.request({ method: "POST", path: `/api/v1/sessions/${segment(sessionId)}/waits`, body: input, creates: true }, options);
    },
    /** `GET /api/v1/waits/:id`, or with `timeout` a long-poll held at most that many seconds while the wait is pending. */
    get(id: string, query: { timeout?: number } = {}, options?: RequestOptions): Promise<Wait> {
      return get(id, query, options);
    },
    /**
     * Resolves once the wait has completed (with its `result`) or timed out, long-polling again
     * as often as needed; after `timeoutSeconds`, resolves with the wait still `pending`.
     */
    async waitFor(id: string, options: WaitForOptions = {}): Promise<Wait> {
      const deadline = options.timeoutSeconds === undefined ? Infinity : Date.now() + options.timeoutSeconds * 1000;
      const pollSeconds = options.pollSeconds ?? 25;
      const request = options.signal ? { signal: options.signal } : {};
      for (;;) {
        const left = Math.max(0, (deadline - Date.now()) / 1000);
        const wait = await get(id, { timeout: Math.min(pollSeconds, left) }, request);
        if (wait.status !== "pending" || Date.now() >= deadline) return wait;
      }
    },
  };
}
