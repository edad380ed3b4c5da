import { WEBHOOK_ENDPOINT_LIMIT, WebhookEndpoint } from "../schemas/webhook.js";
import { defineKind } from "./kind.js";

/** Webhook endpoints of an organization: `active` until deleted. */
export const webhookKind = defineKind({
  name: "webhook",
  prefix: "wh",
  noun: "Webhook",
  statuses: ["active", "deleted"],
  terminal: ["deleted"],
  state: WebhookEndpoint,
  limits: { liveEndpoints: WEBHOOK_ENDPOINT_LIMIT },
});
