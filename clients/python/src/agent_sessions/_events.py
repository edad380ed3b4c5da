"""The events of a session as they happen: Server-Sent Events resumed with ``Last-Event-ID``, or the long-poll.

``text/event-stream`` is read by the WHATWG rules: lines ended by CRLF, LF or CR, ``:`` comments
(the server's heartbeats) skipped, ``data`` joined over several lines, an event cut off by the end of
the stream dropped.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional

from ._transport import Call, Opened, Transport
from .errors import AgentSessionsClientError
from .models import TimelineEvent


@dataclass(frozen=True)
class StreamMessage:
    """One dispatched event: ``id`` is the last event id the stream set (it carries over)."""

    id: str
    event: str
    data: str


class EventStreamParser:
    """Turns the lines of a stream into messages; ``line`` returns the message a blank line completed."""

    def __init__(self) -> None:
        self.last_event_id = ""
        self._data: List[str] = []
        self._event = ""

    def line(self, text: str) -> Optional[StreamMessage]:
        """Feeds one line without its ending."""
        if text == "":
            message = StreamMessage(self.last_event_id, self._event or "message", "\n".join(self._data)) if self._data else None
            self._data = []
            self._event = ""
            return message
        if text.startswith(":"):
            return None  # a comment: the server's heartbeat
        field, _, value = text.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self.last_event_id = value
        # `retry` is ignored on purpose: the client reconnects on its own backoff.
        return None


def read_event_stream(opened: Opened) -> Iterator[StreamMessage]:
    """The messages of an opened stream until it ends, breaks or stays silent past the read timeout."""
    parser = EventStreamParser()
    pending_cr = False
    try:
        while True:
            try:
                raw = opened.response.readline()
            except (socket.timeout, OSError, ValueError):
                return  # silent too long, or broken: an ending like any other
            if raw == b"":
                return
            text = raw.decode("utf-8", errors="replace")
            if pending_cr and text.startswith("\n"):
                text = text[1:]
            pending_cr = text.endswith("\r")
            if text.endswith("\r\n"):
                text = text[:-2]
            elif text.endswith(("\n", "\r")):
                text = text[:-1]
            else:
                return  # the stream ended in the middle of a line
            for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                message = parser.line(line)
                if message is not None:
                    yield message
    finally:
        opened.close()


def session_events(
    transport: Transport,
    path: str,
    *,
    since: Optional[str],
    mode: str,
    poll_seconds: float,
    idle_seconds: float,
) -> Iterator[TimelineEvent]:
    """The events of the session at ``path`` after ``since``, each once and in order, for ever."""
    if mode not in ("sse", "poll"):
        raise ValueError(f'transport: must be "sse" or "poll", not {mode!r}')
    if not poll_seconds >= 0:
        raise ValueError("poll_seconds: must be a number of seconds, 0 or more")
    if not idle_seconds > 0:
        raise ValueError("idle_seconds: must be a number of seconds above 0")
    last = since
    if mode == "sse":
        drops = 0
        while True:
            # Each (re)connection names the last event seen, as a browser's EventSource does.
            resume = {"Last-Event-ID": last} if last else None
            opened = transport.open(Call("GET", path, accept="text/event-stream", headers=resume), read_timeout=idle_seconds)
            if opened.content_type != "text/event-stream":
                opened.close()
                break  # an older server, or a proxy that strips the stream: the long-poll instead
            delivered = False
            for message in read_event_stream(opened):
                event = _timeline_event(message, f"GET {path}")
                last = event.id
                delivered = True
                yield event
            # A stream that ended without an event backs off further each time; one that delivered starts over.
            drops = 1 if delivered else drops + 1
            time.sleep(transport.backoff_seconds(drops))
    while True:
        answer = transport.request(Call("GET", path, query={"since": last, "timeout": poll_seconds}, hold_seconds=poll_seconds))
        for item in answer.get("events", []):
            event = TimelineEvent.from_wire(item)
            last = event.id
            yield event


def _timeline_event(message: StreamMessage, label: str) -> TimelineEvent:
    """The router sends each event as ``id: <id>``, ``event: <type>``, ``data: <the timeline event as JSON>``."""
    which = f"event {message.id}" if message.id else f"a '{message.event}' event"
    try:
        data: Any = json.loads(message.data)
    except ValueError as error:
        raise AgentSessionsClientError(f"{label}: the data of {which} is not JSON ({error})", label) from error
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise AgentSessionsClientError(f"{label}: the data of {which} is not a timeline event: it needs a string id", label)
    return TimelineEvent.from_wire(data)
