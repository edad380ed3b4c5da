"""Workflow sessions, inboxes, messages, waits and the event feed (seed 001) against the server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent_sessions import Client, ConflictError, InboxWithMessages, Session, Wait, WaitResult
from conftest import Server
from helpers import Proxy


def _otp_setup(client: Client, timeout_seconds: int = 120):  # type: ignore[no-untyped-def]
    session = client.sessions.create(name="user-signup-flow", metadata={"environment": "staging"})
    inbox = client.inboxes.create(session.id, ttl_seconds=3600)
    wait = client.waits.create(session.id, type="otp", inbox_id=inbox.id, timeout_seconds=timeout_seconds)
    return session, inbox, wait


def _later(seconds: float, action):  # type: ignore[no-untyped-def]
    """Runs ``action`` in a thread after ``seconds``; ``.result()`` waits for its value."""
    pool = ThreadPoolExecutor(max_workers=1)

    def delayed():  # type: ignore[no-untyped-def]
        time.sleep(seconds)
        return action()

    future = pool.submit(delayed)
    pool.shutdown(wait=False)
    return future


def test_sessions_create_list_get_paginate(client: Client) -> None:
    session = client.sessions.create(name="user-signup-flow", metadata={"environment": "staging"})
    assert isinstance(session, Session)
    assert session.id.startswith("sess_") and session.status == "active" and session.completed_at is None
    assert session.metadata == {"environment": "staging"} and session.inboxes == [] and session.waits == []
    client.sessions.create(name="second-flow")
    page = client.sessions.list(limit=1)
    assert len(page.data) == 1 and page.pagination.limit == 1 and page.pagination.total >= 2
    assert page.pagination.next_cursor
    following = client.sessions.list(limit=1, cursor=page.pagination.next_cursor)
    assert following.data[0].id != page.data[0].id
    assert client.sessions.get(session.id).name == "user-signup-flow"
    active = client.sessions.list(status="active", limit=100)
    assert all(each.status == "active" for each in active.data)


def test_otp_workflow_wait_for_timeline_replay_complete(client: Client) -> None:
    session, inbox, wait = _otp_setup(client)
    assert inbox.id.startswith("inb_") and inbox.session_id == session.id and inbox.ttl_seconds == 3600
    assert wait.status == "pending" and wait.result is None and wait.timed_out is False and wait.inbox_id == inbox.id
    fetched = client.sessions.get(session.id)
    assert (fetched.inboxes, fetched.waits) == ([inbox.id], [wait.id])

    def deliver() -> None:
        time.sleep(0.3)
        client.messages.create(inbox.id, from_="no-reply@example.com", subject="Your code", body="Your verification code is 482913")

    sender = threading.Thread(target=deliver)
    sender.start()
    started = time.monotonic()
    done = client.waits.wait_for(wait.id, timeout=10)
    sender.join()
    assert time.monotonic() - started < 5  # the long-poll answered as the message came, not at its end
    assert isinstance(done, Wait) and done.status == "completed"
    assert isinstance(done.result, WaitResult) and done.result.code == "482913" and done.result.from_ == "no-reply@example.com"
    assert client.waits.get(wait.id).status == "completed"

    with_messages = client.inboxes.get(inbox.id)
    assert isinstance(with_messages, InboxWithMessages)
    assert [message.subject for message in with_messages.messages] == ["Your code"]
    assert with_messages.messages[0].inbox_id == inbox.id

    step = client.sessions.record_step(session.id, action="send_email", input={"to": "a@b.c"}, output=None, duration_ms=12)
    assert step.action == "send_email" and step.duration_ms == 12 and step.input == {"to": "a@b.c"} and step.error is None

    types = [event.type for event in client.sessions.timeline(session.id).events]
    assert types[:2] == ["session.created", "inbox.created"] and "message.received" in types and "wait.completed" in types
    steps = client.sessions.replay(session.id).steps
    assert [each.action for each in steps] == ["create_inbox", "create_wait", "send_email"]
    assert steps[0].input == {"ttlSeconds": 3600}

    completed = client.sessions.complete(session.id)
    assert completed.status == "completed" and completed.completed_at
    assert client.sessions.complete(session.id).status == "completed"  # completing again changes nothing
    with pytest.raises(ConflictError) as refused:
        client.inboxes.create(session.id, ttl_seconds=60)
    assert refused.value.status == 409 and refused.value.error == "Conflict" and refused.value.message


def test_critical_step_fails_the_session(client: Client) -> None:
    session = client.sessions.create(name="flaky")
    step = client.sessions.record_step(session.id, action="charge", duration_ms=3, error={"message": "card declined", "critical": True})
    assert step.error is not None and step.error.critical is True and step.error.message == "card declined"
    assert client.sessions.get(session.id).status == "failed"


def test_wait_for_returns_the_pending_wait_at_its_timeout_and_resolve_with(client: Client) -> None:
    _, inbox, wait = _otp_setup(client)
    started = time.monotonic()
    still = client.waits.wait_for(wait.id, timeout=1)
    assert still.status == "pending" and 0.9 <= time.monotonic() - started < 5
    session = client.sessions.create(name="resolve-with")
    box = client.inboxes.create(session.id, ttl_seconds=60)
    resolving = client.waits.create(session.id, type="otp", inbox_id=box.id, timeout_seconds=1, on_timeout={"resolve_with": {"code": None}}, pattern=r"PIN (\d{4})")
    assert resolving.on_timeout == {"resolve_with": {"code": None}} and resolving.pattern == r"PIN (\d{4})"
    ended = client.waits.wait_for(resolving.id, timeout=15, poll_seconds=2)
    assert ended.timed_out is True and ended.result == {"code": None}


def test_events_over_sse_resume_with_last_event_id_after_a_silent_stream(server: Server) -> None:
    proxyless = server.client()
    session = proxyless.sessions.create(name="streamed")
    seen = []
    # idle_seconds=0.5 is far below the server's 15 s heartbeat: the stream counts as dropped and is
    # reopened, and only Last-Event-ID keeps session.created from coming again.
    stream = proxyless.sessions.events(session.id, idle_seconds=0.5)
    seen.append(next(stream))
    later = _later(1.5, lambda: proxyless.inboxes.create(session.id, ttl_seconds=60))
    seen.append(next(stream))  # silent while it waits: reconnected at least twice meanwhile
    inbox = later.result()
    stream.close()
    assert [event.type for event in seen] == ["session.created", "inbox.created"]
    assert seen[1].payload["inboxId"] == inbox.id
    # Resuming from an id starts after it.
    again = proxyless.sessions.events(session.id, since=seen[0].id)
    assert next(again).id == seen[1].id
    again.close()


def test_events_send_last_event_id_when_they_reconnect(server: Server) -> None:
    proxy = Proxy(server.url)
    try:
        client = server.client(base_url=proxy.url)
        session = client.sessions.create(name="resumed")
        stream = client.sessions.events(session.id, idle_seconds=0.3)
        first = next(stream)
        _later(1, lambda: client.inboxes.create(session.id, ttl_seconds=60))
        assert next(stream).type == "inbox.created"
        stream.close()
    finally:
        proxy.close()
    opened = [headers for method, path, headers in proxy.requests if path.endswith("/events")]
    assert len(opened) >= 2 and "Last-Event-ID" not in opened[0]
    assert all(headers.get("Last-Event-ID") == first.id for headers in opened[1:])


def test_events_over_the_long_poll(client: Client) -> None:
    session = client.sessions.create(name="polled")
    stream = client.sessions.events(session.id, transport="poll", poll_seconds=1)
    assert next(stream).type == "session.created"
    client.inboxes.create(session.id, ttl_seconds=60)
    assert next(stream).type == "inbox.created"
    stream.close()
