"""The answers of the API as dataclasses with snake_case attributes (``session.id``, ``sessions.data``).

Free-form JSON the caller wrote (``metadata``, ``prefill``, ``context_variables``, ``payload``,
``usage``) stays a plain ``dict`` with its keys as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Generic, List, Optional, TypeVar

from ._model import Model, many, one, wire

T = TypeVar("T")

JsonObject = Dict[str, Any]

# ---- shared ----


@dataclass
class Pagination(Model):
    """Where a page sits in the list: seed 001's ``pagination``, with the cursor of the next page."""

    wire_case = "camel"
    limit: int = wire()
    offset: int = wire()
    total: int = wire()
    next_cursor: Optional[str] = wire(optional=True)


@dataclass
class Page(Generic[T]):
    """One page of a list: ``data`` and ``pagination``; ``extra`` holds fields this client does not know."""

    data: List[T]
    pagination: Pagination
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


# ---- workflow sessions, inboxes, messages, waits (seed 001) ----


@dataclass
class Session(Model):
    """A workflow session with the ids of its inboxes and waits."""

    wire_case = "camel"
    id: str = wire()
    name: str = wire()
    status: str = wire()
    created_at: str = wire()
    updated_at: str = wire()
    completed_at: Optional[str] = wire()
    metadata: JsonObject = wire()
    inboxes: List[str] = wire()
    waits: List[str] = wire()


@dataclass
class CompletedSession(Model):
    """The answer to completing a session."""

    wire_case = "camel"
    id: str = wire()
    status: str = wire()
    completed_at: str = wire()


@dataclass
class TimelineEvent(Model):
    """One event of a session's timeline."""

    id: str = wire()
    timestamp: str = wire()
    type: str = wire()
    payload: JsonObject = wire()


@dataclass
class Timeline(Model):
    """Every event of a session, in order."""

    events: List[TimelineEvent] = wire(parse=many(TimelineEvent))


@dataclass
class StepError(Model):
    """The error a recorded step ended with; a critical one failed the session."""

    message: str = wire()
    critical: bool = wire()


@dataclass
class Step(Model):
    """A recorded step, as replayed."""

    wire_case = "camel"
    index: int = wire()
    timestamp: str = wire()
    action: str = wire()
    input: Any = wire()
    output: Any = wire()
    duration_ms: int = wire()
    error: Optional[StepError] = wire(parse=one(StepError), optional=True)


@dataclass
class Replay(Model):
    """The recorded steps of a session."""

    steps: List[Step] = wire(parse=many(Step))


@dataclass
class Inbox(Model):
    """An inbox of a workflow session."""

    wire_case = "camel"
    id: str = wire()
    session_id: str = wire()
    ttl_seconds: int = wire()
    created_at: str = wire()
    expires_at: str = wire()


@dataclass
class Message(Model):
    """A message an inbox received; ``from_`` is its wire ``from``."""

    wire_case = "camel"
    id: str = wire()
    inbox_id: str = wire()
    from_: str = wire("from")
    subject: str = wire()
    body: str = wire()
    received_at: str = wire()


@dataclass
class InboxWithMessages(Inbox):
    """An inbox with the messages it received."""

    messages: List[Message] = wire(parse=many(Message), optional=True)


@dataclass
class WaitResult(Model):
    """The message that completed a wait and, for ``otp`` waits or waits with a ``pattern``, the code."""

    wire_case = "camel"
    message_id: str = wire()
    from_: str = wire("from")
    subject: str = wire()
    body: str = wire()
    code: Optional[str] = wire()


@dataclass
class Wait(Model):
    """A wait for a message or a one-time code.

    ``result`` is a ``WaitResult`` once a message completed it; when ``timed_out`` (it resolved at its
    timeout with ``on_timeout={"resolve_with": ...}``) it is that value as sent.
    """

    wire_case = "camel"
    id: str = wire()
    session_id: str = wire()
    type: str = wire()
    inbox_id: str = wire()
    status: str = wire()
    timeout_seconds: int = wire()
    created_at: str = wire()
    expires_at: str = wire()
    completed_at: Optional[str] = wire()
    result: Any = wire()
    timed_out: bool = wire("timed_out")
    on_timeout: Any = wire("on_timeout", optional=True)
    pattern: Optional[str] = wire(optional=True)
    since: Optional[str] = wire(optional=True)
    remind_before: Optional[List[int]] = wire("remind_before", optional=True)

    @classmethod
    def from_wire(cls, data: Any) -> "Wait":
        """Builds the wait, its ``result`` a ``WaitResult`` unless the wait resolved at its timeout."""
        wait = super().from_wire(data)
        if not wait.timed_out and isinstance(wait.result, dict):
            wait.result = WaitResult.from_wire(wait.result)
        return wait


# ---- forms and form sessions (seed 000) ----


@dataclass
class FormField(Model):
    """One field of a form."""

    name: str = wire()
    type: str = wire()
    label: Optional[str] = wire(optional=True)
    required: Optional[bool] = wire(optional=True)
    options: Optional[List[str]] = wire(optional=True)


@dataclass
class Form(Model):
    """A form definition."""

    id: str = wire()
    name: str = wire()
    slug: Optional[str] = wire()
    fields: List[FormField] = wire(parse=many(FormField))
    allow_partial: bool = wire("allowPartial")
    metadata: JsonObject = wire()
    created_at: str = wire()
    updated_at: str = wire()


@dataclass
class Submission(Model):
    """What a person submitted; ``partial`` submissions list the required fields left out."""

    values: JsonObject = wire()
    partial: bool = wire()
    missing_fields: List[str] = wire()
    submitted_at: str = wire()


