"""Workflow sessions (seed 001), their inboxes, messages and waits, and the event feed of any session."""

from __future__ import annotations

import time
from typing import Any, Dict, Iterator, List, Optional

from .._events import session_events
from .._transport import Call, RequestOptions, Transport, compact, operation, segment
from ..models import CompletedSession, Inbox, InboxWithMessages, Message, Page, Replay, Session, Step, Timeline, TimelineEvent, Wait, page_of

_UNSET: Any = object()


def _path(session_id: str, rest: str = "") -> str:
    return f"/api/v1/sessions/{segment(session_id)}{rest}"


class Sessions:
    """Workflow sessions (seed 001) and the event feed of any session."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/api/v1/sessions")
    def create(self, *, name: str, metadata: Optional[Dict[str, Any]] = None, options: Optional[RequestOptions] = None) -> Session:
        """Creates a workflow session (sent with an Idempotency-Key, so a retry never creates twice)."""
        body = compact(name=name, metadata=metadata)
        return Session.from_wire(self._transport.request(Call("POST", "/api/v1/sessions", body=body, creates=True), options))

    @operation("GET", "/api/v1/sessions")
    def list(
        self,
        *,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> Page[Session]:
        """One page of workflow sessions, newest first, by ``status`` (active, completed, failed) too."""
        query = {"status": status, "limit": limit, "offset": offset, "cursor": cursor}
        return page_of(self._transport.request(Call("GET", "/api/v1/sessions", query=query), options), Session)

    @operation("GET", "/api/v1/sessions/{id}")
    def get(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Session:
        """A workflow session with the ids of its inboxes and waits."""
        return Session.from_wire(self._transport.request(Call("GET", _path(session_id)), options))

    @operation("POST", "/api/v1/sessions/{id}/complete")
    def complete(self, session_id: str, *, options: Optional[RequestOptions] = None) -> CompletedSession:
        """Marks the session completed."""
        return CompletedSession.from_wire(self._transport.request(Call("POST", _path(session_id, "/complete")), options))

    @operation("GET", "/api/v1/sessions/{id}/timeline")
    def timeline(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Timeline:
        """Every event of the session, in order."""
        return Timeline.from_wire(self._transport.request(Call("GET", _path(session_id, "/timeline")), options))

    @operation("POST", "/api/v1/sessions/{id}/replay")
    def replay(self, session_id: str, *, options: Optional[RequestOptions] = None) -> Replay:
        """The recorded steps of the session."""
        return Replay.from_wire(self._transport.request(Call("POST", _path(session_id, "/replay")), options))

    @operation("POST", "/api/v1/sessions/{id}/steps")
    def record_step(
        self,
        session_id: str,
        *,
        action: str,
        duration_ms: int,
        input: Any = _UNSET,
        output: Any = _UNSET,
        error: Optional[Dict[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Step:
        """Records a step for replay; an ``error`` with ``critical: True`` fails the session."""
        body: Dict[str, Any] = compact(action=action, durationMs=duration_ms, error=error)
        if input is not _UNSET:
            body["input"] = input
        if output is not _UNSET:
            body["output"] = output
        return Step.from_wire(self._transport.request(Call("POST", _path(session_id, "/steps"), body=body), options))

    @operation("GET", "/api/v1/sessions/{id}/events")
    def events(
        self,
        session_id: str,
        *,
        since: Optional[str] = None,
        transport: str = "sse",
        poll_seconds: float = 25,
        idle_seconds: float = 45,
    ) -> Iterator[TimelineEvent]:
        """The events of any session (workflow, form session, thread) as they happen.

        First those already written (after the event id ``since``), then each new one, each once and
        in order. ``transport="sse"`` (the default) holds one Server-Sent Events stream open and, when
        it ends or stays silent ``idle_seconds`` (not even a heartbeat), reopens it with
        ``Last-Event-ID`` set to the last event seen; ``"poll"`` (or a server that does not stream)
        long-polls ``poll_seconds`` at a time. It never ends by itself: ``break`` out of the loop.
        """
        return session_events(self._transport, _path(session_id, "/events"), since=since, mode=transport, poll_seconds=poll_seconds, idle_seconds=idle_seconds)


class Inboxes:
    """Inboxes of workflow sessions."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/api/v1/sessions/{id}/inboxes")
    def create(self, session_id: str, *, ttl_seconds: int, options: Optional[RequestOptions] = None) -> Inbox:
        """Creates an inbox in a session (sent with an Idempotency-Key)."""
        call = Call("POST", _path(session_id, "/inboxes"), body={"ttlSeconds": ttl_seconds}, creates=True)
        return Inbox.from_wire(self._transport.request(call, options))

    @operation("GET", "/api/v1/inboxes/{id}")
    def get(self, inbox_id: str, *, options: Optional[RequestOptions] = None) -> InboxWithMessages:
        """An inbox with the messages it received."""
        return InboxWithMessages.from_wire(self._transport.request(Call("GET", f"/api/v1/inboxes/{segment(inbox_id)}"), options))


