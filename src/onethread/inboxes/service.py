from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.access import get_in_workspace
from onethread.inboxes.channel_config import CONFIG_MODELS, ChannelConfig
from onethread.inboxes.models import ChannelKind, Inbox
from onethread.inboxes.secrets import SecretBox


async def access_inbox(session: AsyncSession, workspace_id: int, inbox_id: int) -> Inbox:
    return await get_in_workspace(session, Inbox, workspace_id, inbox_id, "inbox")


async def list_inboxes(session: AsyncSession, workspace_id: int) -> list[Inbox]:
    rows = await session.scalars(
        select(Inbox).where(Inbox.workspace_id == workspace_id).order_by(Inbox.id)
    )
    return list(rows.all())


def full_config(inbox: Inbox, box: SecretBox) -> ChannelConfig:
    """The inbox's config with its secrets decrypted, for adapters and delivery."""
    model = CONFIG_MODELS[ChannelKind(inbox.channel)]
    return model.model_validate({**inbox.config, **box.open(inbox.secrets_encrypted)})


def secret_names_set(inbox: Inbox, box: SecretBox) -> list[str]:
    return sorted(box.open(inbox.secrets_encrypted))


def webhook_path(inbox: Inbox) -> str:
    return f"/webhooks/{inbox.channel}/{inbox.id}"
