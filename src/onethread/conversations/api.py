"""Conversations: the filtered list, the cross-channel timeline, and every agent action."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Domain
from onethread.agents.service import access_agent, access_team
from onethread.api.deps import Context, CurrentCaller, ReadSession, WriteSession
from onethread.channels.outbound import TemplateChoice, queue_reply
from onethread.contacts.identity import SenderIdentity
from onethread.conversations import actions, service
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import Conversation, Handler, Status
from onethread.conversations.rendering import conversation_outs, message_out
from onethread.conversations.schemas import (
    AssignIn,
    ConversationOut,
    ConversationPage,
    HandoffIn,
    InboundIn,
    InboundOut,
    MessageOut,
    NoteIn,
    PriorityIn,
    ReplyIn,
    SnoozeIn,
    TransferIn,
    ViewCountsOut,
)
from onethread.db.types import MAX_ID, Id
from onethread.errors import NotFound
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind
from onethread.inboxes.service import access_inbox
from onethread.workspaces.service import access_workspace

router = APIRouter(tags=["conversations"])


@router.get("/conversations", response_model=ConversationPage)
async def list_conversations(
    caller: CurrentCaller,
    session: ReadSession,
    status: Status | None = None,
    handler: Handler | None = None,
    assignee: Annotated[
        str | None,
        Query(pattern=r"^(me|none|\d{1,18})$", description="an agent id, 'me' or 'none'"),
    ] = None,
    team: Id | None = None,
    inbox: Id | None = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    domain: Domain | None = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    contact: Id | None = None,
    q: Annotated[str | None, Query(max_length=200, description="free text")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ConversationPage:
    filters = service.ConversationFilters(
        status=status.value if status else None,
        handler=handler.value if handler else None,
        assignee_id=caller.agent.id
        if assignee == "me"
        else (int(assignee) if assignee and assignee.isdigit() else None),
        unassigned=assignee == "none",
        team_id=team,
        inbox_id=inbox,
        topic=topic,
        domain=domain.value if domain else None,
        language=language,
        contact_id=contact,
        q=q,
    )
    rows, next_cursor = await service.list_conversations(
        session, caller.workspace_id, filters, limit=limit, cursor=cursor
    )
    return ConversationPage(items=await conversation_outs(session, rows), next_cursor=next_cursor)


# Before "/conversations/{conversation_id}": a path id would claim "counts".
@router.get("/conversations/counts", response_model=ViewCountsOut)
async def count_views(
    caller: CurrentCaller,
    session: ReadSession,
    status: Status | None = None,
    inbox: Id | None = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    domain: Domain | None = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=200, description="free text")] = None,
) -> ViewCountsOut:
    """Exact counts of the inbox's views (mine, unassigned, each team, handled by AI,
    waiting for a human, all), under the same filters as ``GET /conversations``."""
    filters = service.ConversationFilters(
        status=status.value if status else None,
        inbox_id=inbox,
        topic=topic,
        domain=domain.value if domain else None,
        language=language,
        q=q,
    )
    counts = await service.count_views(session, caller.workspace_id, caller.agent.id, filters)
    return ViewCountsOut.model_validate(counts)


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
async def get_conversation(
    conversation_id: Id, caller: CurrentCaller, session: ReadSession
) -> ConversationOut:
    conversation = await service.access_conversation(session, caller.workspace_id, conversation_id)
    return (await conversation_outs(session, [conversation]))[0]


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut])
async def conversation_timeline(
    conversation_id: Id,
    caller: CurrentCaller,
    session: ReadSession,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="only messages after this id")
    ] = None,
) -> list[MessageOut]:
    """The thread's messages across every channel, private notes included, oldest first."""
    conversation = await service.access_conversation(session, caller.workspace_id, conversation_id)
    return [
        message_out(m, ch)
        for m, ch in await service.timeline(session, conversation, after_id=after)
    ]


async def _writable(
    session: AsyncSession, caller: CurrentCaller, conversation_id: int
) -> Conversation:
    return await service.access_conversation(session, caller.workspace_id, conversation_id)


async def _done(session: AsyncSession, conversation: Conversation) -> ConversationOut:
    await session.commit()
    return (await conversation_outs(session, [conversation]))[0]


@router.post("/conversations/{conversation_id}/reply", response_model=MessageOut, status_code=201)
async def reply(
    conversation_id: Id, body: ReplyIn, caller: CurrentCaller, session: WriteSession
) -> MessageOut:
    """Reply on the contact's latest channel, or on ``inbox_id``.

    Refused with 422 ``outside_reply_window`` when the channel's reply window is
    closed (WhatsApp: 24 hours; the error lists the inbox's templates). Text longer
    than the channel allows is queued as several messages; the first is returned.
    """
    conversation = await _writable(session, caller, conversation_id)
    inbox = (
        await access_inbox(session, caller.workspace_id, body.inbox_id)
        if body.inbox_id is not None
        else None
    )
    template = (
        TemplateChoice(body.template.name, body.template.parameters) if body.template else None
    )
    messages = await queue_reply(
        session, conversation, text=body.text, agent=caller.agent, inbox=inbox, template=template
    )
    await session.commit()
    message = messages[0]
    channel = (
        (await access_inbox(session, caller.workspace_id, message.inbox_id)).channel
        if message.inbox_id
        else None
    )
    return message_out(message, channel)