@dataclass
class FormSession(Model):
    """One person's session with a form, with its hosted ``url``."""

    id: str = wire()
    form_id: str = wire()
    status: str = wire()
    url: str = wire()
    expires_at: str = wire()
    created_at: str = wire()
    updated_at: str = wire()
    prefill: JsonObject = wire()
    metadata: JsonObject = wire()
    submission: Optional[Submission] = wire(parse=one(Submission))
    remind_before: Optional[List[int]] = wire(optional=True)


# ---- threads and pending actions (seed 002) ----


@dataclass
class Thread(Model):
    """A conversation thread."""

    thread_id: str = wire()
    status: str = wire()
    context_variables: JsonObject = wire()
    metadata: JsonObject = wire()
    created_at: str = wire()
    updated_at: str = wire()
    closed_at: Optional[str] = wire()
    duration_seconds: Optional[int] = wire()
    billable: Optional[bool] = wire()
    pending_actions: List[str] = wire()


@dataclass
class ClosedThread(Model):
    """The answer to closing a thread."""

    thread_id: str = wire()
    closed_at: str = wire()
    duration_seconds: int = wire()
    billable: bool = wire()


@dataclass
class ActionApproval(Model):
    """One approver's approval of an action that needs approvals from named approvers."""

    approver: str = wire()
    approved_at: str = wire()


@dataclass
class PendingAction(Model):
    """A tool call waiting for (or past) a person's decision."""

    action_id: str = wire()
    thread_id: str = wire()
    tool: str = wire()
    preview: JsonObject = wire()
    expires_at: str = wire()
    status: str = wire()
    callback_id: Optional[str] = wire()
    cancel_reason: Optional[str] = wire()
    attempts: int = wire()
    result: Any = wire()
    error: Optional[str] = wire()
    created_at: str = wire()
    decided_at: Optional[str] = wire()
    completed_at: Optional[str] = wire()
    args: Any = wire()
    original_args: Any = wire()
    args_changed: bool = wire()
    args_schema: Optional[JsonObject] = wire()
    reason: Optional[str] = wire()
    decided_by: Optional[str] = wire()
    decided_via: Optional[str] = wire()
    on_expire: str = wire()
    approvers: List[str] = wire()
    approvals_required: int = wire()
    approvals: List[ActionApproval] = wire(parse=many(ActionApproval))
    remind_before: List[int] = wire()


@dataclass
class ProposedAction(PendingAction):
    """The answer to proposing an action: the action, with its review links (shown only this once)."""

    review_url: Optional[str] = wire(optional=True)
    review_urls: Optional[Dict[str, str]] = wire(optional=True)


@dataclass
class ActionDecision(Model):
    """The answer to confirming (``callback_id`` set) or cancelling an action."""

    thread_id: str = wire()
    action_id: str = wire()
    status: str = wire()
    message: str = wire()
    callback_id: Optional[str] = wire(optional=True)


# ---- agents and agent sessions (seed 003) ----


@dataclass
class Capability(Model):
    """A capability of an agent or a session: a reference and its configuration."""

    ref: str = wire()
    config: Optional[JsonObject] = wire(optional=True)


@dataclass
class Agent(Model):
    """An agent."""

    id: str = wire()
    name: str = wire()
    capabilities: List[Capability] = wire(parse=many(Capability))
    model_id: Optional[str] = wire()
    metadata: JsonObject = wire()
    created_at: str = wire()
    updated_at: str = wire()


@dataclass
class AgentSession(Model):
    """One run of an agent, with its previews and usage."""

    id: str = wire()
    agent_id: str = wire()
    organization_id: str = wire()
    capabilities: List[Capability] = wire(parse=many(Capability))
    model_id: Optional[str] = wire()
    tags: List[str] = wire()
    title: Optional[str] = wire()
    status: str = wire()
    started_at: Optional[str] = wire()
    finished_at: Optional[str] = wire()
    preview: Optional[str] = wire()
    output_preview: Optional[str] = wire()
    usage: Optional[JsonObject] = wire()
    created_at: str = wire()
    updated_at: str = wire()


# ---- webhooks ----


@dataclass
class WebhookEndpoint(Model):
    """A webhook endpoint (its secret is shown only when it is created)."""

    id: str = wire()
    url: str = wire()
    events: List[str] = wire()
    description: Optional[str] = wire()
    status: str = wire()
    created_at: str = wire()


@dataclass
class CreatedWebhookEndpoint(WebhookEndpoint):
    """A webhook endpoint as created, with its signing ``secret``."""

    secret: Optional[str] = wire(optional=True)


@dataclass
class DeletedWebhookEndpoint(Model):
    """The answer to deleting a webhook endpoint."""

    id: str = wire()
    deleted: bool = wire()


@dataclass
class DeliveryAttempt(Model):
    """One attempt to deliver one event to one endpoint."""

    id: str = wire()
    event_id: str = wire()
    event_type: str = wire()
    attempt: int = wire()
    status: str = wire()
    outcome: str = wire()
    status_code: Optional[int] = wire()
    error: Optional[str] = wire()
    duration_ms: int = wire()
    attempted_at: str = wire()
    next_attempt_at: Optional[str] = wire()
    instance: Optional[str] = wire()


def page_of(data: Any, model: Any) -> Page[Any]:
    """A ``Page`` of ``model`` from a list answer."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise TypeError("a page: expected a JSON object with a data list")
    extra = {name: value for name, value in data.items() if name not in ("data", "pagination")}
    return Page(data=[model.from_wire(item) for item in data["data"]], pagination=Pagination.from_wire(data.get("pagination") or {}), extra=extra)
