"""Every operation of the server's OpenAPI document (hosted pages aside) has a client method."""

from __future__ import annotations

import re

from agent_sessions import Client

#: The HTML pages a person opens in a browser: no API client calls them.
HOSTED_TAGS = {"Hosted form page", "Review page"}


def _normalized(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_client_answers_every_operation_of_the_openapi_document(client: Client) -> None:
    document = client.openapi()
    served = {
        (method.upper(), _normalized(path))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete") and not HOSTED_TAGS.intersection(operation.get("tags", []))
    }
    answered = {(method, _normalized(path)) for method, path, _ in client.operations()}
    assert served - answered == set(), "operations of /openapi.json without a client method"
    assert answered - served == set(), "client methods for operations /openapi.json does not have"
    assert len(served) >= 38
