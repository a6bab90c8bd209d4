from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.access import get_in_workspace
from onethread.db.database import Database
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


@dataclass(frozen=True)
class CachedInbox:
    inbox: Inbox  # detached: read it, never change it
    config: ChannelConfig
    loaded_at: float


INBOX_CACHE_KEY = "inboxes.config_cache"  # AppContext.extras: this process's cache


class InboxConfigCache:
    """Inboxes with their decrypted config, kept for ``ttl`` seconds per process.

    Every webhook needs its inbox's secret before anything else; reading the row and
    decrypting it cost more than verifying the signature. Other processes may change an
    inbox, so an entry lives ``ttl`` seconds only, and a caller whose check fails against
    a cached entry asks again with ``fresh=True`` (a rotated app secret takes effect at
    once; the old one is accepted at most ``ttl`` seconds longer).
    """

    def __init__(
        self, box: SecretBox, *, ttl: float = 5.0, clock: Callable[[], float] = monotonic
    ) -> None:
        self._box = box
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[int, CachedInbox] = {}

    async def get(
        self, db: Database, inbox_id: int, *, fresh: bool = False
    ) -> tuple[CachedInbox | None, bool]:
        """The inbox and its config (None if there is none), and whether it came from cache."""
        now = self._clock()
        entry = self._entries.get(inbox_id)
        if entry is not None and not fresh and now - entry.loaded_at < self._ttl:
            return entry, True
        async with db.read_session() as session:
            inbox = await session.get(Inbox, inbox_id)
        if inbox is None:
            self._entries.pop(inbox_id, None)
            return None, False
        entry = CachedInbox(inbox, full_config(inbox, self._box), now)
        self._entries[inbox_id] = entry
        return entry, False

    def forget(self, inbox_id: int) -> None:
        self._entries.pop(inbox_id, None)
