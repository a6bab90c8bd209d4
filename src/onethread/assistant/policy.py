"""Policy: whether the assistant may speak in this thread now, decided before it thinks.

The order is fixed and documented (docs/assistant.md): a thread humans handle stays
theirs; the inbox's ``ai_mode`` decides off / assist / auto / after hours; a contact the
playbook keeps human is handed to the team without an AI answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from onethread.assistant.decision import Reason
from onethread.assistant.snapshot import ConversationSnapshot
from onethread.conversations.models import Handler
from onethread.inboxes.models import AiMode
from onethread.playbook.schemas import Playbook
from onethread.workspaces.schemas import WEEKDAYS, WorkspaceSettings


@dataclass(frozen=True)
class Gate:
    """``silent`` with a reason, or allowed (``draft`` in assist mode)."""

    silent: Reason | None = None
    draft: bool = False
    keep_human: bool = False


def within_business_hours(settings: WorkspaceSettings, when: datetime) -> bool:
    """Whether ``when`` falls in the workspace's opening hours (no hours: never open)."""
    local = when.astimezone(ZoneInfo(settings.timezone))
    day = WEEKDAYS[local.weekday()]
    moment = local.time()
    return any(h.day == day and h.start <= moment < h.end for h in settings.business_hours)


def quick_silence(handler: str, ai_mode: str | None, playbook: Playbook | None) -> Reason | None:
    """The checks that need no snapshot, so that a silent turn costs almost nothing."""
    if handler == Handler.HUMAN.value:
        return Reason.HUMAN_HANDLES
    if playbook is not None and not playbook.topics:
        return Reason.NO_PLAYBOOK
    if ai_mode == AiMode.OFF.value:
        return Reason.AI_OFF
    return None


def gate(snapshot: ConversationSnapshot, playbook: Playbook, now: datetime) -> Gate:
    mode = snapshot.inbox.ai_mode if snapshot.inbox is not None else AiMode.AUTO.value
    silent = quick_silence(snapshot.conversation.handler, mode, playbook)
    if silent is not None:
        return Gate(silent=silent)
    if not snapshot.new_messages or not snapshot.new_text.strip():
        return Gate(silent=Reason.NO_NEW_MESSAGE)
    if mode == AiMode.AFTER_HOURS.value and within_business_hours(snapshot.workspace_settings, now):
        return Gate(silent=Reason.BUSINESS_HOURS)
    attributes = snapshot.contact.attributes or {}
    keep_human = any(rule.matches(attributes) for rule in playbook.rules.keep_human)
    return Gate(draft=mode == AiMode.ASSIST.value, keep_human=keep_human)
