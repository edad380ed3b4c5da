"""Forms and form sessions (seed 000) against the server."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
import uuid

import pytest

from agent_sessions import Client, ConflictError, ExpiredError, Form, FormSession, Submission, ValidationError

FIELDS = [
    {"name": "email", "label": "Email", "type": "email", "required": True},
    {"name": "issue", "label": "What went wrong?", "type": "textarea", "required": True},
    {"name": "session_id", "type": "hidden"},
]


def _form(client: Client) -> Form:
    return client.forms.create(name="Support intake", slug=f"support-{uuid.uuid4().hex[:8]}", allow_partial=True, fields=FIELDS, metadata={"team": "a"})


def test_forms_create_list_get_by_id_and_slug(client: Client) -> None:
    form = _form(client)
    assert form.id.startswith("form_") and form.allow_partial is True and form.metadata == {"team": "a"}
    assert [field.name for field in form.fields] == ["email", "issue", "session_id"] and form.fields[0].required is True
    assert client.forms.get(form.id).slug == form.slug
    assert client.forms.get(form.slug or "").id == form.id
    page = client.forms.list(limit=50)
    assert form.id in [each.id for each in page.data] and page.pagination.total >= 1
    with pytest.raises(ConflictError):
        client.forms.create(name="Again", slug=form.slug, fields=FIELDS)
    with pytest.raises(ValidationError) as refused:
        client.forms.create(name="Bad", fields=[{"name": "email", "type": "emailx"}])
    assert refused.value.status == 400 and refused.value.message.startswith("fields[0].type:")


def test_form_sessions_create_get_list_extend_and_submission(client: Client) -> None:
    form = _form(client)
    session = client.form_sessions.create(
        form.slug or "", expires_in=3600, prefill={"email": "user@example.com", "session_id": "sess_internal_ref"}, metadata={"thread_id": "thread_42"}
    )
    assert isinstance(session, FormSession) and session.status == "created" and session.submission is None
    assert session.url.endswith(f"/f/{session.id}") and session.prefill["session_id"] == "sess_internal_ref"
    extended = client.form_sessions.extend(session.id, expires_in=1800)
    assert extended.expires_at > session.expires_at
    # A person submits the hosted page (no API key: the URL is the capability).
    posted = urllib.parse.urlencode({"email": "user@example.com", "issue": "Login fails"}).encode()
    urllib.request.urlopen(urllib.request.Request(session.url, data=posted, method="POST"), timeout=10).read()
    submitted = client.form_sessions.get(session.id)
    assert submitted.status == "submitted" and isinstance(submitted.submission, Submission)
    assert submitted.submission.values["session_id"] == "sess_internal_ref" and submitted.submission.partial is False
    assert submitted.id in [each.id for each in client.form_sessions.list(status="submitted", limit=100).data]
    with pytest.raises(ConflictError):
        client.form_sessions.extend(session.id, expires_in=1800)


def test_an_expired_form_session_cannot_be_extended(client: Client) -> None:
    session = client.form_sessions.create(_form(client).id, expires_in=1)
    time.sleep(1.2)
    with pytest.raises(ExpiredError) as refused:
        client.form_sessions.extend(session.id, expires_in=60)
    assert refused.value.status == 410 and refused.value.error == "Gone"
    assert client.form_sessions.get(session.id).status == "expired"
