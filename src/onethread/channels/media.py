"""Inbound media: fetched after the webhook's commit, stored under the media directory."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.channels.base import SendFailed
from onethread.channels.registry import adapter_for
from onethread.conversations.actions import do_update_attachment
from onethread.conversations.models import Message
from onethread.db.database import Database
from onethread.errors import PermanentFailure
from onethread.inboxes.models import Inbox
from onethread.inboxes.secrets import SecretBox
from onethread.inboxes.service import full_config

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


async def _locked(session: AsyncSession, message_id: int) -> Message | None:
    """The message, locked: two attachments of one message are stored concurrently."""
    message: Message | None = await session.scalar(
        select(Message).where(Message.id == message_id).with_for_update()
    )
    return message


def _file_name(index: int, filename: str | None, mime_type: str | None) -> str:
    if filename:
        return f"{index}-{_UNSAFE.sub('_', filename)[-100:]}"
    extension = mimetypes.guess_extension(mime_type or "") or ".bin"
    return f"{index}{extension}"


async def fetch_attachment(
    db: Database,
    secrets: SecretBox,
    http: httpx.AsyncClient,
    media_dir: Path,
    message_id: int,
    index: int,
    *,
    last_attempt: bool = False,
) -> None:
    async with db.read_session() as session:
        message = await session.get(Message, message_id)
        if message is None or index >= len(message.attachments) or message.inbox_id is None:
            return
        attachment = dict(message.attachments[index])
        if attachment.get("status") == "stored":
            return
        inbox = await session.get(Inbox, message.inbox_id)
        if inbox is None:
            return
        config = full_config(inbox, secrets)
        workspace_id = message.workspace_id
    try:
        media = await adapter_for(inbox.channel).fetch_media(config, attachment, http)
    except SendFailed as failure:
        if failure.transient and not last_attempt:
            raise
        async with db.session() as session:
            stored = await session.get(Message, message_id)
            if stored is not None:
                do_update_attachment(
                    session, stored, index, {"status": "failed", "error": failure.reason}
                )
        raise PermanentFailure(f"media of message {message_id}: {failure.reason}") from failure
    name = _file_name(index, media.filename or attachment.get("filename"), media.mime_type)
    relative = Path(str(workspace_id)) / str(message_id) / name
    target = media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(media.content)
    async with db.session() as session:
        stored = await _locked(session, message_id)
        if stored is not None:
            do_update_attachment(
                session,
                stored,
                index,
                {
                    "status": "stored",
                    "path": relative.as_posix(),
                    "size": len(media.content),
                    "stored_sha256": hashlib.sha256(media.content).hexdigest(),
                    "mime_type": media.mime_type or attachment.get("mime_type"),
                },
            )
