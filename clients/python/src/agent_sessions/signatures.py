"""Checks a webhook delivery's Standard Webhooks signature with the standard library."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Mapping, Optional, Union

from .errors import WebhookVerificationError

#: The prefix of every endpoint secret.
SECRET_PREFIX = "whsec_"

#: How far a delivery's ``webhook-timestamp`` may be from now, in seconds (the specification's five minutes).
DEFAULT_TOLERANCE_SECONDS = 300


def verify(
    payload: Union[bytes, str],
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[float] = None,
) -> Any:
    """Checks one delivery and returns its body as parsed JSON.

    ``payload`` is the raw request body exactly as received (bytes or text), ``headers`` its headers
    (any casing), ``secret`` the endpoint's ``whsec_…`` secret. Raises ``WebhookVerificationError``
    naming what failed: a missing header, a timestamp outside ``tolerance`` seconds of ``now``, or no
    ``v1`` signature matching the HMAC-SHA256 of ``{id}.{timestamp}.{payload}``.
    """
    lowered = {str(name).lower(): value for name, value in headers.items()}
    webhook_id = _header(lowered, "webhook-id")
    timestamp_text = _header(lowered, "webhook-timestamp")
    signatures = _header(lowered, "webhook-signature")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError(f"webhook-timestamp: '{timestamp_text}' is not a number of seconds", "verify") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp: {timestamp} is more than {tolerance:g} s from now", "verify")
    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    signed = webhook_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    matched = False
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        # Compare every candidate in constant time, and do not stop at the first match.
        if version == "v1" and hmac.compare_digest(signature.encode("ascii", errors="replace"), expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("webhook-signature: no v1 signature matches the payload and the secret", "verify")
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError as error:
        raise WebhookVerificationError(f"payload: the signed body is not JSON ({error})", "verify") from error


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise WebhookVerificationError(f"{name}: the header is missing", "verify")
    return value


def _key(secret: str) -> bytes:
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("secret: must be the whsec_… secret the endpoint was created with (base64 after whsec_)", "verify") from None
