"""The ``assistant.turn`` job: snapshot the thread, let the assistant decide, write it down.

Deciding happens outside any write transaction (an action may call a slow service);
the decision is then written in one transaction, and only if the thread has not moved
on meanwhile: a newer inbound message has its own turn (which sees this one too), and
a thread a human took stays theirs.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.service import agent_speaking, team_by_name
from onethread.assistant.brain import decide
from onethread.assistant.decision import Decision, Outcome
from onethread.assistant.policy import quick_silence
from onethread.assistant.snapshot import load_snapshot
from onethread.channels.outbound import queue_reply
from onethread.contacts.actions import do_refresh_attributes
from onethread.contacts.models import Contact
from onethread.conversations.actions import (
    do_add_note,
    do_hand_off,
    do_record_assistant_decision,
    do_route_to_agent,
    do_set_topics,
)
from onethread.conversations.models import (
    Conversation,
    ConversationTopic,
    Handler,
    Message,
    SenderKind,
)
from onethread.errors import DomainError, InvalidInput
from onethread.inboxes.models import Inbox
from onethread.jobs.context import JobContext
from onethread.observability.metrics import observe_decision
from onethread.outbox.models import Job

log = logging.getLogger(__name__)


async def run_assistant_turn(context: JobContext, job: Job) -> None:
    conversation_id = int(job.payload["conversation_id"])
    assistant = context.assistant
    async with context.db.read_session() as session:
        row = (
            await session.execute(
                select(Conversation.workspace_id, Conversation.handler, Inbox.ai_mode)
                .outerjoin(Inbox, Inbox.id == Conversation.last_inbox_id)
                .where(Conversation.id == conversation_id)
            )
        ).first()
        if row is None:
            return
        workspace_id, handler, ai_mode = row
        silent = quick_silence(handler, ai_mode, None)
        if silent is None:
            runtime = await assistant.runtime_for(session, workspace_id, context.secrets)
            silent = quick_silence(handler, ai_mode, runtime.playbook)
        if silent is None:
            snapshot = await load_snapshot(
                session, conversation_id, repeat_days=runtime.playbook.rules.repeat_contact_days
            )
            knowledge = await assistant.knowledge_for(session, workspace_id)
    if silent is not None:  # the cheap way out: no snapshot, no index, one event
        observe_decision(Outcome.SILENT.value, None)
        async with context.db.session() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is not None:
                do_record_assistant_decision(
                    session, conversation, Decision(Outcome.SILENT, silent).record()
                )
        return
    if snapshot is None:
        return
    deps = assistant.deps(context.http, knowledge, context.settings)
    started = time.perf_counter()
    decision = await decide(snapshot, runtime, deps)
    observe_decision(decision.outcome.value, time.perf_counter() - started)
    last_seen = snapshot.history[-1].id if snapshot.history else 0
    async with context.db.session() as session:
        conversation = await session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            return
        if await _moved_on(session, conversation, last_seen, decision):
            log.info("conversation %s moved on during the turn: decision dropped", conversation_id)
            return
        await write_decision(session, conversation, decision)


async def _moved_on(
    session: AsyncSession, conversation: Conversation, last_seen: int, decision: Decision
) -> bool:
    newest = await session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conversation.id, Message.private.is_(False))
        .order_by(Message.id.desc())
        .limit(1)
    )
    taken = conversation.handler == Handler.HUMAN.value and decision.outcome is not Outcome.SILENT
    return (newest or 0) != last_seen or taken


async def _record_topics(
    session: AsyncSession, conversation: Conversation, decision: Decision
) -> None:
    understanding = decision.understanding
    if understanding is None or not understanding.topics:
        return
    existing = {
        topic.name: topic.domain
        for topic in await session.scalars(
            select(ConversationTopic).where(ConversationTopic.conversation_id == conversation.id)
        )
    }
    found = {match.name: match.domain for match in understanding.topics}
    if set(found) <= set(existing) and conversation.language == understanding.language:
        return
    merged = {**existing, **found}
    await do_set_topics(
        session, conversation, list(merged.items()), by=None, language=understanding.language
    )


async def _refresh_contact(
    session: AsyncSession, conversation: Conversation, decision: Decision
) -> None:
    """Attributes the actions read from the business's systems (``updates_contact``)."""
    runs = [run for run in decision.actions if run.contact_updates]
    # Locked: an agent's edit or an import of the same contact waits, never lost.
    contact = (
        await session.get(
            Contact, conversation.contact_id, with_for_update=True, populate_existing=True
        )
        if runs
        else None
    )
    for run in runs:
        assert contact is not None
        try:
            do_refresh_attributes(
                session, contact, run.contact_updates, source=f"action:{run.action}"
            )
        except InvalidInput as exc:  # the reply stands; the contact keeps its old values
            log.warning("action %s: contact %s not updated: %s", run.action, contact.id, exc)


async def write_decision(
    session: AsyncSession, conversation: Conversation, decision: Decision
) -> None:
    """Rows for the decision, in the caller's transaction: reply, handoff, draft, event."""
    record = decision.record()
    await _record_topics(session, conversation, decision)
    await _refresh_contact(session, conversation, decision)
    if decision.draft and decision.reply:
        await do_add_note(
            session,
            conversation,
            text=decision.reply,
            agent=None,
            sender_kind=SenderKind.AI,
            ai_meta={**record, "suggested_reply": True},
        )
    elif decision.reply:
        try:
            await queue_reply(
                session,
                conversation,
                text=decision.reply,
                sender_kind=SenderKind.AI,
                ai_meta=record,
            )
        except DomainError as exc:  # e.g. a channel refusing: the humans take it from here
            log.warning("assistant reply in conversation %s refused: %s", conversation.id, exc)
    if decision.handoff is not None and not decision.draft:
        handoff = decision.handoff
        team = (
            await team_by_name(session, conversation.workspace_id, handoff.team)
            if handoff.team
            else None
        )
        await do_hand_off(
            session,
            conversation,
            reason=handoff.reason.value,
            team=team,
            summary=handoff.summary,
            details={"topics": handoff.topics},
        )
        language = decision.understanding.language if decision.understanding else None
        if language and conversation.assignee_id is None:
            agent = await agent_speaking(
                session, conversation.workspace_id, team.id if team else None, language
            )
            if agent is not None:
                do_route_to_agent(session, conversation, agent)
    do_record_assistant_decision(session, conversation, record)
