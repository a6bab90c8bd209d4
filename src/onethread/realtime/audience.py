"""Who receives a committed event: the one place that decides it.

- An agent receives every event of their own workspace, and nothing of another one.
- A customer (the web chat widget) may only ever see a public reply: a
  ``message.created`` that is not private and was not written by the contact. The
  widget narrows that further to its own contact and inbox (``channels/widget_live``).
- A notification goes to the agent an event concerns: the agents a note mentions, the
  agent a conversation is assigned to; never to the agent who did it.

Event types carrying agent-only content (never for a customer): ``note.added`` (a
private note), ``assistant.decided`` (the assistant's reasoning), ``handoff.requested``
(its summary), ``conversation.*`` (assignment, team, priority), ``agent.*``, ``team.*``
and ``token.*`` (sign-outs), ``playbook.*``, ``knowledge.*``, ``contact.*`` (business
attributes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onethread.events.types import EventType

MENTION = "mention"
ASSIGNMENT = "assignment"


def agent_receives(event: dict[str, Any], *, workspace_id: int) -> bool:
    """Whether an agent of ``workspace_id`` may receive ``event``."""
    return event.get("workspace_id") == workspace_id


def customer_may_see(event: dict[str, Any]) -> bool:
    """Whether ``event`` may reach a customer at all: a public reply, nothing else."""
    data = event.get("data") or {}
    return (
        event.get("type") == EventType.MESSAGE_CREATED.value
        and data.get("private") is False
        and data.get("sender_kind") != "contact"
        and isinstance(event.get("message_id"), int)
    )


@dataclass(frozen=True)
class Notification:
    agent_id: int
    kind: str
    conversation_id: int | None
    by_agent_id: int | None
    event_id: int

    def frame(self) -> dict[str, Any]:
        return {
            "type": "notification",
            "kind": self.kind,
            "conversation_id": self.conversation_id,
            "by_agent_id": self.by_agent_id,
            "event_id": self.event_id,
        }


def notifications_for(event: dict[str, Any]) -> list[Notification]:
    """The agents ``event`` concerns personally (mentioned, or assigned), but not its author."""
    data = event.get("data") or {}
    by = event.get("agent_id")
    if event.get("type") == EventType.NOTE_ADDED.value:
        targets = [(agent_id, MENTION) for agent_id in data.get("mentions") or []]
    elif event.get("type") == EventType.CONVERSATION_ASSIGNED.value:
        assignee = data.get("assignee_id")
        targets = [(assignee, ASSIGNMENT)] if assignee is not None else []
    else:
        return []
    return [
        Notification(agent_id, kind, event.get("conversation_id"), by, int(event["id"]))
        for agent_id, kind in dict.fromkeys(targets)
        if isinstance(agent_id, int) and agent_id != by
    ]
