"""Survey reads: an inbox's settings, a conversation's surveys, the question awaiting a reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.conversations.models import Conversation
from onethread.inboxes.models import Inbox
from onethread.inboxes.schemas import SurveySettings
from onethread.surveys.models import Survey, SurveyKind, SurveyStatus
from onethread.surveys.parsing import Answer, parse_answer


def survey_settings(inbox: Inbox | None) -> SurveySettings:
    """The inbox's survey settings; off for an inbox configured before surveys existed."""
    raw = (inbox.config if inbox is not None else {}).get("surveys") or {}
    return SurveySettings.model_validate(raw)


def enabled_kinds(settings: SurveySettings) -> list[SurveyKind]:
    """In the order they are asked: CSAT first, NPS after its answer."""
    return [
        kind
        for kind, on in ((SurveyKind.CSAT, settings.csat), (SurveyKind.NPS, settings.nps))
        if on
    ]


async def surveys_of(session: AsyncSession, conversation_id: int) -> list[Survey]:
    rows = await session.scalars(
        select(Survey).where(Survey.conversation_id == conversation_id).order_by(Survey.id)
    )
    return list(rows.all())


async def survey_kinds_done(session: AsyncSession, conversation_id: int) -> set[SurveyKind]:
    """The kinds already asked or skipped for this conversation: never again."""
    rows = await session.scalars(
        select(Survey.kind).where(Survey.conversation_id == conversation_id)
    )
    return {SurveyKind(kind) for kind in rows.all()}


@dataclass
class PendingAnswer:
    survey: Survey
    answer: Answer


async def answer_to_pending_survey(
    session: AsyncSession,
    conversation: Conversation,
    inbox_id: int,
    text: str,
    interactive: dict[str, Any] | None,
) -> PendingAnswer | None:
    """The reply's score, when it answers the question asked on this inbox since the
    conversation's last resolution; None for any other message."""
    if conversation.resolved_at is None:
        return None
    survey = await session.scalar(
        select(Survey)
        .where(
            Survey.conversation_id == conversation.id,
            Survey.status == SurveyStatus.ASKED.value,
            Survey.inbox_id == inbox_id,
            Survey.asked_at >= conversation.resolved_at,
        )
        .order_by(Survey.id.desc())
        .limit(1)
    )
    if survey is None:
        return None
    answer = parse_answer(SurveyKind(survey.kind), text, interactive)
    return PendingAnswer(survey, answer) if answer is not None else None
