"""The ``survey.ask`` job: check the channel, then queue the question like any reply.

The question goes through ``channels.outbound.queue_reply`` (a system message with a
durable delivery job: retries and a visible failed status as for any reply), on the
inbox the customer last wrote from. It is skipped, with the reason recorded, when the
thread was merged away, has no customer channel, is a phone call, or when WhatsApp's
or Meta's 24-hour window is closed; a reopen since the resolution drops the job (the
next resolution schedules again).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.channels.meta_messaging import MAX_QUICK_REPLIES
from onethread.channels.outbound import queue_reply, reply_window
from onethread.channels.registry import adapter_for
from onethread.channels.whatsapp import MAX_LIST_ROWS
from onethread.conversations.models import Conversation, SenderKind, Status
from onethread.conversations.service import reply_target
from onethread.db.database import Database
from onethread.errors import InvalidInput
from onethread.inboxes.models import ChannelKind, Inbox
from onethread.surveys.actions import do_record_asked, do_record_skipped
from onethread.surveys.models import SurveyKind
from onethread.surveys.questions import question_buttons, question_text
from onethread.surveys.service import enabled_kinds, survey_kinds_done, survey_settings

log = logging.getLogger(__name__)

# How many choices each channel shows as buttons (else the question asks for a number in
# text): WhatsApp turns more than 3 into a list of up to 10 rows (so CSAT is a list and
# NPS, with 11 scores, is text); Meta's quick replies take 13; the web chat any number.
_BUTTON_CAPACITY: dict[ChannelKind, int] = {
    ChannelKind.WEBCHAT: 11,
    ChannelKind.WHATSAPP: MAX_LIST_ROWS,
    ChannelKind.INSTAGRAM: MAX_QUICK_REPLIES,
    ChannelKind.MESSENGER: MAX_QUICK_REPLIES,
}


async def ask_survey(db: Database, payload: dict[str, Any]) -> None:
    async with db.session() as session:
        conversation = await session.get(Conversation, int(payload["conversation_id"]))
        resolved_at = datetime.fromisoformat(payload["resolved_at"])
        if (
            conversation is None
            or conversation.status != Status.RESOLVED.value
            or conversation.resolved_at != resolved_at
        ):
            return  # reopened (or gone) since: a new resolution schedules its own
        await _ask(session, conversation, SurveyKind(payload["kind"]), str(payload["handler"]))


async def _ask(
    session: AsyncSession, conversation: Conversation, kind: SurveyKind, handler: str
) -> None:
    done = await survey_kinds_done(session, conversation.id)
    if kind in done:
        return  # a retried or repeated job: never twice
    if conversation.merged_into_id is not None:
        _skip(session, conversation, [kind], handler, "merged", None)
        return
    try:
        target = await reply_target(session, conversation, None)
    except InvalidInput:
        _skip(session, conversation, [kind], handler, "no_channel", None)
        return
    inbox = target.inbox
    kinds = enabled_kinds(survey_settings(inbox))
    if kind not in kinds:
        return  # turned off since the resolution
    # What would follow it is skipped with it.
    rest = [later for later in kinds[kinds.index(kind) :] if later not in done]
    if inbox.channel == ChannelKind.TWILIO_VOICE.value:
        _skip(session, conversation, rest, handler, "no_text_channel", inbox)
        return
    adapter = adapter_for(inbox.channel)
    if not (await reply_window(session, adapter, conversation, inbox)).open:
        _skip(session, conversation, rest, handler, "outside_window", inbox)
        return
    buttons = question_buttons(kind)
    if not adapter.supports_buttons or len(buttons) > _BUTTON_CAPACITY.get(
        ChannelKind(inbox.channel), 0
    ):
        buttons = []
    messages = await queue_reply(
        session,
        conversation,
        text=question_text(kind, conversation.language),
        sender_kind=SenderKind.SYSTEM,
        buttons=buttons or None,
        ai_meta={"survey": {"kind": kind.value}},
    )
    do_record_asked(
        session, conversation, kind=kind, handler=handler, inbox=inbox, question=messages[-1]
    )


def _skip(
    session: AsyncSession,
    conversation: Conversation,
    kinds: list[SurveyKind],
    handler: str,
    reason: str,
    inbox: Inbox | None,
) -> None:
    log.info("survey %s of conversation %s skipped: %s", kinds, conversation.id, reason)
    for kind in kinds:
        do_record_skipped(
            session, conversation, kind=kind, handler=handler, reason=reason, inbox=inbox
        )
