"""The survey rows as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from onethread.surveys.models import SurveyKind, SurveyStatus


class SurveyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    kind: SurveyKind
    status: SurveyStatus
    reason: str | None
    handler: str
    inbox_id: int | None
    channel: str | None
    question_message_id: int | None
    asked_at: datetime | None
    score: int | None
    comment: str | None
    answer_message_id: int | None
    answered_at: datetime | None
    created_at: datetime
