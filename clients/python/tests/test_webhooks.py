"""Webhook endpoints, their delivery log, and ``verify`` against a real delivery from the server."""

from __future__ import annotations

import json

import pytest

from agent_sessions import NotFoundError, WebhookVerificationError, verify
from conftest import Server, eventually
from helpers import Receiver


def test_a_delivery_from_the_server_verifies_and_a_tampered_one_does_not(server: Server) -> None:
    client = server.client("hooks")
    receiver = Receiver()
    try:
        endpoint = client.webhooks.create(url=receiver.url, events=["session.created"], description="tests")
        assert endpoint.id.startswith("wh") and endpoint.secret and endpoint.secret.startswith("whsec_")
        assert endpoint.events == ["session.created"] and endpoint.status == "active"
        session = client.sessions.create(name="hooked")
        body, headers = eventually(lambda: receiver.deliveries[0] if receiver.deliveries else None, timeout=20)
    finally:
        receiver.close()

    event = verify(body, headers, endpoint.secret)
    assert event["type"] == "session.created" and event["data"]["sessionId"] == session.id
    assert client.webhooks.verify(body.decode(), {name.upper(): value for name, value in headers.items()}, endpoint.secret) == event

    tampered = body.replace(session.id.encode(), b"sess_" + b"0" * 32)
    with pytest.raises(WebhookVerificationError, match="webhook-signature"):
        verify(tampered, headers, endpoint.secret)
    with pytest.raises(WebhookVerificationError, match="webhook-signature"):
        verify(body, headers, "whsec_" + "A" * 44)
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 600)}
    with pytest.raises(WebhookVerificationError, match="webhook-timestamp"):
        verify(body, stale, endpoint.secret)
    without = {name: value for name, value in headers.items() if name.lower() != "webhook-id"}
    with pytest.raises(WebhookVerificationError, match="webhook-id: the header is missing"):
        verify(body, without, endpoint.secret)

    log = eventually(lambda: [each for each in client.webhooks.deliveries(endpoint.id).data if each.outcome == "succeeded"], timeout=10)
    assert log[0].event_type == "session.created" and log[0].status_code == 204
    assert json.loads(body)["type"] == log[0].event_type


def test_webhooks_list_get_delete(server: Server) -> None:
    client = server.client("hooks")
    endpoint = client.webhooks.create(url="https://example.com/hooks")
    assert client.webhooks.get(endpoint.id).url == "https://example.com/hooks"
    assert "secret" not in client.webhooks.get(endpoint.id).to_dict()
    assert endpoint.id in [each.id for each in client.webhooks.list(limit=100).data]
    deleted = client.webhooks.delete(endpoint.id)
    assert deleted.id == endpoint.id and deleted.deleted is True
    with pytest.raises(NotFoundError):
        client.webhooks.get(endpoint.id)
