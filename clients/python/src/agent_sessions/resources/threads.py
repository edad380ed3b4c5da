"""Conversation threads and their pending actions (seed 002)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from .._transport import Call, RequestOptions, Transport, compact, operation, segment
from ..models import ActionDecision, ClosedThread, PendingAction, ProposedAction, Thread

_UNSET: Any = object()


def _path(thread_id: str, rest: str = "") -> str:
    return f"/api/v1/sessions/{segment(thread_id)}{rest}"


class Threads:
    """Conversation threads: context variables, closing."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/api/v1/threads")
    def create(
        self,
        *,
        context_variables: Optional[Dict[str, Any]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Thread:
        """Starts a thread (sent with an Idempotency-Key)."""
        body = compact(context_variables=context_variables, metadata=metadata)
        return Thread.from_wire(self._transport.request(Call("POST", "/api/v1/threads", body=body, creates=True), options))

    @operation("GET", "/api/v1/sessions/{id}")
    def get(self, thread_id: str, *, options: Optional[RequestOptions] = None) -> Thread:
        """The thread with its context variables and pending actions."""
        return Thread.from_wire(self._transport.request(Call("GET", _path(thread_id)), options))

    @operation("PATCH", "/api/v1/sessions/{id}")
    def update_context(self, thread_id: str, *, context_variables: Dict[str, Any], options: Optional[RequestOptions] = None) -> Thread:
        """Merges ``context_variables`` (UPPERCASE_SNAKE_CASE keys; ``None`` removes a key)."""
        call = Call("PATCH", _path(thread_id), body={"context_variables": context_variables})
        return Thread.from_wire(self._transport.request(call, options))

    @operation("POST", "/api/v1/sessions/{thread_id}/close")
    def close(self, thread_id: str, *, options: Optional[RequestOptions] = None) -> ClosedThread:
        """Closes the thread and cancels its pending actions."""
        return ClosedThread.from_wire(self._transport.request(Call("POST", _path(thread_id, "/close")), options))


class Actions:
    """Pending actions of threads: proposed by the agent, confirmed or denied by a person."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/api/v1/sessions/{thread_id}/actions")
    def propose(
        self,
        thread_id: str,
        *,
        tool: str,
        preview: Dict[str, Any],
        expires_in: Optional[int] = None,
        args: Any = _UNSET,
        args_schema: Optional[Dict[str, Any]] = None,
        approvers: Optional[List[str]] = None,
        approvals_required: Optional[int] = None,
        on_expire: Optional[str] = None,
        remind_before: Optional[List[int]] = None,
        options: Optional[RequestOptions] = None,
    ) -> ProposedAction:
        """Proposes a tool call (sent with an Idempotency-Key); the answer carries the review links this once."""
        body = compact(
            tool=tool,
            preview=preview,
            expires_in=expires_in,
            args_schema=args_schema,
            approvers=approvers,
            approvals_required=approvals_required,
            on_expire=on_expire,
            remind_before=remind_before,
        )
        if args is not _UNSET:
            body["args"] = args
        call = Call("POST", _path(thread_id, "/actions"), body=body, creates=True)
        return ProposedAction.from_wire(self._transport.request(call, options))

    @operation("GET", "/api/v1/sessions/{thread_id}/actions/{action_id}")
    def get(self, thread_id: str, action_id: str, *, options: Optional[RequestOptions] = None) -> PendingAction:
        """The action with its status, arguments, result and who decided."""
        return PendingAction.from_wire(self._transport.request(Call("GET", _path(thread_id, f"/actions/{segment(action_id)}")), options))

    @operation("POST", "/api/v1/sessions/{thread_id}/actions/{action_id}")
    def decide(
        self, thread_id: str, action_id: str, *, confirmed: bool, args: Any = _UNSET, reason: Optional[str] = None, options: Optional[RequestOptions] = None
    ) -> ActionDecision:
        """``confirmed=True`` (202, with a ``callback_id``; ``args`` edits the arguments) or ``False`` (200, ``cancelled``, with a ``reason``)."""
        body: Dict[str, Any] = compact(confirmed=confirmed, reason=reason)
        if args is not _UNSET:
            body["args"] = args
        call = Call("POST", _path(thread_id, f"/actions/{segment(action_id)}"), body=body)
        return ActionDecision.from_wire(self._transport.request(call, options))

    @operation("POST", "/api/v1/sessions/{thread_id}/actions/{action_id}")
    def confirm(self, thread_id: str, action_id: str, *, args: Any = _UNSET, options: Optional[RequestOptions] = None) -> ActionDecision:
        """Confirms: the tool's executor runs asynchronously, with ``args`` when given (checked against ``args_schema``)."""
        return self.decide(thread_id, action_id, confirmed=True, args=args, options=options)

    @operation("POST", "/api/v1/sessions/{thread_id}/actions/{action_id}")
    def deny(self, thread_id: str, action_id: str, *, reason: Optional[str] = None, options: Optional[RequestOptions] = None) -> ActionDecision:
        """Denies: status ``cancelled``, with the ``reason`` kept on the action for the agent to read."""
        return self.decide(thread_id, action_id, confirmed=False, reason=reason, options=options)

    @operation("POST", "/api/v1/sessions/{thread_id}/actions/{action_id}")
    def cancel(self, thread_id: str, action_id: str, *, options: Optional[RequestOptions] = None) -> ActionDecision:
        """Cancels: status ``cancelled`` (a denial without a reason)."""
        return self.decide(thread_id, action_id, confirmed=False, options=options)
