"""Survey writes, each with its event: scheduled at resolution, asked or skipped, answered.

Nothing here sends: a ``survey.ask`` job (``surveys/asking.py``) checks the channel and
queues the question like any reply. Rows are unique per (conversation, kind), so a
conversation resolved again after a reopen is never asked twice, even under a race.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.conversations.events import conversation_event
from onethread.conversations.models import Conversation, Message
from onethread.db.types import utcnow
from onethread.events.types import EventType
from onethread.inboxes.models import Inbox
from onethread.outbox.actions import enqueue
from onethread.surveys.models import Survey, SurveyKind, SurveyStatus
from onethread.surveys.service import (
    PendingAnswer,
    enabled_kinds,
    survey_kinds_done,
    survey_settings,
)

SURVEY_ASK = "survey.ask"  # handler: jobs/handlers.py → surveys/asking.py


def _schedule(
    session: AsyncSession,
    conversation: Conversation,
    kind: SurveyKind,
    handler: str,
    *,
    delay_seconds: int = 0,
) -> None:
    assert conversation.resolved_at is not None
    enqueue(
        session,
        SURVEY_ASK,
        {
            "conversation_id": conversation.id,
            "kind": kind.value,
            # A reopen (and a new resolution) since then makes this job stale.
            "resolved_at": conversation.resolved_at.isoformat(),
            "handler": handler,
        },
        workspace_id=conversation.workspace_id,
        run_at=utcnow() + timedelta(seconds=delay_seconds),
    )


async def do_schedule_surveys(session: AsyncSession, conversation: Conversation) -> None:
    """At resolution: the first survey the customer's inbox asks, unless one ever was."""
    if conversation.merged_into_id is not None or conversation.last_inbox_id is None:
        return
    settings = survey_settings(await session.get(Inbox, conversation.last_inbox_id))
    kinds = enabled_kinds(settings)
    if not kinds or await survey_kinds_done(session, conversation.id):
        return
    _schedule(
        session, conversation, kinds[0], conversation.handler, delay_seconds=settings.delay_seconds
    )


def do_record_asked(
    session: AsyncSession,
    conversation: Conversation,
    *,
    kind: SurveyKind,
    handler: str,
    inbox: Inbox,
    question: Message,
) -> Survey:
    survey = Survey(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        kind=kind.value,
        status=SurveyStatus.ASKED.value,
        handler=handler,
        inbox_id=inbox.id,
        channel=inbox.channel,
        question_message_id=question.id,
        asked_at=utcnow(),
    )
    session.add(survey)
    conversation_event(
        session,
        conversation,
        EventType.SURVEY_ASKED,
        message_id=question.id,
        data={"kind": kind.value, "channel": inbox.channel, "inbox_id": inbox.id},
    )
    return survey


def do_record_skipped(
    session: AsyncSession,
    conversation: Conversation,
    *,
    kind: SurveyKind,
    handler: str,
    reason: str,
    inbox: Inbox | None,
) -> Survey:
    """Not sent, for ``reason``; final, like an asked survey (it never comes back)."""
    survey = Survey(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        kind=kind.value,
        status=SurveyStatus.SKIPPED.value,
        reason=reason,
        handler=handler,
        inbox_id=inbox.id if inbox else None,
        channel=inbox.channel if inbox else None,
    )
    session.add(survey)
    conversation_event(
        session,
        conversation,
        EventType.SURVEY_SKIPPED,
        data={"kind": kind.value, "reason": reason},
    )
    return survey


async def do_record_answer(
    session: AsyncSession,
    conversation: Conversation,
    pending: PendingAnswer,
    message: Message,
    inbox: Inbox,
) -> None:
    """The customer answered: the score and comment, then the next survey (NPS after CSAT)."""
    survey, answer = pending.survey, pending.answer
    survey.status = SurveyStatus.ANSWERED.value
    survey.score = answer.score
    survey.comment = answer.comment
    survey.answer_message_id = message.id
    survey.answered_at = utcnow()
    message.ai_meta = {"survey_answer": {"kind": survey.kind, "score": answer.score}}
    conversation_event(
        session,
        conversation,
        EventType.SURVEY_ANSWERED,
        message_id=message.id,
        data={
            "kind": survey.kind,
            "score": answer.score,
            "comment": answer.comment,
            "handler": survey.handler,
        },
    )
    later = enabled_kinds(survey_settings(inbox))
    done = await survey_kinds_done(session, conversation.id)
    following = [kind for kind in later if kind not in done]
    if following:
        _schedule(session, conversation, following[0], survey.handler)