@router.post("/conversations/{conversation_id}/notes", response_model=MessageOut, status_code=201)
async def add_note(
    conversation_id: Id, body: NoteIn, caller: CurrentCaller, session: WriteSession
) -> MessageOut:
    conversation = await _writable(session, caller, conversation_id)
    for agent_id in body.mentions:
        await access_agent(session, caller.workspace_id, agent_id)
    note = await actions.do_add_note(
        session, conversation, text=body.text, agent=caller.agent, mentions=body.mentions
    )
    await session.commit()
    return message_out(note, None)


@router.post("/conversations/{conversation_id}/assign", response_model=ConversationOut)
async def assign(
    conversation_id: Id, body: AssignIn, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    assignee = (
        await access_agent(session, caller.workspace_id, body.assignee_id)
        if body.assignee_id is not None
        else None
    )
    actions.do_assign(session, conversation, assignee, by=caller.agent)
    return await _done(session, conversation)


@router.post("/conversations/{conversation_id}/transfer", response_model=ConversationOut)
async def transfer(
    conversation_id: Id, body: TransferIn, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    team = await access_team(session, caller.workspace_id, body.team_id)
    actions.do_transfer(
        session, conversation, team, by=caller.agent, keep_assignee=body.keep_assignee
    )
    return await _done(session, conversation)


@router.post("/conversations/{conversation_id}/handoff", response_model=ConversationOut)
async def hand_off(
    conversation_id: Id, body: HandoffIn, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    team = (
        await access_team(session, caller.workspace_id, body.team_id)
        if body.team_id is not None
        else None
    )
    await actions.do_hand_off(
        session, conversation, reason=body.reason, team=team, summary=body.summary, by=caller.agent
    )
    return await _done(session, conversation)


@router.post("/conversations/{conversation_id}/handback", response_model=ConversationOut)
async def hand_back(
    conversation_id: Id, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    actions.do_hand_back(session, conversation, by=caller.agent)
    return await _done(session, conversation)


@router.post("/conversations/{conversation_id}/resolve", response_model=ConversationOut)
async def resolve(
    conversation_id: Id, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    await actions.do_resolve(session, conversation, by=caller.agent)
    return await _done(session, conversation)


@router.post("/conversations/{conversation_id}/reopen", response_model=ConversationOut)
async def reopen(
    conversation_id: Id, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    await actions.do_reopen(session, conversation, by=caller.agent)
    return await _done(session, conversation)


@router.post("/conversations/{conversation_id}/snooze", response_model=ConversationOut)
async def snooze(
    conversation_id: Id, body: SnoozeIn, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    actions.do_snooze(session, conversation, until=body.until, by=caller.agent)
    return await _done(session, conversation)


@router.post("/conversations/{conversation_id}/priority", response_model=ConversationOut)
async def set_priority(
    conversation_id: Id, body: PriorityIn, caller: CurrentCaller, session: WriteSession
) -> ConversationOut:
    conversation = await _writable(session, caller, conversation_id)
    actions.do_set_priority(session, conversation, body.priority, by=caller.agent)
    return await _done(session, conversation)


@router.post("/inboxes/{inbox_id}/inbound", response_model=InboundOut, status_code=201)
async def record_inbound(
    inbox_id: Id, body: InboundIn, caller: CurrentCaller, context: Context
) -> InboundOut:
    """Record a message received outside a webhook (imports, custom integrations).

    It goes through the same path as a webhook: contact by identity, the contact's
    one thread, dedupe by ``external_id``, an event and an assistant job.
    """

    async def work(session: AsyncSession) -> InboundOut:
        inbox = await access_inbox(session, caller.workspace_id, inbox_id)
        workspace = await access_workspace(session, caller.workspace_id)
        sender = SenderIdentity(
            channel=IDENTITY_CHANNEL[ChannelKind(inbox.channel)],
            external_id=body.sender_id,
            display_name=body.sender_name,
            phone=body.sender_phone,
            email=body.sender_email,
            verified=body.verified,
        )
        recorded = await actions.do_record_inbound(
            session,
            workspace,
            inbox,
            InboundMessage(sender=sender, text=body.text, external_id=body.external_id),
        )
        return InboundOut(
            message=message_out(recorded.message, inbox.channel),
            conversation_id=recorded.conversation.id,
            contact_id=recorded.contact.id,
            outcome=recorded.outcome,
        )

    return await context.db.write(work)


@router.get(
    "/messages/{message_id}/attachments/{index}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_attachment(
    message_id: Id,
    index: Annotated[int, Path(ge=0, le=99)],
    caller: CurrentCaller,
    session: ReadSession,
    context: Context,
) -> FileResponse:
    """An inbound attachment, once fetched from the provider (``status: stored``)."""
    message = await service.access_message(session, caller.workspace_id, message_id)
    if index >= len(message.attachments):
        raise NotFound(f"message {message_id} has no attachment {index}")
    attachment = message.attachments[index]
    if attachment.get("status") != "stored" or not attachment.get("path"):
        raise NotFound(
            f"attachment {index} of message {message_id} is not stored "
            f"(status: {attachment.get('status', 'pending')})"
        )
    media_dir = context.settings.resolved_media_dir.resolve()
    stored = (media_dir / str(attachment["path"])).resolve()
    if not stored.is_relative_to(media_dir) or not stored.is_file():
        raise NotFound(f"attachment {index} of message {message_id} is missing from storage")
    return FileResponse(
        stored,
        media_type=attachment.get("mime_type") or "application/octet-stream",
        filename=stored.name,
    )
