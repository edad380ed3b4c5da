"""Sends calls to one server: authentication, JSON, timeouts, retries and idempotency keys."""

from __future__ import annotations

import builtins
import http.client
import json
import random
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from .errors import AgentSessionsClientError, ApiError, NetworkError, TimeoutError, api_error_from

T = TypeVar("T")

#: Query values the transport sends; ``None`` leaves the parameter out.
Query = Mapping[str, Optional[object]]


@dataclass(frozen=True)
class RequestOptions:
    """Options of one call, each one instead of the client's setting."""

    #: Seconds this call's attempts may each take.
    timeout: Optional[float] = None
    #: Further attempts after a failed idempotent request.
    retries: Optional[int] = None
    #: For creates: the ``Idempotency-Key`` to send instead of a random one (reuse it to repeat a call safely).
    idempotency_key: Optional[str] = None


@dataclass(frozen=True)
class Call:
    """One HTTP call as the resource modules describe it."""

    method: str
    #: The path below the base URL, ids already encoded.
    path: str
    query: Optional[Query] = None
    body: Any = None
    #: A create: sends an ``Idempotency-Key``, which makes the POST safe to retry.
    creates: bool = False
    #: Seconds the server may hold this request open (a long-poll): added to the timeout.
    hold_seconds: float = 0
    #: The media type asked for (``Accept``).
    accept: str = "application/json"
    #: Headers of this call only, e.g. ``Last-Event-ID``.
    headers: Optional[Mapping[str, str]] = None


class Opened:
    """An answer whose headers arrived and whose body is still to read; ``close`` ends its connection."""

    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse, sock: Optional[socket.socket]) -> None:
        self.connection = connection
        self.response = response
        # Kept apart: the connection lets go of its socket once an answer says `Connection: close`.
        self._sock = sock

    def read_timeout(self, seconds: float) -> None:
        """Sets how long each read of the body may wait for a byte."""
        if self._sock is not None:
            self._sock.settimeout(seconds)

    @property
    def content_type(self) -> str:
        """The media type of the answer, lowercased, without parameters."""
        return (self.response.getheader("content-type") or "").split(";")[0].strip().lower()

    def close(self) -> None:
        """Closes the connection, whatever was read of the body."""
        self.response.close()
        self.connection.close()
        if self._sock is not None:
            self._sock.close()


def segment(value: str) -> str:
    """Encodes one path segment (an id or a slug)."""
    if not isinstance(value, str) or value == "":
        raise TypeError("id: must be a non-empty string")
    return quote(value, safe="")


def _retryable(error: AgentSessionsClientError) -> bool:
    """Whether a failed attempt may be repeated: no answer, or an answer that says "try again"."""
    if isinstance(error, (NetworkError, TimeoutError)):
        return True
    if not isinstance(error, ApiError):
        return False
    # The first attempt under this Idempotency-Key is still running on the server: ask again.
    if error.status == 409 and error.message.startswith("Idempotency-Key:") and "in progress" in error.message:
        return True
    return error.status == 429 or (error.status >= 500 and error.status != 501)


