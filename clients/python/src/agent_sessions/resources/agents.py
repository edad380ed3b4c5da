"""Agents and agent sessions (seed 003)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from .._transport import Call, RequestOptions, Transport, compact, operation, segment
from ..models import Agent, AgentSession, Page, page_of


class Agents:
    """Agents: a name, capabilities and a model."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/v1/agents")
    def create(
        self,
        *,
        name: str,
        capabilities: Optional[Sequence[Mapping[str, Any]]] = None,
        model_id: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Agent:
        """Creates an agent (sent with an Idempotency-Key); ``capabilities`` as ``{"ref", "config"?}``."""
        body = compact(name=name, capabilities=None if capabilities is None else [dict(each) for each in capabilities], model_id=model_id, metadata=metadata)
        return Agent.from_wire(self._transport.request(Call("POST", "/v1/agents", body=body, creates=True), options))

    @operation("GET", "/v1/agents")
    def list(
        self, *, limit: Optional[int] = None, offset: Optional[int] = None, cursor: Optional[str] = None, options: Optional[RequestOptions] = None
    ) -> Page[Agent]:
        """One page of agents, newest first."""
        query = {"limit": limit, "offset": offset, "cursor": cursor}
        return page_of(self._transport.request(Call("GET", "/v1/agents", query=query), options), Agent)

    @operation("GET", "/v1/agents/{id}")
    def get(self, agent_id: str, *, options: Optional[RequestOptions] = None) -> Agent:
        """An agent."""
        return Agent.from_wire(self._transport.request(Call("GET", f"/v1/agents/{segment(agent_id)}"), options))


class AgentSessions:
    """Agent sessions: one run of an agent, its turns, previews and usage."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @operation("POST", "/v1/sessions")
    def create(
        self,
        *,
        agent_id: str,
        capabilities: Optional[Sequence[Mapping[str, Any]]] = None,
        model_id: Optional[str] = None,
        tags: Optional[List[str]] = None,
        title: Optional[str] = None,
        options: Optional[RequestOptions] = None,
    ) -> AgentSession:
        """Creates a session of an existing agent (sent with an Idempotency-Key)."""
        body = compact(
            agent_id=agent_id,
            capabilities=None if capabilities is None else [dict(each) for each in capabilities],
            model_id=model_id,
            tags=tags,
            title=title,
        )
        return AgentSession.from_wire(self._transport.request(Call("POST", "/v1/sessions", body=body, creates=True), options))

    @operation("GET", "/v1/sessions/{id}")
    def get(self, session_id: str, *, options: Optional[RequestOptions] = None) -> AgentSession:
        """An agent session (a ``session_…`` id)."""
        return AgentSession.from_wire(self._transport.request(Call("GET", f"/v1/sessions/{segment(session_id)}"), options))

    @operation("POST", "/v1/sessions/{id}/messages")
    def post_message(
        self, session_id: str, *, role: str, content: str, usage: Optional[Dict[str, Any]] = None, options: Optional[RequestOptions] = None
    ) -> AgentSession:
        """A ``"user"`` message starts a turn, the ``"assistant"``'s response (with its ``usage``) ends it."""
        call = Call("POST", f"/v1/sessions/{segment(session_id)}/messages", body=compact(role=role, content=content, usage=usage))
        return AgentSession.from_wire(self._transport.request(call, options))

    @operation("POST", "/v1/sessions/{id}/finish")
    def finish(self, session_id: str, *, options: Optional[RequestOptions] = None) -> AgentSession:
        """Finishes the session."""
        return AgentSession.from_wire(self._transport.request(Call("POST", f"/v1/sessions/{segment(session_id)}/finish"), options))
