"""The client: one attribute per resource family of the HTTP API."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from ._transport import Call, RequestOptions, Transport, operation
from .resources.agents import Agents, AgentSessions
from .resources.forms import Forms, FormSessions
from .resources.threads import Actions, Threads
from .resources.webhooks import Webhooks
from .resources.workflows import Inboxes, Messages, Sessions, Waits

#: The environment variable the API key is read from when none is given.
API_KEY_ENV = "AGENT_SESSIONS_API_KEY"
#: The environment variable the base URL is read from when none is given.
URL_ENV = "AGENT_SESSIONS_URL"
#: Where ``agent-sessions serve`` listens unless told otherwise, the base URL when none is given.
DEFAULT_URL = "http://127.0.0.1:3000"


class Client:
    """A client for a server that mounts the agent-sessions router.

    ``api_key`` and ``base_url`` default to ``AGENT_SESSIONS_API_KEY`` and ``AGENT_SESSIONS_URL``
    (then ``http://127.0.0.1:3000``, as the ``agent-sessions`` CLI does).
    Each attempt may take ``timeout`` seconds (a long-poll gets its wait on top); idempotent calls
    (reads, deletes, and creates, which carry an ``Idempotency-Key``) are retried ``retries`` times
    after a connection error, a timeout, a 429 or a 5xx but 501, waiting ``backoff`` (base, max)
    seconds doubled per attempt, or the ``Retry-After`` the server sent when that is longer.

    >>> client = Client(base_url="http://127.0.0.1:3000", api_key="...")
    >>> session = client.sessions.create(name="user-signup-flow", metadata={"environment": "staging"})
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: Tuple[float, float] = (0.2, 5.0),
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not isinstance(key, str) or key.strip() == "":
            raise ValueError(f"api_key: give the key the server was given (e.g. with --api-key), or set {API_KEY_ENV}")
        url = base_url if base_url is not None else (os.environ.get(URL_ENV) or DEFAULT_URL)
        self._transport = Transport(base_url=_check_base_url(url), api_key=key, timeout=timeout, retries=retries, backoff=backoff, headers=headers)
        #: Where the client sends its requests, without a trailing slash.
        self.base_url = self._transport.base_url
        #: Form definitions (seed 000).
        self.forms = Forms(self._transport)
        #: Form sessions (seed 000): create from a form, read, extend.
        self.form_sessions = FormSessions(self._transport)
        #: Workflow sessions (seed 001), and the event feed of any session.
        self.sessions = Sessions(self._transport)
        #: Inboxes of workflow sessions.
        self.inboxes = Inboxes(self._transport)
        #: Messages delivered to inboxes.
        self.messages = Messages(self._transport)
        #: Waits for a message or a one-time code, and waiting for them to end.
        self.waits = Waits(self._transport)
        #: Conversation threads (seed 002).
        self.threads = Threads(self._transport)
        #: Pending actions of threads: propose, confirm, deny, cancel.
        self.actions = Actions(self._transport)
        #: Agents (seed 003).
        self.agents = Agents(self._transport)
        #: Agent sessions (seed 003).
        self.agent_sessions = AgentSessions(self._transport)
        #: Webhook endpoints, their delivery logs, and ``verify``.
        self.webhooks = Webhooks(self._transport)

    @operation("GET", "/openapi.json")
    def openapi(self, *, options: Optional[RequestOptions] = None) -> Dict[str, Any]:
        """The server's OpenAPI 3.1 document."""
        document: Dict[str, Any] = self._transport.request(Call("GET", "/openapi.json"), options)
        return document

    def operations(self) -> List[Tuple[str, str, str]]:
        """Every ``(method, path, "resource.method")`` this client answers, the path as the OpenAPI document writes it."""
        found = []
        resources = [(name, value) for name, value in vars(self).items() if hasattr(value, "_transport")]
        for resource_name, resource in [("client", self), *resources]:
            for name in dir(type(resource)):
                marked = getattr(getattr(type(resource), name), "operation", None)
                if isinstance(marked, tuple):
                    found.append((marked[0], marked[1], f"{resource_name}.{name}"))
        return sorted(found)


def _check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url: '{value}' must be a URL starting with http:// or https://")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url: '{value}' must not have a query or a fragment")
    return value
