"""Agent assist over the API: the assistant's suggested reply for a conversation."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, Field

from onethread.api.context import AppContext
from onethread.api.deps import Context, CurrentCaller
from onethread.assistant.brain import suggest
from onethread.assistant.service import Assistant
from onethread.assistant.snapshot import load_snapshot
from onethread.conversations.service import access_conversation
from onethread.db.types import Id

router = APIRouter(tags=["assistant"])

ASSISTANT_KEY = "assistant"  # AppContext.extras: this process's assistant


def assistant_of(context: AppContext) -> Assistant:
    found = context.extras.get(ASSISTANT_KEY)
    if not isinstance(found, Assistant):
        found = context.extras[ASSISTANT_KEY] = Assistant()
    return found


class Suggestion(BaseModel):
    text: str | None = Field(description="The suggested reply; null when nothing is grounded.")
    language: str | None
    topics: list[dict[str, Any]]
    sources: list[dict[str, str]] = Field(description="Articles and actions behind the text.")
    actions: list[dict[str, Any]]
    not_answered: list[dict[str, Any]] = Field(
        description="Topics the assistant could not ground, with the reason."
    )


@router.post("/conversations/{conversation_id}/suggestion", response_model=Suggestion)
async def suggest_reply(conversation_id: Id, caller: CurrentCaller, context: Context) -> Suggestion:
    """A grounded draft for the agent, from the same parts the assistant would send.

    Nothing is written or sent; the agent edits and sends it as their own reply."""
    assistant = assistant_of(context)
    async with context.db.read_sessions() as session:
        await access_conversation(session, caller.workspace_id, conversation_id)
        runtime = await assistant.runtime_for(session, caller.workspace_id, context.secrets)
        snapshot = await load_snapshot(session, conversation_id, repeat_days=None)
        knowledge = await assistant.knowledge_for(session, caller.workspace_id)
    assert snapshot is not None
    async with httpx.AsyncClient(timeout=10) as http:
        decision = await suggest(
            snapshot, runtime, assistant.deps(http, knowledge, context.settings)
        )
    record = decision.record()
    return Suggestion(
        text=decision.reply if decision.parts else None,
        language=record["language"],
        topics=record["topics"],
        sources=record["sources"],
        actions=record["actions"],
        not_answered=record["handed_off"],
    )
