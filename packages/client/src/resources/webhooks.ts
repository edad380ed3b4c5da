import { type RequestOptions, segment, type Transport } from "../transport.js";
import type { CreatedWebhookEndpoint, CreateWebhookInput, DeliveryAttempt, ListOptions, Page, WebhookEndpoint } from "../types.js";
import { collection } from "./collection.js";

/** Webhook endpoints (create, list, get, delete) and their delivery logs. */
export function webhooksResource(transport: Transport) {
  const path = (id: string, rest = "") => `/v1/webhooks/${segment(id)}${rest}`;
  return {
    // create's answer holds the signing `secret`, shown only that once; list and get never show it.
    ...collection<WebhookEndpoint, CreateWebhookInput, CreatedWebhookEndpoint>(transport, "/v1/webhooks"),
    /** `DELETE /v1/webhooks/:id`: nothing more is delivered to it. */
    delete(id: string, options?: RequestOptions): Promise<{ id: string; deleted: true }> {
      return transport.request({ method: "DELETE", path: path(id) }, options);
    },
    /** `GET /v1/webhooks/:id/deliveries`: the delivery log, newest attempt first. */
    deliveries(id: string, query: ListOptions = {}, options?: RequestOptions): Promise<Page<DeliveryAttempt>> {
      return transport.request({ method: "GET", path: path(id, "/deliveries"), query: { ...query } }, options);
    },
  };
}
