"""Threads, context variables and pending actions (seed 002, issue 10's decisions) against the server."""

from __future__ import annotations

import pytest

from agent_sessions import Client, ClosedThread, PendingAction, ProposedAction, ValidationError


def test_threads_context_variables_and_close(client: Client) -> None:
    thread = client.threads.create(context_variables={"USER_PLAN": "free"}, metadata={"channel": "web"})
    assert thread.thread_id.startswith("thread_") and thread.status == "active" and thread.context_variables == {"USER_PLAN": "free"}
    updated = client.threads.update_context(thread.thread_id, context_variables={"USER_PLAN": "enterprise", "ACCOUNT_STATUS": "active"})
    assert updated.context_variables == {"USER_PLAN": "enterprise", "ACCOUNT_STATUS": "active"}
    removed = client.threads.update_context(thread.thread_id, context_variables={"ACCOUNT_STATUS": None})
    assert removed.context_variables == {"USER_PLAN": "enterprise"}
    with pytest.raises(ValidationError) as refused:
        client.threads.update_context(thread.thread_id, context_variables={"userPlan": "x"})
    assert "userPlan" in refused.value.message
    pending = client.actions.propose(thread.thread_id, tool="send_email", preview={"to": "user@example.com"}, expires_in=600)
    assert client.threads.get(thread.thread_id).pending_actions == [pending.action_id]
    closed = client.threads.close(thread.thread_id)
    assert isinstance(closed, ClosedThread) and closed.thread_id == thread.thread_id and isinstance(closed.billable, bool)
    assert client.actions.get(thread.thread_id, pending.action_id).status == "cancelled"
    assert client.threads.get(thread.thread_id).status == "closed"


def test_actions_propose_confirm_with_edited_args_deny_and_cancel(client: Client) -> None:
    thread = client.threads.create()
    schema = {"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]}
    proposed = client.actions.propose(
        thread.thread_id, tool="send_email", preview={"subject": "Refund"}, args={"to": "ana@example.com"}, args_schema=schema, on_expire="deny"
    )
    assert isinstance(proposed, ProposedAction) and proposed.status == "pending" and proposed.review_url
    assert proposed.args == {"to": "ana@example.com"} and proposed.on_expire == "deny" and proposed.approvals == []
    with pytest.raises(ValidationError):
        client.actions.confirm(thread.thread_id, proposed.action_id, args={"to": 42})
    confirmed = client.actions.confirm(thread.thread_id, proposed.action_id, args={"to": "bob@example.com"})
    assert confirmed.callback_id and confirmed.callback_id.startswith("cb_") and confirmed.action_id == proposed.action_id
    action = client.actions.get(thread.thread_id, proposed.action_id)
    assert isinstance(action, PendingAction) and action.args_changed is True and action.original_args == {"to": "ana@example.com"}
    assert action.decided_via == "api"

    denied = client.actions.propose(thread.thread_id, tool="refund", preview={"amount": 10})
    answer = client.actions.deny(thread.thread_id, denied.action_id, reason="wrong amount")
    assert answer.status == "cancelled" and answer.callback_id is None
    assert client.actions.get(thread.thread_id, denied.action_id).reason == "wrong amount"

    cancelled = client.actions.propose(thread.thread_id, tool="refund", preview={"amount": 20}, approvers=["ana@example.com", "bob@example.com"], approvals_required=2)
    assert set((cancelled.review_urls or {}).keys()) == {"ana@example.com", "bob@example.com"}
    assert client.actions.cancel(thread.thread_id, cancelled.action_id).status == "cancelled"

    decided = client.actions.propose(thread.thread_id, tool="noop", preview={}, remind_before=[60])
    assert client.actions.decide(thread.thread_id, decided.action_id, confirmed=False).status == "cancelled"
