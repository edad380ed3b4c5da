import { webhookKind, webhookWire } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { json } from "../http.js";
import type { RouteDefinition } from "../route.js";
import { PageOf } from "../wire.js";
import { errors, idOf, listQuery, pagination, readListQuery } from "./common.js";

/**
 * Webhook endpoints and their delivery logs: ours (SPEC), in the snake_case of the `/v1` family,
 * as `webhookWire` in core shapes them. The secret is shown once, in the answer to the creation;
 * reads never show it again.
 */

export const WebhookBody = webhookWire.body;
export const CreatedWebhookBody = webhookWire.createdBody;
export const DeliveryAttemptBody = webhookWire.deliveryBody;

function webhookId(id: string): string {
  return idOf(id, webhookKind.prefix, webhookKind.noun);
}

/** `POST/GET/DELETE /v1/webhooks` and the delivery log of each endpoint. */
export const webhookRoutes: RouteDefinition[] = [
  {
    method: "POST",
    path: "/v1/webhooks",
    summary: "Create a webhook endpoint; the answer holds its signing secret, shown only this once",
    tag: "Webhooks",
    idempotent: true,
    input: webhookWire.create,
    responses: { 201: { description: "The endpoint with its secret", schema: CreatedWebhookBody }, ...errors(400, 409, 413, 422) },
    failure: "Failed to create webhook",
    async handle({ engine, orgId, body }) {
      return json(webhookWire.toCreatedBody(await engine.webhooks.create(orgId, webhookWire.create.read(body))), 201);
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
      return json({ data: page.data.map(webhookWire.toBody), pagination: pagination(page) });
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
      return json(webhookWire.toBody(await engine.webhooks.get(orgId, webhookId(params.id!))));
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
      return json({ data: page.data.map(webhookWire.toDeliveryBody), pagination: pagination(page) });
    },
  },
];
