"""Queueing a reply on a channel: the reply window, templates, and splitting long text.

Agents' replies (the API) and the assistant's (the worker) both come through here,
so every channel rule is checked once, before anything is queued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent
from onethread.channels.base import ChannelAdapter
from onethread.channels.registry import adapter_for
from onethread.channels.text import split_text
from onethread.conversations.actions import do_send_reply
from onethread.conversations.models import Conversation, Message, SenderKind
from onethread.conversations.service import last_inbound_at, reply_target
from onethread.db.types import utcnow
from onethread.errors import DomainError, InvalidInput
from onethread.inboxes.channel_config import WhatsAppTemplate
from onethread.inboxes.models import Inbox

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


class OutsideReplyWindow(DomainError):
    """A free-form reply the channel would refuse: the customer's window has closed."""

    status_code = 422
    code = "outside_reply_window"


@dataclass
class TemplateChoice:
    name: str
    parameters: list[str]


def configured_templates(inbox: Inbox) -> list[WhatsAppTemplate]:
    return [WhatsAppTemplate.model_validate(raw) for raw in inbox.config.get("templates") or []]


def render_template(inbox: Inbox, choice: TemplateChoice) -> tuple[str, dict[str, Any]]:
    """The text an agent sees in the thread and the template part the provider gets."""
    templates = {template.name: template for template in configured_templates(inbox)}
    template = templates.get(choice.name)
    if template is None:
        raise InvalidInput(
            f"no template {choice.name!r} on this inbox",
            details={"templates": sorted(templates)},
        )
    wanted = max([int(number) for number in _PLACEHOLDER.findall(template.body)] or [0])
    wanted = max(wanted, len(template.parameters))
    if len(choice.parameters) != wanted:
        raise InvalidInput(
            f"template {template.name!r} takes {wanted} parameters, got {len(choice.parameters)}"
        )
    values = choice.parameters

    def fill(match: re.Match[str]) -> str:
        return values[int(match.group(1)) - 1]

    text = _PLACEHOLDER.sub(fill, template.body) if template.body else f"[Template {template.name}]"
    part = {"name": template.name, "language": template.language, "parameters": values}
    return text, {"template": part}


@dataclass
class WindowState:
    open: bool
    human_agent: bool
    last_inbound_at: datetime | None


async def reply_window(
    session: AsyncSession, adapter: ChannelAdapter, conversation: Conversation, inbox: Inbox
) -> WindowState:
    """Whether a free-form message may go out now, and whether only by Meta's HUMAN_AGENT tag."""
    if adapter.window is None:
        return WindowState(open=True, human_agent=False, last_inbound_at=None)
    last = await last_inbound_at(session, conversation.contact_id, inbox.id)
    age = utcnow() - last if last is not None else None
    if age is not None and age <= timedelta(hours=adapter.window.hours):
        return WindowState(open=True, human_agent=False, last_inbound_at=last)
    extended = adapter.window.human_agent_hours
    if age is not None and extended is not None and age <= timedelta(hours=extended):
        return WindowState(open=False, human_agent=True, last_inbound_at=last)
    return WindowState(open=False, human_agent=False, last_inbound_at=last)


def _refuse(
    adapter: ChannelAdapter, inbox: Inbox, window: WindowState, *, by_human: bool
) -> OutsideReplyWindow:
    assert adapter.window is not None
    hours = adapter.window.hours
    when = window.last_inbound_at.isoformat() if window.last_inbound_at else None
    templates = [template.name for template in configured_templates(inbox)]
    if adapter.window.template_fallback:
        advice = "send one of this inbox's approved templates instead"
    elif window.human_agent and not by_human:
        advice = "only a human agent may answer now (for up to 7 days)"
    else:
        advice = "wait for the customer to write again"
    return OutsideReplyWindow(
        f"the {inbox.channel} {hours}-hour reply window is closed: the customer last wrote "
        f"{'at ' + when if when else 'never on this inbox'}; {advice}",
        details={
            "channel": inbox.channel,
            "inbox_id": inbox.id,
            "window_hours": hours,
            "last_inbound_at": when,
            "templates": templates if adapter.window.template_fallback else [],
        },
    )


async def queue_reply(
    session: AsyncSession,
    conversation: Conversation,
    *,
    text: str = "",
    agent: Agent | None = None,
    sender_kind: SenderKind = SenderKind.AGENT,
    inbox: Inbox | None = None,
    template: TemplateChoice | None = None,
    buttons: list[dict[str, str]] | None = None,
    ai_meta: dict[str, Any] | None = None,
) -> list[Message]:
    """Queue a reply on the contact's latest channel (or ``inbox``): one message per part.

    Refuses with ``OutsideReplyWindow`` when the channel's window is closed and no
    template was chosen; text longer than the channel allows is split at sentence or
    word boundaries; buttons ride on the last part.
    """
    target = await reply_target(session, conversation, inbox)
    adapter = adapter_for(target.inbox.channel)
    window = await reply_window(session, adapter, conversation, target.inbox)
    by_human = sender_kind is SenderKind.AGENT
    interactive: dict[str, Any] | None = {"buttons": buttons} if buttons else None
    if template is not None:
        if adapter.window is None or not adapter.window.template_fallback:
            raise InvalidInput(f"{target.inbox.channel} has no message templates")
        text, interactive = render_template(target.inbox, template)
        parts = [text]
    else:
        if not window.open and not (window.human_agent and by_human):
            raise _refuse(adapter, target.inbox, window, by_human=by_human)
        if not text.strip():
            raise InvalidInput("a reply needs text")
        parts = split_text(text, adapter.max_text_length, in_bytes=adapter.limit_in_bytes)
    messages = []
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        messages.append(
            await do_send_reply(
                session,
                conversation,
                text=part,
                agent=agent,
                sender_kind=sender_kind,
                inbox=target.inbox,
                identity_id=target.identity_id,
                interactive=interactive if last else None,
                ai_meta=ai_meta if last else None,
            )
        )
    return messages
