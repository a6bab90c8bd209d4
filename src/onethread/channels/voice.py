"""A phone call as a thread: what the caller says is a message, the reply is spoken.

Each webhook of a call (``twilio_voice.parse_call``) is answered with TwiML inside
Twilio's 15-second budget. A turn's speech is stored through ``ingest`` like any
inbound message (so the assistant gets its job), then the flow waits up to
``voice_reply_seconds`` for the reply queued on this inbox: it is spoken inside the
next ``<Gather>``; if it is not ready, a holding line and a ``<Redirect>`` ask again.
When the thread is with a human (a handoff) and the inbox has a transfer number, the
caller is dialled through to it; the transcript is already in the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Response
from sqlalchemy import select

from onethread.api.context import AppContext
from onethread.channels import twilio, twilio_voice
from onethread.channels.base import Ignored, WebhookRequest, expect_config
from onethread.channels.ingest import ingest
from onethread.conversations.actions import do_add_note, do_update_delivery
from onethread.conversations.models import (
    Conversation,
    DeliveryStatus,
    Direction,
    Handler,
    Message,
    SenderKind,
)
from onethread.inboxes.channel_config import ChannelConfig, TwilioVoiceConfig
from onethread.inboxes.models import Inbox
from onethread.inboxes.service import webhook_path

HOLDING_LINE = "One moment, please."
TRANSFER_LINE = "Let me connect you with a teammate."
SORRY_LINE = "Sorry, I could not find an answer quickly. Could you say that again?"
GOODBYE_LINE = "Thank you for calling. Goodbye."
POLL_SECONDS = 0.1


def _twiml(body: bytes) -> Response:
    return Response(content=body, media_type=twilio.TWIML_MEDIA_TYPE)


def _url(context: AppContext, inbox: Inbox, **query: str | int) -> str:
    return context.settings.public_path_url(webhook_path(inbox)) + "?" + urlencode(query)


async def _call_conversation(context: AppContext, inbox: Inbox, call_sid: str) -> int | None:
    """The thread a call's turns went to (their ids are ``<CallSid>:<turn>``)."""
    async with context.db.read_session() as session:
        conversation_id: int | None = await session.scalar(
            select(Message.conversation_id)
            .where(Message.inbox_id == inbox.id, Message.external_id.like(f"{call_sid}:%"))
            .order_by(Message.id.desc())
            .limit(1)
        )
    return conversation_id


@dataclass
class Turn:
    """What to say now, and who has the thread.

    A thread with a human is transferred to the inbox's number, unless an agent has
    been answering this call in writing (their replies are spoken, as the assistant's).
    """

    spoken: list[str]
    with_human: bool
    agent_speaking: bool = False

    @property
    def transfer(self) -> bool:
        return self.with_human and not self.agent_speaking


async def _take_replies(
    context: AppContext, inbox: Inbox, conversation_id: int, call_sid: str
) -> Turn:
    """Queued replies on this inbox, marked sent as they are spoken; and who has the thread."""
    async with context.db.read_session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        waiting = await session.scalar(
            select(Message.id)
            .where(
                Message.conversation_id == conversation_id,
                Message.inbox_id == inbox.id,
                Message.delivery_status == DeliveryStatus.QUEUED.value,
            )
            .limit(1)
        )
        # An agent who has been answering this call in writing keeps it (no transfer).
        agent_on_call = await session.scalar(
            select(Message.id)
            .where(
                Message.conversation_id == conversation_id,
                Message.external_id.like(f"{call_sid}:say:%"),
                Message.sender_kind == SenderKind.AGENT.value,
            )
            .limit(1)
        )
        with_human = conversation.handler == Handler.HUMAN.value
        if waiting is None:  # nothing to say yet: no write lock taken while polling
            return Turn([], with_human, agent_speaking=agent_on_call is not None)
    async with context.db.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        rows = await session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.inbox_id == inbox.id,
                Message.direction == Direction.OUTBOUND.value,
                Message.private.is_(False),
                Message.delivery_status == DeliveryStatus.QUEUED.value,
            )
            .order_by(Message.id)
            .with_for_update(skip_locked=True)
        )
        turn = Turn([], with_human, agent_speaking=agent_on_call is not None)
        for message in rows:
            do_update_delivery(
                session,
                message,
                DeliveryStatus.SENT,
                external_id=f"{call_sid}:say:{message.id}",
            )
            turn.spoken.append(message.text)
            turn.agent_speaking |= message.sender_kind == SenderKind.AGENT.value
        return turn


