"""Job kinds and their handlers, in one registry keyed by kind."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from onethread.channels.delivery import deliver_message
from onethread.conversations.actions import (
    ASSISTANT_TURN,
    CONVERSATION_WAKE,
    DELIVERY_SEND,
    do_wake,
)
from onethread.conversations.models import Conversation
from onethread.jobs.context import JobContext

log = logging.getLogger(__name__)

Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


async def _send(context: JobContext, payload: dict[str, Any]) -> None:
    await deliver_message(context.db, context.secrets, int(payload["message_id"]))


async def _wake(context: JobContext, payload: dict[str, Any]) -> None:
    async with context.db.session() as session:
        conversation = await session.get(Conversation, int(payload["conversation_id"]))
        if conversation is not None:
            do_wake(session, conversation, due=datetime.fromisoformat(payload["until"]))


async def _assistant_turn(context: JobContext, payload: dict[str, Any]) -> None:
    # The grounded assistant arrives with its own issue; until then the thread
    # stays with the humans and this job only marks the turn as seen.
    log.debug(
        "assistant turn for conversation %s: no assistant installed", payload.get("conversation_id")
    )


HANDLERS: dict[str, Handler] = {
    DELIVERY_SEND: _send,
    CONVERSATION_WAKE: _wake,
    ASSISTANT_TURN: _assistant_turn,
}
