"""Webhook endpoints, their delivery logs, and checking a delivery's signature."""

from __future__ import annotations

from typing import List, Optional

from .._transport import Call, RequestOptions, Transport, compact, operation, segment
from ..models import CreatedWebhookEndpoint, DeletedWebhookEndpoint, DeliveryAttempt, Page, WebhookEndpoint, page_of
from ..signatures import verify


class Webhooks:
    """Webhook endpoints (create, list, get, delete) and their delivery logs."""

    #: Checks a delivery's Standard Webhooks signature: see ``agent_sessions.verify``.
    verify = staticmethod(verify)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/v1/webhooks")
    def create(
        self, *, url: str, events: Optional[List[str]] = None, description: Optional[str] = None, options: Optional[RequestOptions] = None
    ) -> CreatedWebhookEndpoint:
        """Creates an endpoint (sent with an Idempotency-Key); the answer holds the signing ``secret``, shown only this once."""
        body = compact(url=url, events=events, description=description)
        return CreatedWebhookEndpoint.from_wire(self._transport.request(Call("POST", "/v1/webhooks", body=body, creates=True), options))

    @operation("GET", "/v1/webhooks")
    def list(
        self, *, limit: Optional[int] = None, offset: Optional[int] = None, cursor: Optional[str] = None, options: Optional[RequestOptions] = None
    ) -> Page[WebhookEndpoint]:
        """One page of endpoints, newest first."""
        query = {"limit": limit, "offset": offset, "cursor": cursor}
        return page_of(self._transport.request(Call("GET", "/v1/webhooks", query=query), options), WebhookEndpoint)

    @operation("GET", "/v1/webhooks/{id}")
    def get(self, webhook_id: str, *, options: Optional[RequestOptions] = None) -> WebhookEndpoint:
        """An endpoint, without its secret."""
        return WebhookEndpoint.from_wire(self._transport.request(Call("GET", f"/v1/webhooks/{segment(webhook_id)}"), options))

    @operation("DELETE", "/v1/webhooks/{id}")
    def delete(self, webhook_id: str, *, options: Optional[RequestOptions] = None) -> DeletedWebhookEndpoint:
        """Deletes an endpoint: nothing more is delivered to it."""
        return DeletedWebhookEndpoint.from_wire(self._transport.request(Call("DELETE", f"/v1/webhooks/{segment(webhook_id)}"), options))

    @operation("GET", "/v1/webhooks/{id}/deliveries")
    def deliveries(
        self,
        webhook_id: str,
        *,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> Page[DeliveryAttempt]:
        """The delivery log of an endpoint, newest attempt first."""
        query = {"limit": limit, "offset": offset, "cursor": cursor}
        call = Call("GET", f"/v1/webhooks/{segment(webhook_id)}/deliveries", query=query)
        return page_of(self._transport.request(call, options), DeliveryAttempt)