class Transport:
    """The connection settings of a client and the retry loop every call goes through."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float,
        retries: int,
        backoff: Tuple[float, float],
        headers: Optional[Mapping[str, str]],
    ) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = _check_number("timeout", timeout, 0, exclusive=True)
        self._retries = int(_check_number("retries", retries, 0))
        self._backoff_base = _check_number("backoff[0]", backoff[0], 0)
        self._backoff_max = _check_number("backoff[1]", backoff[1], 0)
        self._headers: Dict[str, str] = {**(headers or {}), "Authorization": f"Bearer {api_key}", "User-Agent": "agent-sessions-python"}

    def backoff_seconds(self, attempt: int) -> float:
        """The delay before attempt ``attempt + 1``: base doubled per attempt, at most max, half of it random."""
        backoff = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
        return backoff / 2 + random.random() * (backoff / 2)

    def request(self, call: Call, options: Optional[RequestOptions] = None) -> Any:
        """Sends ``call`` and returns its JSON answer, retrying what is safe to retry."""
        return self._send(call, options, self._read_json)

    def open(self, call: Call, options: Optional[RequestOptions] = None, read_timeout: Optional[float] = None) -> Opened:
        """Sends ``call`` as ``request`` does, retries included, but returns once the headers arrived, body unread.

        ``read_timeout`` then replaces the timeout for each read of the body.
        """

        def keep(opened: Opened) -> Opened:
            if read_timeout is not None:
                opened.read_timeout(read_timeout)
            return opened

        return self._send(call, options, keep, keep_open=True)

    def _send(self, call: Call, options: Optional[RequestOptions], read: Callable[[Opened], T], keep_open: bool = False) -> T:
        options = options or RequestOptions()
        target = self._prefix + call.path + _query_string(call.query)
        label = f"{call.method} {call.path}"
        headers = {**self._headers, **(call.headers or {}), "Accept": call.accept}
        body: Optional[bytes] = None
        if call.body is not None:
            body = json.dumps(call.body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if call.creates:
            headers["Idempotency-Key"] = options.idempotency_key or str(uuid.uuid4())
        # GET and DELETE change nothing twice; a POST is safe to repeat only under its Idempotency-Key.
        repeatable = call.method in ("GET", "DELETE") or "Idempotency-Key" in headers
        retries = self._retries if options.retries is None else int(_check_number("retries", options.retries, 0))
        attempts = 1 + (retries if repeatable else 0)
        timeout = (self._timeout if options.timeout is None else _check_number("timeout", options.timeout, 0, exclusive=True)) + call.hold_seconds

        attempt = 1
        while True:
            try:
                opened = self._attempt(call.method, target, headers, body, label, timeout)
                try:
                    return read(opened)
                except ValueError as error:
                    raise AgentSessionsClientError(f"{label}: the answer is not JSON ({error})", label) from error
                finally:
                    if not keep_open:
                        opened.close()
            except (socket.timeout, builtins.TimeoutError) as error:
                failure: AgentSessionsClientError = TimeoutError(label, timeout)
                failure.__cause__ = error
            except AgentSessionsClientError as error:
                failure = error
            except (OSError, http.client.HTTPException) as error:
                failure = NetworkError(f"{label}: {_describe(error)}", label)
                failure.__cause__ = error
            if attempt >= attempts or not _retryable(failure):
                raise failure
            retry_after = failure.retry_after if isinstance(failure, ApiError) else None
            time.sleep(max(self.backoff_seconds(attempt), min(retry_after or 0, 60)))
            attempt += 1

    def _attempt(self, method: str, target: str, headers: Mapping[str, str], body: Optional[bytes], label: str, timeout: float) -> Opened:
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=ssl.create_default_context())
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        try:
            connection.request(method, target, body=body, headers=dict(headers))
            sock = connection.sock
            response = connection.getresponse()
            if response.status >= 400:
                text = response.read().decode("utf-8", errors="replace")
                raise api_error_from(response.status, response.reason, text, _Headers(response), label)
        except BaseException:
            connection.close()
            raise
        return Opened(connection, response, sock)

    @staticmethod
    def _read_json(opened: Opened) -> Any:
        """The answer's JSON body (``None`` when empty); a ``ValueError`` when it is not JSON."""
        text = opened.response.read().decode("utf-8")
        return None if text == "" else json.loads(text)


class _Headers:
    """Case-insensitive ``get`` over a response's headers."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self._response = response

    def get(self, name: str) -> Optional[str]:
        return self._response.getheader(name)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if type(error).__name__ in text else f"{type(error).__name__}: {text}"


def _query_string(query: Optional[Query]) -> str:
    if not query:
        return ""
    pairs = [(name, _query_value(value)) for name, value in query.items() if value is not None]
    return "" if not pairs else "?" + urlencode(pairs)


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_number(name: str, value: Any, minimum: float, exclusive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        raise TypeError(f"{name}: must be a number of {'more than' if exclusive else 'at least'} {minimum}")
    if value < minimum or (exclusive and value == minimum):
        raise ValueError(f"{name}: must be a number of {'more than' if exclusive else 'at least'} {minimum}, not {value}")
    return float(value)


F = TypeVar("F", bound=Callable[..., Any])


def operation(method: str, path: str) -> Callable[[F], F]:
    """Marks a client method as the one answering the OpenAPI operation ``method path`` (a test compares the two lists)."""

    def mark(function: F) -> F:
        function.__dict__["operation"] = (method, path)
        return function

    return mark


def compact(**values: Any) -> Dict[str, Any]:
    """A request body of the given values, those that are ``None`` left out."""
    return {name: value for name, value in values.items() if value is not None}
