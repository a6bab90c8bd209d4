"""Inbound bridge: what an adapter parsed becomes messages, statuses and jobs, in one commit.

The webhook is acknowledged only after this commit, so a provider that got its 200
can forget the request: the message, its event, its assistant job and its media jobs
are stored together or not at all.

Requests that arrive together share a transaction (group commit). Their messages from
returning customers and first contacts are written together first, in a few statements
for the whole batch (``conversations/actions/receiving_many.py``); everything else runs
request by request.
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
from onethread.conversations.actions.receiving_many import Arrival, InboxRef, do_record_many
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import Direction, Message
from onethread.db.database import Database
from onethread.errors import NotFound
from onethread.inboxes.models import Inbox
from onethread.observability.context import request_id as current_request_id
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
    _count(result, recorded)
    if recorded.outcome == "duplicate":
        return
    for index, attachment in enumerate(recorded.message.attachments):
        if _fetches(attachment):
            enqueue(
                session,
                MEDIA_FETCH,
                {"message_id": recorded.message.id, "index": index},
                workspace_id=workspace.id,
            )


def _fetches(attachment: dict[str, Any]) -> bool:
    return bool(attachment.get("provider_media_id") or attachment.get("url"))


def _count(result: IngestResult, recorded: RecordedInbound) -> None:
    result.recorded.append(recorded)
    if recorded.outcome == "duplicate":
        result.duplicates += 1
    else:
        result.stored += 1


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
    session: AsyncSession,
    inbox: Inbox,
    items: list[WebhookItem],
    joined: dict[int, RecordedInbound] | None = None,
) -> IngestResult:
    """Apply every item of one request in the caller's unit of work (which commits).

    ``joined`` holds the messages the batch step recorded already, by item index.
    """
    joined = joined or {}
    workspace = await _held(session, Workspace, inbox.workspace_id)
    if workspace is None:
        raise NotFound(f"inbox {inbox.id} not found")
    result = IngestResult()
    for index, item in enumerate(items):
        if index in joined:
            _count(result, joined[index])
        elif isinstance(item, InboundMessage):
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


@dataclass(eq=False)
class _Request:
    """One request's items, and what the batch step recorded of them (by item index)."""

    inbox_id: int
    items: list[WebhookItem]
    joined: dict[int, RecordedInbound] = field(default_factory=dict)
    # Taken in the request's own task: the batch runs in whichever task flushes it.
    request_id: str | None = field(default_factory=current_request_id.get)

    @property
    def joinable(self) -> bool:
        """Only messages, none with media to fetch: nothing else to order them against."""
        return all(
            isinstance(item, Ignored)
            or (
                isinstance(item, InboundMessage)
                and not any(_fetches(attachment) for attachment in item.attachments)
            )
            for item in self.items
        )

    def answer(self) -> IngestResult | None:
        """The result, when the batch step recorded every message of the request."""
        result = IngestResult()
        for index, item in enumerate(self.items):
            if index in self.joined:
                _count(result, self.joined[index])
            elif isinstance(item, Ignored):
                result.ignored += 1
            else:
                return None
        return result


_INBOX_REFS = select(Inbox.id, Inbox.workspace_id, Inbox.channel)


async def _record_together(session: AsyncSession, requests: list[_Request]) -> None:
    """The batch step: the returning customers' and first contacts' messages, at once."""
    for request in requests:
        request.joined = {}
    joinable = [request for request in requests if request.joinable]
    if not joinable:
        return
    ids = sorted({request.inbox_id for request in joinable})
    rows = await session.execute(_INBOX_REFS.where(Inbox.id.in_(ids)))
    inboxes = {row.id: InboxRef(row.id, row.workspace_id, row.channel) for row in rows}
    offered: list[tuple[_Request, int]] = []
    arrivals: list[Arrival] = []
    for request in joinable:
        inbox = inboxes.get(request.inbox_id)
        if inbox is None:
            continue  # the request's own work reports the missing inbox
        for index, item in enumerate(request.items):
            if isinstance(item, InboundMessage):
                offered.append((request, index))
                arrivals.append(Arrival(inbox, _clean(item), request.request_id))
    recorded = await do_record_many(session, arrivals)
    for (request, index), joined in zip(offered, recorded, strict=True):
        if joined is not None:
            request.joined[index] = joined


async def ingest(db: Database, inbox_id: int, items: list[WebhookItem]) -> IngestResult:
    """One request's items, committed together, retried whole on a unique-key race.

    Requests that arrive together share a transaction (group commit); each returns once
    that transaction has committed, and one that fails does not fail the others.
    """
    request = _Request(inbox_id, items)

    async def work(session: AsyncSession) -> IngestResult:
        answered = request.answer()
        if answered is not None:
            return answered
        inbox = await _held(session, Inbox, inbox_id)
        if inbox is None:
            raise NotFound(f"inbox {inbox_id} not found")
        token = current_request_id.set(request.request_id)  # for the jobs it enqueues
        try:
            return await ingest_items(session, inbox, items, request.joined)
        finally:
            current_request_id.reset(token)

    return await db.write_grouped(work, step=_record_together, payload=request)
