"""A conversation's surveys: what was asked or skipped, and the answers."""

from __future__ import annotations

from fastapi import APIRouter

from onethread.api.deps import CurrentCaller, ReadSession
from onethread.conversations.service import access_conversation
from onethread.db.types import Id
from onethread.surveys import service
from onethread.surveys.schemas import SurveyOut

router = APIRouter(tags=["surveys"])


@router.get("/conversations/{conversation_id}/surveys", response_model=list[SurveyOut])
async def list_surveys(
    conversation_id: Id, caller: CurrentCaller, session: ReadSession
) -> list[SurveyOut]:
    conversation = await access_conversation(session, caller.workspace_id, conversation_id)
    return [
        SurveyOut.model_validate(row) for row in await service.surveys_of(session, conversation.id)
    ]
