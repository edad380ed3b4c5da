import { type Static, Type } from "@sinclair/typebox";
import { closed, Nullable, Timestamp } from "./common.js";

/** How many live webhook endpoints one organization keeps. */
export const WEBHOOK_ENDPOINT_LIMIT = 20;

/** One entry of an endpoint's event filter: `*`, an event type, or a prefix such as `session.*`. */
export const EventFilter = Type.String({
  pattern: "^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?)$",
  maxLength: 100,
  errorMessage: 'must be "*", an event type such as "session.expired", or a prefix such as "session.*"',
});

/** An organization's webhook endpoint: where its events are delivered, signed with `secret`. */
export const WebhookEndpoint = Type.Object({
  id: Type.String(),
  orgId: Type.String(),
  url: Type.String(),
  /** The event types delivered; empty or `*` means all. */
  events: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  /** `whsec_` and the base64 of the signing key. */
  secret: Type.String(),
  status: Type.Union([Type.Literal("active"), Type.Literal("deleted")]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Nullable(Timestamp),
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

/** `POST /v1/webhooks` */
export const CreateWebhookInput = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    events: Type.Optional(Type.Array(EventFilter, { maxItems: 50 })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  closed,
);
export type CreateWebhookInput = Static<typeof CreateWebhookInput>;

/** How one delivery attempt ended: delivered, failed with a retry scheduled, or failed for good. */
export const DeliveryOutcome = Type.Union([Type.Literal("succeeded"), Type.Literal("retrying"), Type.Literal("failed")]);
export type DeliveryOutcome = Static<typeof DeliveryOutcome>;

/** One attempt to deliver one event to one endpoint, as the delivery log keeps it. */
export const DeliveryAttempt = Type.Object({
  /** The same for every attempt of one event to one endpoint. */
  deliveryId: Type.String(),
  /** The event's id, sent as `webhook-id`. */
  eventId: Type.String(),
  eventType: Type.String(),
  /** 1 for the first attempt. */
  attempt: Type.Integer({ minimum: 1 }),
  outcome: DeliveryOutcome,
  /** The receiver's HTTP status, or `null` when no answer came (timeout, refused, unreachable). */
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  durationMs: Type.Integer({ minimum: 0 }),
  at: Timestamp,
  nextAttemptAt: Nullable(Timestamp),
});
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;
