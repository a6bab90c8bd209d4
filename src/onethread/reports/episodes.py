"""One conversation's events folded into its report facts, episode by episode (pure).

An episode runs from ``conversation.created`` or ``conversation.reopened`` to the next
``conversation.resolved``; the definitions are in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onethread.events.types import EventType
from onethread.reports.business_time import BusinessClock

REPLY_SENDERS = ("agent", "ai")
SURVEY_ANSWER = "survey_answer"  # message.received's outcome for a reply to a survey

# The frequent event types that change no figure, left unread. A deny-list on purpose: a
# condition an index could serve (``type IN …``) makes SQLite scan the workspace's events
# by type instead of reading one chunk of conversations by id.
UNREAD_TYPES = (
    EventType.MESSAGE_STATUS_CHANGED.value,
    EventType.MESSAGE_UPDATED.value,
    EventType.NOTE_ADDED.value,
)
# The event types the fold reads: only these make a conversation worth recomputing.
FOLDED_TYPES = (
    EventType.CONVERSATION_CREATED.value,
    EventType.MESSAGE_RECEIVED.value,
    EventType.MESSAGE_CREATED.value,
    EventType.CONVERSATION_RESOLVED.value,
    EventType.CONVERSATION_REOPENED.value,
    EventType.CONVERSATION_ASSIGNED.value,
    EventType.CONVERSATION_TRANSFERRED.value,
    EventType.CONVERSATION_HANDED_BACK.value,
    EventType.HANDOFF_REQUESTED.value,
    EventType.CONVERSATION_TOPICS_CHANGED.value,
    EventType.ASSISTANT_DECIDED.value,
    EventType.SURVEY_ANSWERED.value,
)


@dataclass(frozen=True)
class LoggedEvent:
    """The part of an event row the fold reads; ``at`` in UTC epoch seconds."""

    id: int
    type: str
    message_id: int | None
    data: dict[str, Any]
    at: float


@dataclass
class Episode:
    opened_at: float
    closed_at: float | None = None
    human_from: float | None = None


@dataclass
class Handoff:
    """The assistant's first handoff, and what followed it."""

    at: float
    reason: str
    picked_up_at: float | None = None
    before_message_ids: list[int] = field(default_factory=list)
    next_message_id: int | None = None


@dataclass
class Folded:
    """A conversation's projection rows, less ``restated`` (it needs message texts)."""

    row: dict[str, Any]
    spans: list[dict[str, Any]]
    handoff: Handoff | None


@dataclass
class _State:
    created_at: float
    episodes: list[Episode]
    handler: str = "ai"
    team_id: int | None = None
    agent_id: int | None = None
    resolved: dict[str, Any] | None = None
    first_resolved_at: float | None = None
    previous_conversation_id: int | None = None
    channel: str | None = None
    inbox_id: int | None = None
    topic: str | None = None
    domain: str | None = None
    language: str | None = None
    ai_language: str | None = None
    received: int = 0
    first_customer_at: float | None = None
    first_reply_at: float | None = None
    first_human_reply_at: float | None = None
    agent_replied_before_resolution: bool = False
    reopens: int = 0
    transfers: int = 0
    escalated: bool = False
    ai_involved: bool = False
    handoff: Handoff | None = None
    received_ids: list[int] = field(default_factory=list)
    surveys: dict[str, tuple[int, float, str | None]] = field(default_factory=dict)

    @property
    def episode(self) -> Episode:
        return self.episodes[-1]

    @property
    def in_first_episode(self) -> bool:
        return self.first_resolved_at is None


def fold_conversation(
    conversation_id: int,
    workspace_id: int,
    contact_id: int | None,
    events: list[LoggedEvent],
    clock: BusinessClock,
    *,
    fallback_created_at: float,
) -> Folded:
    """Fold ``events`` (one conversation's, in id order) into its rows."""
    created = next((e.at for e in events if e.type == EventType.CONVERSATION_CREATED), None)
    start = created if created is not None else fallback_created_at
    state = _State(created_at=start, episodes=[Episode(start)])
    for event in events:
        _apply(state, event)
    return Folded(
        row=_row(state, conversation_id, workspace_id, contact_id, clock),
        spans=[
            {
                "conversation_id": conversation_id,
                "episode": number,
                "workspace_id": workspace_id,
                "opened_at": int(episode.opened_at),
                "closed_at": None if episode.closed_at is None else int(episode.closed_at),
            }
            for number, episode in enumerate(state.episodes)
        ],
        handoff=state.handoff,
    )


def _apply(state: _State, event: LoggedEvent) -> None:
    data, at = event.data, event.at
    kind = event.type
    if kind == EventType.CONVERSATION_CREATED:
        state.previous_conversation_id = data.get("previous_conversation_id")
    elif kind == EventType.MESSAGE_RECEIVED:
        _received(state, event)
    elif kind == EventType.MESSAGE_CREATED:
        _replied(state, data, at)
    elif kind == EventType.CONVERSATION_RESOLVED:
        if state.episode.closed_at is None:
            state.episode.closed_at = at
        state.resolved = {**data, "at": at}
        if state.first_resolved_at is None:
            state.first_resolved_at = at
    elif kind == EventType.CONVERSATION_REOPENED:
        state.reopens += 1
        state.resolved = None
        state.episodes.append(Episode(at, human_from=at if state.agent_id else None))
    elif kind == EventType.CONVERSATION_ASSIGNED:
        state.agent_id = data.get("assignee_id")
        episode = state.episode
        if state.agent_id is not None and episode.human_from is None and episode.closed_at is None:
            episode.human_from = at
    elif kind == EventType.CONVERSATION_TRANSFERRED:
        previous = data.get("previous_team_id")
        if previous is not None and previous != data.get("team_id"):  # not a first routing
            state.transfers += 1
            state.escalated = True
        state.team_id = data.get("team_id")
    elif kind == EventType.CONVERSATION_HANDED_BACK:
        state.handler, state.agent_id = "ai", None
    elif kind == EventType.HANDOFF_REQUESTED:
        _handed_off(state, data, at)
    elif kind == EventType.CONVERSATION_TOPICS_CHANGED:
        topics = data.get("topics") or []
        if state.topic is None and topics:
            state.topic, state.domain = topics[0].get("name"), topics[0].get("domain")
        state.language = data.get("language") or state.language
    elif kind == EventType.ASSISTANT_DECIDED:
        if data.get("outcome") != "silent":
            state.ai_involved = True
        state.ai_language = data.get("language") or state.ai_language
    elif kind == EventType.SURVEY_ANSWERED and _is_answer(data):
        state.surveys[data["kind"]] = (data["score"], at, data.get("handler"))


