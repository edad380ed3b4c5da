"""What a call can fail with.

The server's refusals are ``ApiError`` subclasses carrying its JSON error body
(``{"error": "<HTTP reason>", "message": "<sentence>"}``), one subclass per status the server
uses; a request that never got an answer is a ``NetworkError`` or a ``TimeoutError``.
"""

from __future__ import annotations

import builtins
import email.utils
import json
import time
from typing import Any, Dict, Optional, Type

__all__ = [
    "AgentSessionsClientError",
    "ApiError",
    "ValidationError",
    "UnauthorizedError",
    "NotFoundError",
    "ConflictError",
    "ExpiredError",
    "PayloadTooLargeError",
    "UnprocessableContentError",
    "RateLimitError",
    "ServerError",
    "NetworkError",
    "TimeoutError",
    "WebhookVerificationError",
]


class AgentSessionsClientError(Exception):
    """The base of every error this client raises on purpose."""

    def __init__(self, message: str, request: str = "") -> None:
        super().__init__(message)
        #: The sentence describing what went wrong.
        self.message = message
        #: The request that failed, e.g. ``POST /v1/forms/support-intake/sessions``.
        self.request = request


class ApiError(AgentSessionsClientError):
    """The server answered with an error status; ``error`` and ``message`` are its error body."""

    def __init__(
        self,
        *,
        status: int,
        error: str,
        message: str,
        request: str,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, request)
        #: The HTTP status, e.g. 404.
        self.status = status
        #: The HTTP reason of the body, e.g. ``"Not found"``.
        self.error = error
        #: The ``X-Request-Id`` header of the answer, when the server (or a proxy) sent one.
        self.request_id = request_id
        #: Seconds the server asked to wait (``Retry-After``), when it sent them.
        self.retry_after = retry_after
        #: The parsed body as received (the error body, or the text of a body that was not JSON).
        self.body = body

    def __str__(self) -> str:
        return f"{self.request}: {self.status} {self.error}: {self.message}"


class ValidationError(ApiError):
    """400: malformed JSON, an invalid field or an unknown field; the message names the field."""


class UnauthorizedError(ApiError):
    """401: the API key is missing or wrong."""


class NotFoundError(ApiError):
    """404: no such record in this organization."""


class ConflictError(ApiError):
    """409: an illegal transition, a lost version race, a name taken or an Idempotency-Key reused with another body."""


class ExpiredError(ApiError):
    """410: the session, wait or action passed its deadline (the record stays readable)."""


class PayloadTooLargeError(ApiError):
    """413: the body or a value is larger than its limit."""


class UnprocessableContentError(ApiError):
    """422: an ``Idempotency-Key`` already used with a different request."""


class RateLimitError(ApiError):
    """429: too many requests; ``retry_after`` says when to try again."""


class ServerError(ApiError):
    """5xx: the server (or a proxy before it) failed."""


_ERROR_BY_STATUS: Dict[int, Type[ApiError]] = {
    400: ValidationError,
    401: UnauthorizedError,
    404: NotFoundError,
    409: ConflictError,
    410: ExpiredError,
    413: PayloadTooLargeError,
    422: UnprocessableContentError,
    429: RateLimitError,
}


class NetworkError(AgentSessionsClientError, builtins.ConnectionError):
    """The request got no answer: the connection was refused, reset or dropped (after any retries)."""


class TimeoutError(AgentSessionsClientError, builtins.TimeoutError):  # noqa: A001 - mirrors the TypeScript client's name
    """No answer came within the per-attempt timeout (after any retries)."""

    def __init__(self, request: str, timeout: float) -> None:
        super().__init__(f"{request}: no answer within {timeout:g} s", request)
        #: The timeout of each attempt, in seconds.
        self.timeout = timeout


class WebhookVerificationError(AgentSessionsClientError):
    """A webhook delivery whose headers, timestamp or signature do not check out."""


def api_error_from(status: int, reason: str, text: str, headers: Any, request: str) -> ApiError:
    """Builds the ``ApiError`` subclass of an answer whose status is 400 or more."""
    body: Any = text
    try:
        body = None if text == "" else json.loads(text)
    except ValueError:
        pass  # not JSON: a proxy's HTML page, say; keep the text
    fields = body if isinstance(body, dict) else {}
    error = fields.get("error") if isinstance(fields.get("error"), str) else (reason or f"HTTP {status}")
    if isinstance(fields.get("message"), str):
        message = fields["message"]
    else:
        snippet = f": {body[:200]}" if isinstance(body, str) and body else ""
        message = f"{request} answered {status}{snippet}"
    kind = _ERROR_BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return kind(
        status=status,
        error=error,
        message=message,
        request=request,
        request_id=headers.get("x-request-id"),
        retry_after=parse_retry_after(headers.get("retry-after")),
        body=body,
    )


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; ``None`` when absent or unreadable."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    try:
        seconds = float(text)
        return seconds if seconds >= 0 else None
    except ValueError:
        pass
    try:
        at = email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, at - (time.time() if now is None else now))
