import { ConflictError } from "../errors.js";
import type { DeliveryAttempt, DeliveryOutcome, WebhookEndpoint } from "../kinds/webhook.js";
import { accept, defineMachine, type Machine, refuse } from "../machine.js";
import type { OutboxMessage } from "../store.js";

/**
 * Commands a webhook endpoint answers to: `delete`, and `send_test`, which enqueues the delivery
 * of a test event to this endpoint alone (the engine builds it), with no event of its own.
 */
export type WebhookCommand = { readonly type: "delete" } | { readonly type: "send_test"; readonly delivery: OutboxMessage };

/**
 * True for the event types an earlier release appended to an endpoint's timeline as its delivery
 * log; attempts now have a log of their own (`Store.logDeliveries`), and such events are read back
 * after it.
 */
export function isDeliveryEvent(type: string): boolean {
  return type === "delivery.succeeded" || type === "delivery.attempt_failed" || type === "delivery.failed";
}

/** Reads a delivery attempt back from a timeline event an earlier release logged. */
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
    instance: null,
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

/** The webhook endpoint machine: `active → deleted`. Its delivery log is kept apart, by the store. */
export const webhookMachine: Machine<WebhookEndpoint, WebhookCommand> = defineMachine({
  settle: (state) => ({ state, events: [] }),
  apply(state, command, now) {
    switch (command.type) {
      case "delete":
        if (state.status === "deleted") return accept(state);
        return accept({ ...state, status: "deleted", deletedAt: now, updatedAt: now }, [
          { type: "webhook.deleted", at: now, payload: { webhook_id: state.id } },
        ]);
      case "send_test":
        if (state.status === "deleted") return refuse(new ConflictError(`webhook ${state.id} is deleted`));
        return accept(state, [], { outbox: [command.delivery] });
    }
  },
  dueAt: () => null,
  status: (state) => state.status,
  timeChangesStatus: false,
});
