"""Forms and form sessions (seed 000)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from .._transport import Call, RequestOptions, Transport, compact, operation, segment
from ..models import Form, FormSession, Page, page_of


class Forms:
    """Form definitions; ``get`` takes an id or a slug."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/v1/forms")
    def create(
        self,
        *,
        name: str,
        fields: Sequence[Mapping[str, Any]],
        slug: Optional[str] = None,
        allow_partial: Optional[bool] = None,
        metadata: Optional[Dict[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Form:
        """Creates a form (sent with an Idempotency-Key); ``fields`` as the wire has them: ``{"name", "type", "label"?, "required"?, "options"?}``."""
        body = compact(name=name, slug=slug, fields=[dict(field) for field in fields], allowPartial=allow_partial, metadata=metadata)
        return Form.from_wire(self._transport.request(Call("POST", "/v1/forms", body=body, creates=True), options))

    @operation("GET", "/v1/forms")
    def list(
        self, *, limit: Optional[int] = None, offset: Optional[int] = None, cursor: Optional[str] = None, options: Optional[RequestOptions] = None
    ) -> Page[Form]:
        """One page of forms, newest first."""
        query = {"limit": limit, "offset": offset, "cursor": cursor}
        return page_of(self._transport.request(Call("GET", "/v1/forms", query=query), options), Form)

    @operation("GET", "/v1/forms/{id}")
    def get(self, form: str, *, options: Optional[RequestOptions] = None) -> Form:
        """A form by id or slug."""
        return Form.from_wire(self._transport.request(Call("GET", f"/v1/forms/{segment(form)}"), options))


class FormSessions:
    """One person's session with a form, from creation to submission or expiry."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/v1/forms/{id}/sessions")
    def create(
        self,
        form: str,
        *,
        expires_in: Optional[int] = None,
        prefill: Optional[Dict[str, Any]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        remind_before: Optional[List[int]] = None,
        options: Optional[RequestOptions] = None,
    ) -> FormSession:
        """Creates a session of a form (by id or slug); the answer carries the hosted ``url`` to send to the person."""
        body = compact(expires_in=expires_in, prefill=prefill, metadata=metadata, remind_before=remind_before)
        call = Call("POST", f"/v1/forms/{segment(form)}/sessions", body=body, creates=True)
        return FormSession.from_wire(self._transport.request(call, options))

    @operation("GET", "/v1/sessions")
    def list(
        self,
        *,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        cursor: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> Page[FormSession]:
        """One page of form sessions, newest first, by ``status`` (created, open, submitted, expired) too."""
        query = {"status": status, "limit": limit, "offset": offset, "cursor": cursor}
        return page_of(self._transport.request(Call("GET", "/v1/sessions", query=query), options), FormSession)

    @operation("GET", "/v1/sessions/{id}")
    def get(self, session_id: str, *, options: Optional[RequestOptions] = None) -> FormSession:
        """The form session as of now, with its submission once there is one."""
        return FormSession.from_wire(self._transport.request(Call("GET", f"/v1/sessions/{segment(session_id)}"), options))

    @operation("PATCH", "/v1/sessions/{id}")
    def extend(self, session_id: str, *, expires_in: int, options: Optional[RequestOptions] = None) -> FormSession:
        """Pushes ``expires_at`` later by ``expires_in`` seconds (created or open sessions only)."""
        call = Call("PATCH", f"/v1/sessions/{segment(session_id)}", body={"expires_in": expires_in})
        return FormSession.from_wire(self._transport.request(call, options))