async def _await_reply(
    context: AppContext, inbox: Inbox, conversation_id: int, call_sid: str
) -> Turn:
    """Wait for the reply (the assistant's or an agent's) up to the configured budget."""
    deadline = time.monotonic() + context.settings.voice_reply_seconds
    subscription = context.bus.subscribe()
    try:
        while True:
            turn = await _take_replies(context, inbox, conversation_id, call_sid)
            if turn.spoken or turn.transfer or time.monotonic() >= deadline:
                return turn
            # Woken early by any committed event; the database decides.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscription.queue.get(), timeout=POLL_SECONDS)
    finally:
        subscription.close()


def _next_step(
    context: AppContext,
    inbox: Inbox,
    config: TwilioVoiceConfig,
    reply: Turn,
    *,
    turn: int,
    waited: int,
) -> bytes:
    language = config.voice_language
    said = " ".join(reply.spoken)
    if reply.transfer and config.human_transfer_number:
        line = f"{said} {TRANSFER_LINE}".strip()
        action = _url(context, inbox, event="dial")
        return twilio_voice.dial(line, config.human_transfer_number, action, language=language)
    if reply.spoken:
        action = _url(context, inbox, event="speech", turn=turn + 1)
        return twilio_voice.gather(said, action_url=action, language=language)
    if waited < context.settings.voice_max_waits:
        redirect = _url(context, inbox, event="wait", turn=turn, waited=waited + 1)
        return twilio_voice.hold(HOLDING_LINE, redirect, language=language)
    action = _url(context, inbox, event="speech", turn=turn + 1)
    return twilio_voice.gather(SORRY_LINE, action_url=action, language=language)


async def _close_call(context: AppContext, inbox: Inbox, call_sid: str, summary: str) -> None:
    conversation_id = await _call_conversation(context, inbox, call_sid)
    if conversation_id is None:
        return  # the caller said nothing: no thread was started
    async with context.db.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        unsaid = await session.scalars(
            select(Message).where(
                Message.conversation_id == conversation_id,
                Message.inbox_id == inbox.id,
                Message.delivery_status == DeliveryStatus.QUEUED.value,
            )
        )
        for message in unsaid:
            do_update_delivery(
                session,
                message,
                DeliveryStatus.FAILED,
                error_code="call_ended",
                error="the call ended before this reply could be spoken",
            )
        await do_add_note(
            session, conversation, text=summary, agent=None, sender_kind=SenderKind.SYSTEM
        )


async def answer_call(
    context: AppContext, inbox: Inbox, config: ChannelConfig, webhook: WebhookRequest
) -> Response:
    """The TwiML for one (already verified) voice webhook."""
    config = expect_config(config, TwilioVoiceConfig)
    event = twilio_voice.parse_call(webhook)
    language = config.voice_language
    if isinstance(event, twilio_voice.CallStarted):
        action = _url(context, inbox, event="speech", turn=1)
        return _twiml(twilio_voice.gather(config.greeting, action_url=action, language=language))
    if isinstance(event, twilio_voice.SpeechHeard):
        if not event.text:
            action = _url(context, inbox, event="speech", turn=event.turn + 1)
            return _twiml(twilio_voice.gather(SORRY_LINE, action_url=action, language=language))
        result = await ingest(context.db, inbox.id, [event.as_inbound()])
        conversation_id = result.recorded[0].conversation.id
        reply = await _await_reply(context, inbox, conversation_id, event.call_sid)
        step = _next_step(context, inbox, config, reply, turn=event.turn, waited=0)
        return _twiml(step)
    if isinstance(event, twilio_voice.ReplyAwaited):
        found = await _call_conversation(context, inbox, event.call_sid)
        if found is None:
            return _twiml(twilio_voice.hangup(GOODBYE_LINE, language=language))
        reply = await _await_reply(context, inbox, found, event.call_sid)
        step = _next_step(context, inbox, config, reply, turn=event.turn, waited=event.waited)
        return _twiml(step)
    if isinstance(event, twilio_voice.TransferEnded):
        await _close_call(
            context,
            inbox,
            event.call_sid,
            f"Call transferred to {config.human_transfer_number}: {event.dial_status}"
            + (f", {event.duration_seconds} s" if event.duration_seconds is not None else ""),
        )
        return _twiml(twilio_voice.hangup(GOODBYE_LINE, language=language))
    if isinstance(event, twilio_voice.CallEnded):
        duration = f", {event.duration_seconds} s" if event.duration_seconds is not None else ""
        await _close_call(context, inbox, event.call_sid, f"Call ended: {event.status}{duration}")
        return _twiml(twilio.EMPTY_TWIML)
    assert isinstance(event, Ignored)
    return _twiml(twilio.EMPTY_TWIML)
