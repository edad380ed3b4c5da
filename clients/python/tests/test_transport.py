"""How the client talks: retries without creating twice, Retry-After, timeouts, errors, settings."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest

import agent_sessions
from agent_sessions import (
    Client,
    NetworkError,
    NotFoundError,
    RequestOptions,
    ServerError,
    Session,
    TimeoutError,
    UnauthorizedError,
)
from agent_sessions.errors import parse_retry_after
from agent_sessions.models import page_of
from conftest import Server
from helpers import Proxy


def _creates(proxy: Proxy, path: str = "/api/v1/sessions"):  # type: ignore[no-untyped-def]
    return [headers for method, seen, headers in proxy.requests if method == "POST" and seen == path]


def test_a_create_retried_after_a_dropped_connection_creates_once(server: Server) -> None:
    proxy = Proxy(server.url, lambda method, path, count: "drop" if method == "POST" and count == 1 else "forward")
    try:
        session = server.client("retry", base_url=proxy.url).sessions.create(name="once", metadata={"n": 1})
    finally:
        proxy.close()
    sent = _creates(proxy)
    assert len(sent) == 2 and sent[0]["Idempotency-Key"] == sent[1]["Idempotency-Key"]
    # The server created on the first attempt; the retry got that session back, not a second one.
    everything = server.client("retry").sessions.list(limit=100)
    assert [each.id for each in everything.data] == [session.id] and everything.pagination.total == 1


def test_a_dropped_connection_is_a_network_error_and_other_posts_are_not_retried(server: Server) -> None:
    client = server.client()
    session = client.sessions.create(name="dropped")
    proxy = Proxy(server.url, lambda method, path, count: "drop" if method == "POST" else "forward")
    try:
        through = server.client(base_url=proxy.url)
        with pytest.raises(NetworkError) as dropped:
            through.sessions.complete(session.id)
        assert dropped.value.request == f"POST /api/v1/sessions/{session.id}/complete"
        assert isinstance(dropped.value, ConnectionError)
        assert len(_creates(proxy, f"/api/v1/sessions/{session.id}/complete")) == 1  # not an idempotent call: sent once
        with pytest.raises(NetworkError):
            through.sessions.create(name="never answered", options=RequestOptions(retries=1))
        assert len(_creates(proxy)) == 2
    finally:
        proxy.close()


def test_503_with_retry_after_is_waited_out(server: Server) -> None:
    proxy = Proxy(server.url, lambda method, path, count: "busy" if count == 1 else "forward")
    try:
        started = time.monotonic()
        session = server.client(base_url=proxy.url).sessions.create(name="patient")
        assert isinstance(session, Session) and time.monotonic() - started >= 0.95  # Retry-After: 1, far above the backoff
        assert len(_creates(proxy)) == 2
        with pytest.raises(ServerError) as busy:
            server.client(base_url=proxy.url, retries=0).sessions.get(session.id)
        assert (busy.value.status, busy.value.retry_after, busy.value.message) == (503, 1.0, "busy")
    finally:
        proxy.close()


def test_no_answer_within_the_timeout_is_a_timeout_error_after_the_retries() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted = []
    threading.Thread(target=lambda: [accepted.append(silent.accept()) for _ in range(3)], daemon=True).start()
    try:
        client = Client(api_key="k", base_url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.2, retries=1, backoff=(0.01, 0.01))
        started = time.monotonic()
        with pytest.raises(TimeoutError) as late:
            client.sessions.get("sess_x")
        assert 0.35 < time.monotonic() - started < 3 and late.value.timeout == 0.2 and len(accepted) == 2
        assert isinstance(late.value, agent_sessions.AgentSessionsClientError)
    finally:
        silent.close()


def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError, match="GET /api/v1/sessions"):
        Client(api_key="k", base_url=f"http://127.0.0.1:{port}", retries=1, backoff=(0.01, 0.01)).sessions.list()


def test_errors_carry_status_error_and_message(server: Server, client: Client) -> None:
    with pytest.raises(UnauthorizedError) as denied:
        Client(api_key="wrong", base_url=server.url).sessions.list()
    assert (denied.value.status, denied.value.error, denied.value.message) == (401, "Unauthorized", "Invalid or missing API key")
    with pytest.raises(NotFoundError) as missing:
        client.sessions.get("sess_" + "0" * 32)
    assert missing.value.status == 404 and missing.value.error == "Not found" and "sess_" in str(missing.value)
    with pytest.raises(agent_sessions.ValidationError) as invalid:
        client.sessions.create(name="")
    assert invalid.value.status == 400 and invalid.value.body == {"error": invalid.value.error, "message": invalid.value.message}


def test_an_idempotency_key_given_repeats_the_first_answer(client: Client) -> None:
    key = str(uuid.uuid4())
    first = client.sessions.create(name="keyed", options=RequestOptions(idempotency_key=key))
    again = client.sessions.create(name="keyed", options=RequestOptions(idempotency_key=key))
    assert again.id == first.id
    with pytest.raises(agent_sessions.UnprocessableContentError, match="Idempotency-Key") as reused:
        client.sessions.create(name="another body", options=RequestOptions(idempotency_key=key))
    assert reused.value.status == 422


def test_api_key_and_url_come_from_the_environment(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_SESSIONS_API_KEY", server.keys["main"])
    monkeypatch.setenv("AGENT_SESSIONS_URL", server.url + "/")
    client = Client()
    assert client.base_url == server.url and client.sessions.create(name="from env").status == "active"
    assert Client(api_key="other", base_url="http://example.com:1").base_url == "http://example.com:1"
    monkeypatch.delenv("AGENT_SESSIONS_URL")
    assert Client().base_url == "http://127.0.0.1:3000"
    monkeypatch.delenv("AGENT_SESSIONS_API_KEY")
    with pytest.raises(ValueError, match="api_key: .*AGENT_SESSIONS_API_KEY"):
        Client()
    with pytest.raises(ValueError, match="base_url: 'ftp://x' must be a URL"):
        Client(api_key="k", base_url="ftp://x")
    with pytest.raises(ValueError, match="timeout: must be a number of more than 0"):
        Client(api_key="k", timeout=0)


def test_unknown_fields_are_kept_and_known_ones_parsed() -> None:
    session = Session.from_wire(
        {"id": "sess_1", "name": "n", "status": "active", "createdAt": "t", "updatedAt": "t", "completedAt": None, "metadata": {}, "inboxes": [], "waits": [], "shinyNewField": 1}
    )
    assert session.created_at == "t" and session.extra == {"shinyNewField": 1} and session.to_dict()["shinyNewField"] == 1
    partial = agent_sessions.Wait.from_wire({"id": "wait_1", "status": "pending", "timed_out": False, "result": None})
    assert partial.id == "wait_1" and partial.inbox_id is None and partial.extra == {}
    page = page_of({"data": [], "pagination": {"limit": 1, "offset": 0, "total": 0, "nextCursor": None, "pages": 0}, "took": 3}, Session)
    assert page.extra == {"took": 3} and page.pagination.extra == {"pages": 0} and page.pagination.next_cursor is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0 and parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None and parse_retry_after("-1") is None
