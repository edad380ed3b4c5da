"""Seed 001's Python snippet, run verbatim against the server."""

from __future__ import annotations

import contextlib
import io
import re

from conftest import Server
from helpers import Proxy

# Word for word as seed 001 (and issue 21) writes it.
SEED_001 = """
session = client.sessions.create(name="user-signup-flow", metadata={"environment": "staging"})
print(session.id)
sessions = client.sessions.list(status="active", limit=20, offset=0)
print(len(sessions.data))
session = client.sessions.get("sess_789")
print(session.status, session.inboxes, session.waits)
timeline = client.sessions.timeline("sess_789")
print(timeline.events)
"""


def test_seed_001_runs_verbatim(server: Server) -> None:
    # The seed's session is "sess_789": the proxy names the session the snippet creates so.
    proxy = Proxy(server.url)
    proxy.alias_next_create = "sess_789"
    try:
        namespace = {"client": server.client("seed", base_url=proxy.url)}
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(SEED_001, namespace)  # noqa: S102 - the seed's own code
    finally:
        proxy.close()
    lines = printed.getvalue().splitlines()
    assert lines[0] == "sess_789"
    assert lines[1] == "1"
    assert lines[2] == "active [] []"
    assert re.match(r"\[TimelineEvent\(id='evt_[0-9a-f]+', timestamp='[0-9T:.Z-]+', type='session.created', payload=\{'sessionId': 'sess_789'", lines[3])
    # And the proxy sent the real id to the server.
    real = proxy.aliases["sess_789"]
    assert re.fullmatch(r"sess_[0-9a-f]{32}", real)
    assert ("GET", f"/api/v1/sessions/{real}") in [(method, path) for method, path, _ in proxy.requests]

