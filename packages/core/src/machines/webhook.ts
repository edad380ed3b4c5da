import type { DeliveryAttempt, DeliveryOutcome, WebhookEndpoint } from "../kinds/webhook.js";
import { accept, defineMachine, isoOrNull, type Machine } from "../machine.js";
import type { EventDraft } from "../schemas/event.js";

/** Commands a webhook endpoint answers to. */
export type WebhookCommand =
  | { readonly type: "delete" }
  /** Appends delivery attempts to the endpoint's timeline, its delivery log. */
  | { readonly type: "log"; readonly attempts: readonly DeliveryAttempt[] };

/** The timeline event type of each delivery outcome. */
const DELIVERY_EVENT: Record<DeliveryOutcome, string> = {
  succeeded: "delivery.succeeded",
  retrying: "delivery.attempt_failed",
  failed: "delivery.failed",
};

/** True for the event types of an endpoint's delivery log. */
export function isDeliveryEvent(type: string): boolean {
  return type === "delivery.succeeded" || type === "delivery.attempt_failed" || type === "delivery.failed";
}

/** A delivery attempt as a timeline event of its endpoint. */
export function deliveryEvent(webhookId: string, attempt: DeliveryAttempt): EventDraft {
  return {
    type: DELIVERY_EVENT[attempt.outcome],
    at: attempt.at,
    payload: {
      webhook_id: webhookId,
      delivery_id: attempt.deliveryId,
      event_id: attempt.eventId,
      event_type: attempt.eventType,
      attempt: attempt.attempt,
      status_code: attempt.statusCode,
      error: attempt.error,
      duration_ms: attempt.durationMs,
      next_attempt_at: isoOrNull(attempt.nextAttemptAt),
    },
  };
}

/** Reads a delivery attempt back from its timeline event. */
export function deliveryAttemptOf(event: { type: string; at: number; payload: Readonly<Record<string, unknown>> }): DeliveryAttempt {
  const p = event.payload;
  const outcome: DeliveryOutcome = event.type === "delivery.succeeded" ? "succeeded" : event.type === "delivery.failed" ? "failed" : "retrying";
  return {
    deliveryId: String(p.delivery_id),
    eventId: String(p.event_id),
    eventType: String(p.event_type),
    attempt: Number(p.attempt),
    outcome,
    statusCode: typeof p.status_code === "number" ? p.status_code : null,
    error: typeof p.error === "string" ? p.error : null,
    durationMs: Number(p.duration_ms),
    at: event.at,
    nextAttemptAt: typeof p.next_attempt_at === "string" ? Date.parse(p.next_attempt_at) : null,
  };
}

/** True when an endpoint's filter lets `type` through: empty, `*`, the type itself, or a `prefix.*` of it. */
export function matchesFilter(filter: readonly string[], type: string): boolean {
  if (filter.length === 0) return true;
  for (const entry of filter) {
    if (entry === "*" || entry === type) return true;
    if (entry.endsWith(".*") && type.startsWith(entry.slice(0, -1))) return true;
  }
  return false;
}

/**
 * The webhook endpoint machine: `active → deleted`. Its timeline holds the delivery log, which
 * stays readable (and writable by deliveries still in flight) after the endpoint is deleted.
 */
export const webhookMachine: Machine<WebhookEndpoint, WebhookCommand> = defineMachine({
  settle: (state) => ({ state, events: [] }),
  apply(state, command, now) {
    switch (command.type) {
      case "delete":
        if (state.status === "deleted") return accept(state);
        return accept({ ...state, status: "deleted", deletedAt: now, updatedAt: now }, [
          { type: "webhook.deleted", at: now, payload: { webhook_id: state.id } },
        ]);
      case "log":
        return accept(
          state,
          command.attempts.map((attempt) => deliveryEvent(state.id, attempt)),
        );
    }
  },
  dueAt: () => null,
  status: (state) => state.status,
  timeChangesStatus: false,
});
