"""Seed the demo workspace by playing its script through the domain actions.

Everything goes through ``actions`` so the demo has the events, jobs and states a
real deployment would have; timestamps are then spread over the past days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.actions import do_create_agent, do_create_team, do_create_token
from onethread.agents.models import Agent, Domain, Role, Team
from onethread.bootstrap import open_database
from onethread.contacts.actions import do_update_contact
from onethread.contacts.identity import SenderIdentity
from onethread.conversations import actions
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import Conversation, Message, Priority, SenderKind
from onethread.db.types import utcnow
from onethread.demo import billing_data, script
from onethread.demo.articles import install_demo_articles
from onethread.demo.history import play_history
from onethread.events.models import Event
from onethread.inboxes.actions import do_create_inbox
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind, Inbox
from onethread.inboxes.secrets import SecretBox
from onethread.settings import Settings
from onethread.workspaces.actions import do_create_workspace
from onethread.workspaces.models import Workspace
from onethread.workspaces.schemas import OpeningHours, WorkspaceSettings

TURN_SPACING = timedelta(minutes=4)


@dataclass
class DemoSummary:
    workspace_id: int
    workspace_name: str
    admin_email: str
    password: str
    token: str
    conversations: int
    webchat_inbox_id: int | None


@dataclass
class Cast:
    workspace: Workspace
    admin: Agent
    agents: dict[str, Agent]
    teams: dict[str, Team]
    inboxes: dict[str, Inbox]


async def _install_playbook(
    session: AsyncSession, workspace_id: int, settings: Settings, billing_api: str
) -> None:
    """The demo playbook on the first run; later runs only point it at the billing API's
    current address (the host or port may differ), keeping any edits made in between."""
    from onethread.agents.service import list_teams
    from onethread.demo.playbook import BILLING_API_VAR, demo_playbook, demo_playbook_secrets
    from onethread.playbook.actions import do_save_playbook, do_set_playbook_secrets
    from onethread.playbook.service import load_playbook

    playbook, revision = await load_playbook(session, workspace_id)
    if revision and playbook.vars.get(BILLING_API_VAR) == billing_api.rstrip("/"):
        return
    if revision:
        playbook = playbook.model_copy(
            update={"vars": {**playbook.vars, BILLING_API_VAR: billing_api.rstrip("/")}}
        )
    else:
        playbook = demo_playbook(billing_api)
    teams = await list_teams(session, workspace_id)
    await do_save_playbook(session, workspace_id, playbook, teams=teams, by_agent_id=None)
    await do_set_playbook_secrets(
        session,
        workspace_id,
        dict(demo_playbook_secrets(settings)),
        box=SecretBox(settings.effective_secret_key),
        by_agent_id=None,
    )


async def seed_demo(settings: Settings, *, billing_api: str | None = None) -> DemoSummary:
    """Create the demo workspace once; later runs reuse it and mint a fresh token.

    ``billing_api`` is where the demo playbook's actions reach the demo billing API
    (default: ``onethread.demo.playbook.billing_api_url``)."""
    from onethread.demo.playbook import billing_api_url

    db = await open_database(settings)
    try:
        async with db.session() as session:
            workspace = await session.scalar(
                select(Workspace).where(Workspace.name == script.COMPANY)
            )
            if workspace is None:
                cast = await _cast(session, SecretBox(settings.effective_secret_key))
                workspace = cast.workspace
                for thread in script.THREADS:
                    await _play(session, cast, thread)
                await play_history(session, cast)
            await _install_playbook(
                session, workspace.id, settings, billing_api or billing_api_url(settings)
            )
            await install_demo_articles(session, workspace.id)
            admin = await session.scalar(
                select(Agent).where(
                    Agent.workspace_id == workspace.id, Agent.email == script.ADMIN_EMAIL
                )
            )
            assert admin is not None
            _, token = await do_create_token(session, admin, name="onethread demo")
            webchat_inbox_id = await session.scalar(
                select(Inbox.id).where(
                    Inbox.workspace_id == workspace.id, Inbox.channel == ChannelKind.WEBCHAT.value
                )
            )
            count = len(
                (
                    await session.scalars(
                        select(Conversation.id).where(Conversation.workspace_id == workspace.id)
                    )
                ).all()
            )
    finally:
        await db.dispose()
    return DemoSummary(
        workspace.id,
        workspace.name,
        script.ADMIN_EMAIL,
        script.PASSWORD,
        token,
        count,
        webchat_inbox_id,
    )


async def _cast(session: AsyncSession, box: SecretBox) -> Cast:
    hours = [
        OpeningHours.model_validate({"day": day, "start": "08:00", "end": "18:00"})
        for day in ("mon", "tue", "wed", "thu", "fri")
    ]
    created = await do_create_workspace(
        session,
        name=script.COMPANY,
        admin_email=script.ADMIN_EMAIL,
        admin_password=script.PASSWORD,
        admin_name="Demo Admin",
        settings=WorkspaceSettings(
            reopen_window_hours=72, timezone="America/Los_Angeles", business_hours=hours
        ),
    )
    agents: dict[str, Agent] = {}
    members: dict[str, list[int]] = {script.BILLING: [], script.SUPPORT: []}
    for email, name, role, languages, team in script.AGENTS:
        agent = await do_create_agent(
            session,
            created.workspace.id,
            email=email,
            name=name,
            role=Role(role),
            password=script.PASSWORD,
            languages=languages,
        )
        agents[email] = agent
        members[team].append(agent.id)
    teams = {
        name: await do_create_team(
            session,
            created.workspace.id,
            name=name,
            domain=domain,
            member_ids=members[name],
            by_agent_id=created.admin.id,
        )
        for name, domain in (
            (script.BILLING, Domain.SERVICE.value),
            (script.SUPPORT, Domain.SUPPORT.value),
        )
    }
    inboxes = {
        kind: await do_create_inbox(
            session,
            created.workspace.id,
            box,
            channel=ChannelKind(kind),
            name=name,
            config=config,
            by_agent_id=created.admin.id,
        )
        for kind, name, config in script.INBOXES
    }
    return Cast(created.workspace, created.admin, agents, teams, inboxes)


async def _play(session: AsyncSession, cast: Cast, thread: script.Thread) -> None:
    customer = thread.customer
    conversation: Conversation | None = None
    for turn in thread.turns:
        verb = turn[0]
        if verb == "in":
            _, kind, text = turn
            sender = SenderIdentity(
                channel=IDENTITY_CHANNEL[ChannelKind(kind)],
                external_id=customer.identities[kind],
                display_name=customer.name,
                phone=customer.phone,
                email=customer.email,
                verified=bool(customer.phone or customer.email),
            )
            recorded = await actions.do_record_inbound(
                session,
                cast.workspace,
                cast.inboxes[kind],
                InboundMessage(
                    sender=sender,
                    text=text,
                    external_id=f"demo-{customer.identities[kind]}-{text[:24]}",
                ),
            )
            conversation = recorded.conversation
            if not recorded.contact.attributes:
                do_update_contact(
                    session,
                    recorded.contact,
                    {
                        "attributes": {
                            **customer.attributes,
                            **billing_data.contact_attributes(customer.name),
                        },
                        "language": customer.language,
                    },
                    by_agent_id=None,
                )
            conversation.language = customer.language
            continue
        assert conversation is not None, "a thread starts with the customer"
        await _apply(session, cast, conversation, turn)
    assert conversation is not None
    await actions.do_set_topics(session, conversation, thread.topics, by=None)
    if thread.priority:
        actions.do_set_priority(session, conversation, Priority(thread.priority), by=None)
    await session.flush()
    await _spread_in_time(session, conversation, thread.hours_ago)


async def _apply(
    session: AsyncSession, cast: Cast, conversation: Conversation, turn: tuple[Any, ...]
) -> None:
    verb, *args = turn
    named = cast.agents.get(str(args[0])) if args else None
    assignee = next((a for a in cast.agents.values() if a.id == conversation.assignee_id), None)
    if verb == "ai":
        await actions.do_send_reply(
            session, conversation, text=args[0], sender_kind=SenderKind.AI, ai_meta=args[1]
        )
    elif verb == "agent":
        await actions.do_send_reply(session, conversation, text=args[1], agent=named)
    elif verb == "note":
        await actions.do_add_note(session, conversation, text=args[1], agent=named)
    elif verb == "handoff":
        team = cast.teams[args[0]]
        await actions.do_hand_off(session, conversation, reason=args[1], team=team, summary=args[2])
    elif verb == "assign":
        actions.do_assign(session, conversation, named, by=cast.admin)
    elif verb == "resolve":
        await actions.do_resolve(session, conversation, by=assignee)
    elif verb == "snooze":
        until = utcnow() + timedelta(hours=float(args[0]))
        actions.do_snooze(session, conversation, until=until, by=assignee or cast.admin)
    else:
        raise ValueError(f"unknown demo turn {verb!r}")
    await session.flush()


async def _spread_in_time(
    session: AsyncSession, conversation: Conversation, hours_ago: float
) -> None:
    """Move the thread's history back so the demo reads like a real week."""
    start = utcnow() - timedelta(hours=hours_ago)
    messages = (
        await session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        )
    ).all()
    events = (
        await session.scalars(
            select(Event).where(Event.conversation_id == conversation.id).order_by(Event.id)
        )
    ).all()
    message_times = {m.id: start + TURN_SPACING * i for i, m in enumerate(messages)}
    for message in messages:
        message.created_at = message_times[message.id]
    moment = start
    for event in events:  # in log order: a message's time, else the previous event's
        moment = message_times.get(event.message_id or -1, moment)
        event.created_at = moment
    conversation.created_at = start
    conversation.last_message_at = messages[-1].created_at
    inbound = [m.created_at for m in messages if m.direction == "in"]
    conversation.last_inbound_at = inbound[-1] if inbound else None
    if conversation.resolved_at is not None:
        conversation.resolved_at = moment