def _is_answer(data: dict[str, Any]) -> bool:
    return data.get("kind") in ("csat", "nps") and isinstance(data.get("score"), int)


def _received(state: _State, event: LoggedEvent) -> None:
    if event.data.get("outcome") == SURVEY_ANSWER:
        return  # a reply to a survey after resolution: counted as the survey's answer
    state.received += 1
    if state.first_customer_at is None:
        state.first_customer_at = event.at
        state.channel = event.data.get("channel")
        state.inbox_id = event.data.get("inbox_id")
    if event.message_id is None:
        return
    handoff = state.handoff
    if handoff is None:
        state.received_ids.append(event.message_id)
    elif handoff.next_message_id is None:
        handoff.next_message_id = event.message_id


def _replied(state: _State, data: dict[str, Any], at: float) -> None:
    sender = data.get("sender_kind")
    if data.get("private") or sender not in REPLY_SENDERS:
        return
    if state.in_first_episode and state.first_reply_at is None:
        state.first_reply_at = at
    if sender != "agent":
        return
    if state.in_first_episode:
        state.agent_replied_before_resolution = True
        if state.first_human_reply_at is None:
            state.first_human_reply_at = at
    if state.episode.human_from is None and state.episode.closed_at is None:
        state.episode.human_from = at
    if state.handoff is not None and state.handoff.picked_up_at is None:
        state.handoff.picked_up_at = at


def _handed_off(state: _State, data: dict[str, Any], at: float) -> None:
    state.escalated = True
    state.handler = "human"
    if data.get("team_id") is not None:
        state.team_id = data["team_id"]
    if data.get("by") == "ai" and state.handoff is None:
        state.handoff = Handoff(at, str(data.get("reason") or "unknown")[:100])
        state.handoff.before_message_ids = list(state.received_ids)


def _row(
    state: _State,
    conversation_id: int,
    workspace_id: int,
    contact_id: int | None,
    clock: BusinessClock,
) -> dict[str, Any]:
    resolved = state.resolved
    first_response = _span(state.first_customer_at, state.first_reply_at)
    first_human = _span(state.first_customer_at, state.first_human_reply_at)
    handoff = state.handoff
    pickup = _span(handoff.at, handoff.picked_up_at) if handoff else None
    handled = [
        (e.human_from, e.closed_at)
        for e in state.episodes
        if e.human_from is not None and e.closed_at is not None
    ]
    csat = state.surveys.get("csat")
    nps = state.surveys.get("nps")
    return {
        "conversation_id": conversation_id,
        "workspace_id": workspace_id,
        "contact_id": contact_id,
        "previous_conversation_id": state.previous_conversation_id,
        "created_at": int(state.created_at),
        "first_resolved_at": _epoch(state.first_resolved_at),
        "resolved_at": _epoch(resolved["at"]) if resolved else None,
        "channel": state.channel,
        "inbox_id": state.inbox_id,
        "team_id": resolved.get("team_id") if resolved else state.team_id,
        "agent_id": resolved.get("assignee_id") if resolved else state.agent_id,
        "topic": state.topic,
        "domain": state.domain,
        "language": state.language or state.ai_language,
        "handler": (resolved.get("handler") if resolved else None) or state.handler,
        "messages_received": state.received,
        "first_response_s": _length(first_response),
        "first_response_bh_s": _business(clock, first_response),
        "first_human_response_s": _length(first_human),
        "first_human_response_bh_s": _business(clock, first_human),
        "handle_s": sum(end - start for start, end in handled) if handled else None,
        "handle_bh_s": sum(clock.seconds(s, e) for s, e in handled) if handled else None,
        "reopens": state.reopens,
        "transfers": state.transfers,
        "escalated": state.escalated,
        "ai_involved": state.ai_involved,
        "ai_resolved": state.first_resolved_at is not None
        and not state.agent_replied_before_resolution,
        "handoff_reason": handoff.reason if handoff else None,
        "handoff_pickup_s": _length(pickup),
        "handoff_pickup_bh_s": _business(clock, pickup),
        "restated": None,
        "csat_score": csat[0] if csat else None,
        "csat_at": _epoch(csat[1]) if csat else None,
        "csat_handler": csat[2] if csat else None,
        "nps_score": nps[0] if nps else None,
        "nps_at": _epoch(nps[1]) if nps else None,
    }


def _span(start: float | None, end: float | None) -> tuple[float, float] | None:
    return (start, end) if start is not None and end is not None else None


def _length(span: tuple[float, float] | None) -> float | None:
    return None if span is None else max(0.0, span[1] - span[0])


def _business(clock: BusinessClock, span: tuple[float, float] | None) -> float | None:
    return None if span is None else clock.seconds(*span)


def _epoch(at: float | None) -> int | None:
    return None if at is None else int(at)
