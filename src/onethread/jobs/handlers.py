"""Job kinds and their handlers, in one registry keyed by kind."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from onethread.channels.delivery import deliver_message
from onethread.channels.ingest import MEDIA_FETCH
from onethread.channels.media import fetch_attachment
from onethread.conversations.actions import (
    ASSISTANT_TURN,
    CONVERSATION_WAKE,
    DELIVERY_SEND,
    do_wake,
)
from onethread.conversations.models import Conversation
from onethread.integrations.enqueue import WEBHOOK_DELIVER
from onethread.integrations.sending import deliver_webhook
from onethread.jobs.assistant_turn import run_assistant_turn
from onethread.jobs.context import JobContext
from onethread.outbox.models import Job
from onethread.surveys.actions import SURVEY_ASK
from onethread.surveys.asking import ask_survey

log = logging.getLogger(__name__)

Handler = Callable[[JobContext, Job], Awaitable[None]]


def _last_attempt(job: Job) -> bool:
    return job.attempts >= job.max_attempts


async def _send(context: JobContext, job: Job) -> None:
    await deliver_message(
        context.db,
        context.secrets,
        context.settings,
        context.http,
        int(job.payload["message_id"]),
        last_attempt=_last_attempt(job),
    )


async def _fetch_media(context: JobContext, job: Job) -> None:
    await fetch_attachment(
        context.db,
        context.secrets,
        context.http,
        context.settings.resolved_media_dir,
        int(job.payload["message_id"]),
        int(job.payload["index"]),
        last_attempt=_last_attempt(job),
    )


async def _wake(context: JobContext, job: Job) -> None:
    async with context.db.session() as session:
        conversation = await session.get(Conversation, int(job.payload["conversation_id"]))
        if conversation is not None:
            do_wake(session, conversation, due=datetime.fromisoformat(job.payload["until"]))


async def _deliver_webhook(context: JobContext, job: Job) -> None:
    await deliver_webhook(
        context.db,
        context.secrets,
        context.settings,
        context.http,
        int(job.payload["delivery_id"]),
        last_attempt=_last_attempt(job),
    )


async def _ask_survey(context: JobContext, job: Job) -> None:
    await ask_survey(context.db, job.payload)


HANDLERS: dict[str, Handler] = {
    DELIVERY_SEND: _send,
    MEDIA_FETCH: _fetch_media,
    CONVERSATION_WAKE: _wake,
    ASSISTANT_TURN: run_assistant_turn,
    SURVEY_ASK: _ask_survey,
    WEBHOOK_DELIVER: _deliver_webhook,
}
