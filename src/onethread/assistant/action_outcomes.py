"""What running an action can come to. ``run_action`` returns one of these, never raises.

The assistant maps them to its moves: a done or not-found outcome is a grounded part of
the reply; needing slots asks the customer once; needing identity or a failure hands
the topic off (``action_failed`` for a failure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onethread.playbook.schemas import SlotKind


@dataclass(frozen=True)
class ActionDone:
    """The service answered. ``facts_text`` holds every scalar of ``result`` as text: the
    grounding check accepts a number or date in the reply only if it is among them."""

    result: Any
    reply_text: str
    facts_text: list[str] = field(default_factory=list)
    language: str = ""
    contact_updates: dict[str, Any] = field(default_factory=dict)  # from ``updates_contact``


@dataclass(frozen=True)
class ActionNotFound:
    """A 404 or an empty result: nothing to say about it, and no details."""

    reply_text: str
    language: str = ""


@dataclass(frozen=True)
class ActionNeedsSlots:
    missing: list[SlotKind]


@dataclass(frozen=True)
class ActionNeedsIdentity:
    """Required contact fields ('email', 'attributes.customer_id'…) that trusted data lacks."""

    missing: list[str]


@dataclass(frozen=True)
class ActionFailed:
    """``reason``: timeout, connection, http_status, bad_json, too_large, bad_result,
    template, unknown_entry_point or error. ``detail`` is for the agent; no secret in it."""

    reason: str
    detail: str = ""


class ActionError(Exception):
    """Raised inside the runner, returned as ``ActionFailed`` once its detail is redacted."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


ActionOutcome = ActionDone | ActionNotFound | ActionNeedsSlots | ActionNeedsIdentity | ActionFailed
