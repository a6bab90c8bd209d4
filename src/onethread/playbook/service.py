"""Reading a workspace's playbook (an empty one until the business writes its own)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.inboxes.secrets import SecretBox
from onethread.playbook.models import PlaybookRecord
from onethread.playbook.schemas import Playbook


async def playbook_record(session: AsyncSession, workspace_id: int) -> PlaybookRecord | None:
    return await session.scalar(
        select(PlaybookRecord).where(PlaybookRecord.workspace_id == workspace_id)
    )


async def load_playbook(session: AsyncSession, workspace_id: int) -> tuple[Playbook, int]:
    """The workspace's playbook and its revision (0 when none was ever saved)."""
    return playbook_of(await playbook_record(session, workspace_id))


def playbook_of(record: PlaybookRecord | None) -> tuple[Playbook, int]:
    if record is None:
        return Playbook(), 0
    return Playbook.model_validate(record.document), record.revision


async def playbook_revision(session: AsyncSession, workspace_id: int) -> int:
    revision = await session.scalar(
        select(PlaybookRecord.revision).where(PlaybookRecord.workspace_id == workspace_id)
    )
    return revision or 0


def secrets_of(record: PlaybookRecord | None, box: SecretBox) -> dict[str, str]:
    return box.open(record.secrets_encrypted) if record is not None else {}