class Messages:
    """Messages delivered to inboxes, e.g. from a mail provider's webhook."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/api/v1/inboxes/{id}/messages")
    def create(self, inbox_id: str, *, from_: str, subject: str, body: str, options: Optional[RequestOptions] = None) -> Message:
        """Delivers a message to an inbox (sent with an Idempotency-Key); ``from_`` is the wire's ``from``."""
        call = Call("POST", f"/api/v1/inboxes/{segment(inbox_id)}/messages", body={"from": from_, "subject": subject, "body": body}, creates=True)
        return Message.from_wire(self._transport.request(call, options))


class Waits:
    """Waits for a message or a one-time code, and waiting for them to end."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/api/v1/sessions/{id}/waits")
    def create(
        self,
        session_id: str,
        *,
        type: str,
        inbox_id: str,
        timeout_seconds: int,
        on_timeout: Any = None,
        pattern: Optional[str] = None,
        since: Optional[str] = None,
        remind_before: Optional[List[int]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Wait:
        """Waits for a message (``type="message"``) or a one-time code (``"otp"``) in an inbox (sent with an Idempotency-Key).

        ``on_timeout`` is ``"fail"`` (the default) or ``{"resolve_with": <JSON>}``; ``pattern`` a regular
        expression with one capture group; ``since`` an ISO time before which messages do not count.
        """
        body = compact(
            type=type, inboxId=inbox_id, timeoutSeconds=timeout_seconds, on_timeout=on_timeout, pattern=pattern, since=since, remind_before=remind_before
        )
        return Wait.from_wire(self._transport.request(Call("POST", _path(session_id, "/waits"), body=body, creates=True), options))

    @operation("GET", "/api/v1/waits/{id}")
    def get(self, wait_id: str, *, timeout: Optional[float] = None, options: Optional[RequestOptions] = None) -> Wait:
        """The wait now, or with ``timeout`` a long-poll held at most that many seconds while it is pending."""
        call = Call("GET", f"/api/v1/waits/{segment(wait_id)}", query={"timeout": timeout}, hold_seconds=timeout or 0)
        return Wait.from_wire(self._transport.request(call, options))

    def wait_for(self, wait_id: str, timeout: Optional[float] = None, *, poll_seconds: float = 25) -> Wait:
        """Blocks until the wait completed (with its ``result``) or timed out, long-polling as often as needed.

        After ``timeout`` seconds it returns the wait as it is, still ``pending``; without one it waits
        until the wait ends (a wait always ends at its own ``timeoutSeconds``).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = poll_seconds if deadline is None else max(0.0, deadline - time.monotonic())
            wait = self.get(wait_id, timeout=round(min(poll_seconds, left), 3))
            if wait.status != "pending" or (deadline is not None and time.monotonic() >= deadline):
                return wait
