"""Inboxes: connected channel accounts. Secrets are write-only."""

from __future__ import annotations

from fastapi import APIRouter

from onethread.api.context import AppContext
from onethread.api.deps import AdminCaller, Context, CurrentCaller, ReadSession, WriteSession
from onethread.db.types import Id
from onethread.inboxes import actions, service
from onethread.inboxes.models import AiMode, ChannelKind, Inbox
from onethread.inboxes.schemas import InboxCreate, InboxOut, InboxUpdate

router = APIRouter(tags=["inboxes"])


def inbox_out(inbox: Inbox, context: AppContext) -> InboxOut:
    return InboxOut(
        id=inbox.id,
        name=inbox.name,
        channel=ChannelKind(inbox.channel),
        ai_mode=AiMode(inbox.ai_mode),
        config=inbox.config,
        secrets_set=service.secret_names_set(inbox, context.secrets),
        webhook_url=context.settings.public_path_url(service.webhook_path(inbox)),
        created_at=inbox.created_at,
    )


@router.get("/inboxes", response_model=list[InboxOut])
async def list_inboxes(
    caller: CurrentCaller, session: ReadSession, context: Context
) -> list[InboxOut]:
    inboxes = await service.list_inboxes(session, caller.workspace_id)
    return [inbox_out(inbox, context) for inbox in inboxes]


@router.post("/inboxes", response_model=InboxOut, status_code=201)
async def create_inbox(
    body: InboxCreate, caller: AdminCaller, session: WriteSession, context: Context
) -> InboxOut:
    inbox = await actions.do_create_inbox(
        session,
        caller.workspace_id,
        context.secrets,
        channel=body.channel,
        name=body.name,
        config=body.config,
        ai_mode=body.ai_mode,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return inbox_out(inbox, context)


@router.get("/inboxes/{inbox_id}", response_model=InboxOut)
async def get_inbox(
    inbox_id: Id, caller: CurrentCaller, session: ReadSession, context: Context
) -> InboxOut:
    return inbox_out(await service.access_inbox(session, caller.workspace_id, inbox_id), context)


@router.patch("/inboxes/{inbox_id}", response_model=InboxOut)
async def update_inbox(
    inbox_id: Id, body: InboxUpdate, caller: AdminCaller, session: WriteSession, context: Context
) -> InboxOut:
    inbox = await service.access_inbox(session, caller.workspace_id, inbox_id)
    actions.do_update_inbox(
        session,
        inbox,
        context.secrets,
        by_agent_id=caller.agent.id,
        name=body.name,
        config=body.config,
        ai_mode=body.ai_mode,
    )
    await session.commit()
    cache = context.extras.get(service.INBOX_CACHE_KEY)
    if isinstance(cache, service.InboxConfigCache):
        cache.forget(inbox.id)  # this process sees the change at once; others within its ttl
    return inbox_out(inbox, context)
