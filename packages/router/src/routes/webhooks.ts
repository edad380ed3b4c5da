import { CreateWebhookInput, type DeliveryAttempt, isPrefixedId, iso, Nullable, type WebhookEndpoint } from "@agent-sessions/core";
import { type Static, Type } from "@sinclair/typebox";
import { HttpError, json } from "../http.js";
import type { RouteDefinition } from "../route.js";
import { PageOf } from "../wire.js";
import { errors, idOf, listQuery, pagination, readListQuery } from "./common.js";

/**
 * Webhook endpoints and their delivery logs: ours (SPEC), in the snake_case of the `/v1` family.
 * The secret is shown once, in the answer to the creation; reads never show it again.
 */

const DateTime = Type.String({ format: "date-time" });

export const WebhookBody = Type.Object(
  {
    id: Type.String({ examples: ["wh_0190e1b0000070008000000000000001"] }),
    url: Type.String({ format: "uri" }),
    events: Type.Array(Type.String(), { description: 'Event types delivered; empty or "*" means all, "session.*" a prefix' }),
    description: Nullable(Type.String()),
    status: Type.Literal("active"),
    created_at: DateTime,
  },
  { $id: "WebhookEndpoint" },
);
const webhookBody = (endpoint: WebhookEndpoint): Static<typeof WebhookBody> => ({
  id: endpoint.id,
  url: endpoint.url,
  events: endpoint.events,
  description: endpoint.description,
  status: "active",
  created_at: iso(endpoint.createdAt),
});

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

export const DeliveryAttemptBody = Type.Object(
  {
    id: Type.String({ description: "The delivery: the same for every attempt of one event to one endpoint" }),
    event_id: Type.String({ description: "Sent as the webhook-id header" }),
    event_type: Type.String({ examples: ["session.expired"] }),
    attempt: Type.Integer({ minimum: 1 }),
    status: Type.Union([Type.Literal("succeeded"), Type.Literal("retrying"), Type.Literal("failed")]),
    status_code: Nullable(Type.Integer({ description: "The receiver's HTTP status; null when it did not answer" })),
    error: Nullable(Type.String()),
    duration_ms: Type.Integer({ minimum: 0 }),
    attempted_at: DateTime,
    next_attempt_at: Nullable(DateTime),
  },
  { $id: "WebhookDeliveryAttempt" },
);
const deliveryAttemptBody = (attempt: DeliveryAttempt): Static<typeof DeliveryAttemptBody> => ({
  id: attempt.deliveryId,
  event_id: attempt.eventId,
  event_type: attempt.eventType,
  attempt: attempt.attempt,
  status: attempt.outcome,
  status_code: attempt.statusCode,
  error: attempt.error,
  duration_ms: attempt.durationMs,
  attempted_at: iso(attempt.at),
  next_attempt_at: attempt.nextAttemptAt === null ? null : iso(attempt.nextAttemptAt),
});

function webhookId(id: string): string {
  return idOf(id, "wh", "Webhook");
}

/** `POST/GET/DELETE /v1/webhooks` and the delivery log of each endpoint. */
export const webhookRoutes: RouteDefinition[] = [
  {
    method: "POST",
    path: "/v1/webhooks",
    summary: "Create a webhook endpoint; the answer holds its signing secret, shown only this once",
    tag: "Webhooks",
    idempotent: true,
    body: CreateWebhookInput,
    responses: { 201: { description: "The endpoint with its secret", schema: CreatedWebhookBody }, ...errors(400, 409, 413, 422) },
    failure: "Failed to create webhook",
    async handle({ engine, orgId, body }) {
      const endpoint = await engine.webhooks.create(orgId, body);
      return json({ ...webhookBody(endpoint), secret: endpoint.secret }, 201);
    },
  },
  {
    method: "GET",
    path: "/v1/webhooks",
    summary: "List webhook endpoints (without their secrets)",
    tag: "Webhooks",
    query: listQuery,
    responses: { 200: { description: "A page of endpoints", schema: PageOf(WebhookBody) }, ...errors(400) },
    failure: "Failed to list webhooks",
    async handle({ engine, orgId, url }) {
      const page = await engine.webhooks.list(orgId, readListQuery(url));
      return json({ data: page.data.map(webhookBody), pagination: pagination(page) });
    },
  },
  {
    method: "GET",
    path: "/v1/webhooks/:id",
    summary: "Retrieve a webhook endpoint (without its secret)",
    tag: "Webhooks",
    responses: { 200: { description: "The endpoint", schema: WebhookBody }, ...errors(404) },
    failure: "Failed to retrieve webhook",
    async handle({ engine, orgId, params }) {
      return json(webhookBody(await engine.webhooks.get(orgId, webhookId(params.id!))));
    },
  },
  {
    method: "DELETE",
    path: "/v1/webhooks/:id",
    summary: "Delete a webhook endpoint: nothing more is delivered to it",
    tag: "Webhooks",
    responses: {
      200: { description: "Deleted", schema: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }) },
      ...errors(404),
    },
    failure: "Failed to delete webhook",
    async handle({ engine, orgId, params }) {
      const deleted = await engine.webhooks.delete(orgId, webhookId(params.id!));
      return json({ id: deleted.id, deleted: true });
    },
  },
  {
    method: "GET",
    path: "/v1/webhooks/:id/deliveries",
    summary: "The delivery log of an endpoint, newest attempt first: every attempt with its status code or error",
    tag: "Webhooks",
    query: listQuery,
    responses: { 200: { description: "A page of delivery attempts", schema: PageOf(DeliveryAttemptBody) }, ...errors(400, 404) },
    failure: "Failed to list deliveries",
    async handle({ engine, orgId, params, url }) {
      const page = await engine.webhooks.deliveries(orgId, webhookId(params.id!), readListQuery(url));
      return json({ data: page.data.map(deliveryAttemptBody), pagination: pagination(page) });
    },
  },
];
