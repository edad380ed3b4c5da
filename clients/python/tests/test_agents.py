"""Agents and agent sessions (seed 003) against the server."""

from __future__ import annotations

import pytest

from agent_sessions import AgentSession, Client, ConflictError, ValidationError


def test_agents_and_agent_sessions(client: Client) -> None:
    agent = client.agents.create(name="support", capabilities=[{"ref": "web_search"}], model_id="gpt-x", metadata={"team": "a"})
    assert agent.id.startswith("agent_") and agent.capabilities[0].ref == "web_search" and agent.model_id == "gpt-x"
    assert client.agents.get(agent.id).name == "support"
    assert agent.id in [each.id for each in client.agents.list(limit=100).data]

    session = client.agent_sessions.create(agent_id=agent.id, tags=["debugging", "urgent"], title="Debug login issue", capabilities=[{"ref": "code", "config": {"x": 1}}])
    assert isinstance(session, AgentSession) and session.id.startswith("session_") and session.tags == ["debugging", "urgent"]
    assert session.capabilities[0].config == {"x": 1}
    started = client.agent_sessions.post_message(session.id, role="user", content="Login fails with 500")
    assert started.preview == "Login fails with 500"
    with pytest.raises(ConflictError):
        client.agent_sessions.post_message(session.id, role="user", content="again?")
    idle = client.agent_sessions.post_message(
        session.id, role="assistant", content="Found it: an expired certificate.", usage={"input_tokens": 812, "output_tokens": 64}
    )
    assert idle.status == "idle" and idle.output_preview == "Found it: an expired certificate." and idle.usage
    assert client.agent_sessions.get(session.id).status == "idle"
    finished = client.agent_sessions.finish(session.id)
    assert finished.finished_at is not None
    with pytest.raises(ValidationError) as refused:
        client.agent_sessions.create(agent_id="agent_123")
    assert refused.value.message == "agent_id: Invalid agent ID"
