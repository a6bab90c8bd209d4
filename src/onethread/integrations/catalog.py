"""The events a business may subscribe to: public names and the event-log types behind them."""

from __future__ import annotations

from typing import Any

from onethread.events.types import EventType

PING = "ping"

# Public name → the internal event types it stands for (docs/webhooks.md).
PUBLIC_EVENTS: dict[str, tuple[EventType, ...]] = {
    "conversation.created": (EventType.CONVERSATION_CREATED,),
    # Every message the customer sees or sends: customer messages and agent/AI replies.
    "message.created": (EventType.MESSAGE_RECEIVED, EventType.MESSAGE_CREATED),
    "handoff.requested": (EventType.HANDOFF_REQUESTED,),
    "conversation.assigned": (EventType.CONVERSATION_ASSIGNED,),
    "conversation.resolved": (EventType.CONVERSATION_RESOLVED,),
    # "CSAT received": a customer answered a satisfaction survey (CSAT, or NPS after it).
    "survey.answered": (EventType.SURVEY_ANSWERED,),
    "contact.updated": (EventType.CONTACT_UPDATED,),
}

PUBLIC_NAME: dict[str, str] = {
    internal.value: public for public, internals in PUBLIC_EVENTS.items() for internal in internals
}


def internal_types(public_names: list[str]) -> set[str]:
    return {internal.value for name in public_names for internal in PUBLIC_EVENTS[name]}


def unknown_names(public_names: list[str]) -> list[str]:
    return sorted(set(public_names) - set(PUBLIC_EVENTS))


def subscribable(type_: str, data: dict[str, Any] | None) -> bool:
    """Whether an event row may reach subscribers: a mapped type, never a private note."""
    return type_ in PUBLIC_NAME and not (data or {}).get("private")
