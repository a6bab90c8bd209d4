"""Inbound bridge: what an adapter parsed becomes messages, statuses and jobs, in one commit.

The webhook is acknowledged only after this commit, so a provider that got its 200
can forget the request: the message, its event, its assistant job and its media jobs
are stored together or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.channels.base import Echo, Ignored, StatusUpdate, WebhookItem
from onethread.channels.echoes import apply_echo
from onethread.conversations.actions import RecordedInbound, do_record_inbound, do_update_delivery
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import Direction, Message
from onethread.db.database import Database
from onethread.errors import NotFound
from onethread.inboxes.models import Inbox
from onethread.outbox.actions import enqueue
from onethread.workspaces.models import Workspace

log = logging.getLogger(__name__)

MEDIA_FETCH = "media.fetch"
# Session.info key: the inbox and workspace rows the units of work of one batch share.
HELD_KEY = "onethread.ingest.held"

M = TypeVar("M", Inbox, Workspace)


@dataclass
class IngestResult:
    recorded: list[RecordedInbound] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    statuses_applied: int = 0
    statuses_unmatched: int = 0
    echoes: int = 0
    echoes_recorded: int = 0  # replies sent from the provider's own app
    ignored: int = 0


def _clean(inbound: InboundMessage) -> InboundMessage:
    """PostgreSQL refuses NUL in text; no channel means anything by it."""
    if "\x00" in inbound.text:
        inbound.text = inbound.text.replace("\x00", "")
    return inbound


async def _record(
    session: AsyncSession,
    workspace: Workspace,
    inbox: Inbox,
    inbound: InboundMessage,
    result: IngestResult,
) -> None:
    recorded = await do_record_inbound(session, workspace, inbox, _clean(inbound))
    result.recorded.append(recorded)
    if recorded.outcome == "duplicate":
        result.duplicates += 1
        return
    result.stored += 1
    for index, attachment in enumerate(recorded.message.attachments):
        if attachment.get("provider_media_id") or attachment.get("url"):
            enqueue(
                session,
                MEDIA_FETCH,
                {"message_id": recorded.message.id, "index": index},
                workspace_id=workspace.id,
            )


async def _held(session: AsyncSession, model: type[M], ident: int) -> M | None:
    """``session.get`` that keeps the row for the session's next unit of work.

    The session's identity map holds rows weakly: without this, every webhook of a
    group-committed batch would load its inbox and workspace again.
    """
    held: dict[tuple[type[Any], int], Any] = session.info.setdefault(HELD_KEY, {})
    found: M | None = held.get((model, ident))
    if found is None:
        found = await session.get(model, ident)
        if found is not None:
            held[(model, ident)] = found
    return found


async def _apply_status(
    session: AsyncSession, inbox: Inbox, update: StatusUpdate, result: IngestResult
) -> None:
    message = await session.scalar(
        select(Message).where(
            Message.inbox_id == inbox.id,
            Message.external_id == update.external_id,
            Message.direction == Direction.OUTBOUND.value,
        )
    )
    if message is None:
        result.statuses_unmatched += 1
        log.info(
            "status %s for unknown message %s on inbox %s",
            update.status,
            update.external_id,
            inbox.id,
        )
        return
    do_update_delivery(
        session, message, update.status, error_code=update.error_code, error=update.error
    )
    result.statuses_applied += 1


async def ingest_items(
    session: AsyncSession, inbox: Inbox, items: list[WebhookItem]
) -> IngestResult:
    """Apply every item of one request in the caller's unit of work (which commits)."""
    workspace = await _held(session, Workspace, inbox.workspace_id)
    if workspace is None:
        raise NotFound(f"inbox {inbox.id} not found")
    result = IngestResult()
    for item in items:
        if isinstance(item, InboundMessage):
            await _record(session, workspace, inbox, item, result)
        elif isinstance(item, StatusUpdate):
            await _apply_status(session, inbox, item, result)
        elif isinstance(item, Echo):
            result.echoes += 1
            result.echoes_recorded += await apply_echo(session, inbox, item)
        else:
            assert isinstance(item, Ignored)
            result.ignored += 1
    return result


async def ingest(db: Database, inbox_id: int, items: list[WebhookItem]) -> IngestResult:
    """One request's items, committed together, retried whole on a unique-key race.

    Requests that arrive together share a transaction (group commit); each returns once
    that transaction has committed, and one that fails does not fail the others.
    """

    async def work(session: AsyncSession) -> IngestResult:
        inbox = await _held(session, Inbox, inbox_id)
        if inbox is None:
            raise NotFound(f"inbox {inbox_id} not found")
        return await ingest_items(session, inbox, items)

    return await db.write_grouped(work)
