import { type Static, Type } from "@sinclair/typebox";
import { iso, isoOrNull } from "../machine.js";
import { closed, DateTime, Nullable, Timestamp } from "../schemas/common.js";
import { defineKind, statusSchema, wireInput } from "./kind.js";

/** What one organization's webhook endpoints hold at most. */
const LIMITS = {
  /** Live endpoints of one organization, held under any concurrency. */
  liveEndpoints: 20,
  /** Characters of an endpoint's URL. */
  urlChars: 2048,
  /** Entries of an endpoint's event filter. */
  eventFilters: 50,
  /** Characters of one entry of the event filter. */
  eventFilterChars: 100,
  /** Characters of an endpoint's description. */
  descriptionChars: 500,
} as const;

/** Every status of a webhook endpoint: deliveries go to `active` ones only. */
export const WEBHOOK_STATUSES = ["active", "deleted"] as const;
export const WebhookStatus = statusSchema(WEBHOOK_STATUSES);
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];
/** The status of an endpoint that receives deliveries, and the only one reads and lists show. */
export const LIVE_WEBHOOK_STATUS = "active" as const satisfies WebhookStatus;

/** One entry of an endpoint's event filter: `*`, an event type, or a prefix such as `session.*`. */
export const EventFilter = Type.String({
  pattern: "^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?)$",
  maxLength: LIMITS.eventFilterChars,
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
  status: WebhookStatus,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  deletedAt: Nullable(Timestamp),
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

/** `engine.webhooks.create`: where to deliver, which events, and what the endpoint is for. */
export const CreateWebhookInput = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: LIMITS.urlChars }),
    events: Type.Optional(Type.Array(EventFilter, { maxItems: LIMITS.eventFilters })),
    description: Type.Optional(Type.String({ maxLength: LIMITS.descriptionChars })),
  },
  closed,
);
export type CreateWebhookInput = Static<typeof CreateWebhookInput>;

/**
 * Where one delivery attempt stands: delivered, failed with a retry scheduled, failed for good,
 * started and still in its sender's hands, or `unknown`: its sender stopped (a crash, a kill)
 * after starting it and before logging how it ended, so the receiver may or may not have it.
 */
const DELIVERY_OUTCOMES = ["succeeded", "retrying", "failed", "started", "unknown"] as const;
export const DeliveryOutcome = Type.Union(DELIVERY_OUTCOMES.map((outcome) => Type.Literal(outcome)));
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
  /** When the attempt started (attempts an earlier release logged: when it ended). */
  at: Timestamp,
  nextAttemptAt: Nullable(Timestamp),
  /** The worker that made it (`createEngine({ instanceId })`); `null` in attempts an earlier release logged. */
  instance: Nullable(Type.String()),
});
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;

/** Webhook endpoints of an organization: `active` until deleted; a deleted one's delivery log stays. */
export const webhookKind = defineKind({
  name: "webhook",
  prefix: "wh",
  noun: "Webhook",
  statuses: WEBHOOK_STATUSES,
  terminal: ["deleted"],
  state: WebhookEndpoint,
  limits: LIMITS,
});

/** A live endpoint as reads and lists show it: never its secret. */
export const WebhookBody = Type.Object(
  {
    id: Type.String({ examples: ["wh_0190e1b0000070008000000000000001"] }),
    url: Type.String({ format: "uri" }),
    events: Type.Array(Type.String(), { description: 'Event types delivered; empty or "*" means all, "session.*" a prefix' }),
    description: Nullable(Type.String()),
    status: Type.Literal(LIVE_WEBHOOK_STATUS),
    created_at: DateTime,
  },
  { $id: "WebhookEndpoint" },
);

/** An endpoint as its creation answers it: with the signing secret, shown only this once. */
export const CreatedWebhookBody = Type.Object(
  {
    ...WebhookBody.properties,
    secret: Type.String({
      description: "The signing secret, shown only here: whsec_ and the base64 of the HMAC-SHA256 key",
      examples: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAbCdEfGhIjK="],
    }),
  },
  { $id: "CreatedWebhookEndpoint" },
);

/** One attempt of the delivery log as `GET /v1/webhooks/:id/deliveries` shows it. */
export const DeliveryAttemptBody = Type.Object(
  {
    id: Type.String({ description: "The delivery: the same for every attempt of one event to one endpoint" }),
    event_id: Type.String({ description: "Sent as the webhook-id header" }),
    event_type: Type.String({ examples: ["session.expired"] }),
    attempt: Type.Integer({ minimum: 1 }),
    status: DeliveryOutcome,
    outcome: Type.Union(
      DELIVERY_OUTCOMES.map((outcome) => Type.Literal(outcome)),
      { description: "The same as status" },
    ),
    status_code: Nullable(Type.Integer({ description: "The receiver's HTTP status; null when it did not answer" })),
    error: Nullable(Type.String()),
    duration_ms: Type.Integer({ minimum: 0 }),
    attempted_at: Type.String({ format: "date-time", description: "When the attempt started" }),
    next_attempt_at: Nullable(DateTime),
    instance: Nullable(Type.String({ description: "The worker instance that made the attempt" })),
  },
  { $id: "WebhookDeliveryAttempt" },
);

const webhookBody = (endpoint: WebhookEndpoint): Static<typeof WebhookBody> => ({
  id: endpoint.id,
  url: endpoint.url,
  events: endpoint.events,
  description: endpoint.description,
  status: LIVE_WEBHOOK_STATUS,
  created_at: iso(endpoint.createdAt),
});

/** Webhook endpoints on the wire: ours (SPEC), in the snake_case of the `/v1` family. */
export const webhookWire = {
  create: wireInput(CreateWebhookInput),
  body: WebhookBody,
  toBody: webhookBody,
  createdBody: CreatedWebhookBody,
  toCreatedBody: (endpoint: WebhookEndpoint): Static<typeof CreatedWebhookBody> => ({ ...webhookBody(endpoint), secret: endpoint.secret }),
  deliveryBody: DeliveryAttemptBody,
  toDeliveryBody: (attempt: DeliveryAttempt): Static<typeof DeliveryAttemptBody> => ({
    id: attempt.deliveryId,
    event_id: attempt.eventId,
    event_type: attempt.eventType,
    attempt: attempt.attempt,
    status: attempt.outcome,
    outcome: attempt.outcome,
    status_code: attempt.statusCode,
    error: attempt.error,
    duration_ms: attempt.durationMs,
    attempted_at: iso(attempt.at),
    next_attempt_at: isoOrNull(attempt.nextAttemptAt),
    instance: attempt.instance,
  }),
};
