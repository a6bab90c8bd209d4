from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.types import utcnow
from onethread.events.log import append_event
from onethread.events.types import EventType
from onethread.inboxes.channel_config import validate_config
from onethread.inboxes.models import AiMode, ChannelKind, Inbox
from onethread.inboxes.secrets import SecretBox


async def do_create_inbox(
    session: AsyncSession,
    workspace_id: int,
    box: SecretBox,
    *,
    channel: ChannelKind,
    name: str,
    config: dict[str, Any],
    ai_mode: AiMode = AiMode.AUTO,
    by_agent_id: int | None = None,
) -> Inbox:
    validated = validate_config(channel, config)
    inbox = Inbox(
        workspace_id=workspace_id,
        name=name,
        channel=channel.value,
        config=validated.public_dict(),
        secrets_encrypted=box.seal(validated.secrets_dict()),
        ai_mode=ai_mode.value,
        created_at=utcnow(),
    )
    session.add(inbox)
    await session.flush()
    append_event(
        session,
        workspace_id,
        EventType.INBOX_CREATED,
        agent_id=by_agent_id,
        data={"id": inbox.id, "channel": channel.value, "name": name, "ai_mode": ai_mode.value},
    )
    return inbox


def do_update_inbox(
    session: AsyncSession,
    inbox: Inbox,
    box: SecretBox,
    *,
    by_agent_id: int,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    ai_mode: AiMode | None = None,
) -> Inbox:
    changed: list[str] = []
    if name is not None and name != inbox.name:
        inbox.name, changed = name, [*changed, "name"]
    if config is not None:
        current = {**inbox.config, **box.open(inbox.secrets_encrypted)}
        validated = validate_config(ChannelKind(inbox.channel), {**current, **config})
        inbox.config = validated.public_dict()
        inbox.secrets_encrypted = box.seal(validated.secrets_dict())
        changed.append("config")
    if ai_mode is not None and ai_mode.value != inbox.ai_mode:
        inbox.ai_mode, changed = ai_mode.value, [*changed, "ai_mode"]
    if changed:
        append_event(
            session,
            inbox.workspace_id,
            EventType.INBOX_UPDATED,
            agent_id=by_agent_id,
            data={"id": inbox.id, "changed": changed, "ai_mode": inbox.ai_mode},
        )
    return inbox
