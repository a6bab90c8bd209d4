"""A realistic workspace, fast: a tenant through the actions, then threads in bulk.

The tenant (workspace, admin token, agents, teams, a WhatsApp inbox) goes through the
domain actions like any real one. The threads go in with Core ``insert()`` executemany,
5,000 at a time: each contact has a verified WhatsApp identity (its number, digits only,
as the Cloud API reports it), one conversation with one or two messages, and four in
ten conversations carry topics. No events are written for seeded rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from onethread.agents.actions import do_create_agent, do_create_team
from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.models import Conversation, ConversationTopic, Message, Status
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.inboxes.actions import do_create_inbox
from onethread.inboxes.models import ChannelKind
from onethread.inboxes.secrets import SecretBox
from onethread.workspaces.actions import do_create_workspace

SECRET_KEY = "bench-secret-key-not-for-production"
CHUNK = 5000
AGENTS = 12
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kenji",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
LAST_NAMES = (
    "Garcia",
    "Smith",
    "Nguyen",
    "Okafor",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "Dubois",
    "Silva",
    "Novak",
    "Haddad",
    "Murphy",
    "Jensen",
    "Costa",
    "Ivanova",
    "Mensah",
    "Schmidt",
    "Lopez",
    "Khan",
    "Moreau",
    "Berg",
    "Sato",
    "Walsh",
    "Ortiz",
    "Weber",
)
TEAMS = {
    "Billing & Accounts": "service",
    "Customer Success": "service",
    "Technical Support": "support",
    "Integrations": "support",
}
TOPICS = {
    "billing": "service",
    "refund": "service",
    "plan_change": "service",
    "cancellation": "service",
    "invoice": "service",
    "login": "support",
    "bug_report": "support",
    "integration": "support",
    "data_export": "support",
    "performance": "support",
}
TEXTS = (
    "Hi, I was charged twice this month",
    "How do I export my data to CSV?",
    "The app crashes when I open the settings page",
    "Can I switch to the annual plan?",
    "I can't log in since yesterday",
    "Where is the invoice for last month?",
    "Please cancel my subscription at the end of the term",
    "Is there an API for orders?",
    "The dashboard is really slow today",
    "Thanks, that solved it!",
)
STATUS_WEIGHTS = {Status.OPEN: 25, Status.PENDING: 10, Status.SNOOZED: 5, Status.RESOLVED: 60}


@dataclass(frozen=True)
class Tenant:
    workspace_id: int
    inbox_id: int
    token: str
    agent_ids: tuple[int, ...]
    team_ids: tuple[int, ...]


async def create_tenant(db: Database) -> Tenant:
    """A workspace with its admin token, agents, teams and a WhatsApp inbox, via the actions."""
    async with db.session() as session:
        created = await do_create_workspace(
            session, name="Bench", admin_email="admin@bench.test", admin_password="bench password"
        )
        workspace_id = created.workspace.id
        agents = [
            await do_create_agent(session, workspace_id, email=f"agent{n}@bench.test", name=f"A{n}")
            for n in range(AGENTS)
        ]
        teams = [
            await do_create_team(
                session,
                workspace_id,
                name=name,
                domain=domain,
                member_ids=[agent.id for agent in agents[n :: len(TEAMS)]],
                by_agent_id=created.admin.id,
            )
            for n, (name, domain) in enumerate(TEAMS.items())
        ]
        inbox = await do_create_inbox(
            session,
            workspace_id,
            SecretBox(SECRET_KEY),
            channel=ChannelKind.WHATSAPP,
            name="WhatsApp",
            config={"phone_number_id": "100200300"},
        )
    agent_ids = tuple(agent.id for agent in agents)
    return Tenant(workspace_id, inbox.id, created.token, agent_ids, tuple(t.id for t in teams))


async def seed_threads(db: Database, tenant: Tenant, count: int) -> float:
    """``count`` contacts, each with a WhatsApp identity and one thread; returns seconds."""
    rng, now, started = random.Random(7), utcnow(), perf_counter()
    for start in range(0, count, CHUNK):
        async with db.engine.begin() as connection:
            indexes = range(start, min(start + CHUNK, count))
            await _seed_chunk(connection, tenant, indexes, rng, now)
    if not db.is_sqlite:  # autovacuum would get there soon; SQLite never analyzes by itself
        async with db.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    return perf_counter() - started


def contact_name(index: int) -> str:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    return f"{first} {LAST_NAMES[index // len(FIRST_NAMES) % len(LAST_NAMES)]}"


async def _seed_chunk(
    connection: AsyncConnection, tenant: Tenant, indexes: range, rng: random.Random, now: datetime
) -> None:
    contacts = [_contact_row(tenant, i, now) for i in indexes]
    contact_ids = await _insert_ids(connection, Contact.phone, contacts)
    identities = [
        _identity_row(tenant, c, cid, now) for c, cid in zip(contacts, contact_ids, strict=True)
    ]
    identity_ids = await _insert_ids(connection, ContactIdentity.external_id, identities)
    conversations = [_conversation_row(tenant, cid, rng, now) for cid in contact_ids]
    conversation_ids = await _insert_ids(connection, Conversation.contact_id, conversations)
    threads = zip(conversations, conversation_ids, identity_ids, strict=True)
    messages = [row for thread in threads for row in _message_rows(tenant, *thread, rng)]
    await connection.execute(insert(Message), messages)
    topics = [row for cid in conversation_ids for row in _topic_rows(tenant, cid, rng)]
    if topics:
        await connection.execute(insert(ConversationTopic), topics)


async def _insert_ids(
    connection: AsyncConnection, key: InstrumentedAttribute[Any], rows: list[dict[str, Any]]
) -> list[int]:
    """Bulk insert; the new ids in row order, matched back through the unique ``key`` column.

    (RETURNING in row order would fall back to one statement per row on SQLite.)
    """
    model = key.class_
    before = await connection.scalar(select(func.coalesce(func.max(model.id), 0)))
    await connection.execute(insert(model), rows)
    found = await connection.execute(select(key, model.id).where(model.id > before))
    ids: dict[Any, int] = dict(found.tuples().all())
    return [ids[row[key.key]] for row in rows]


def _contact_row(tenant: Tenant, index: int, now: datetime) -> dict[str, Any]:
    name = contact_name(index)
    return {
        "workspace_id": tenant.workspace_id,
        "name": name,
        "phone": f"+1555{index:07d}",
        "email": f"{name.replace(' ', '.').lower()}{index}@example.com",
        "language": "en",
        "attributes": {"plan": ("free", "pro", "business")[index % 3]},
        "created_at": now,
        "updated_at": now,
    }


def _identity_row(
    tenant: Tenant, contact: dict[str, Any], contact_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "workspace_id": tenant.workspace_id,
        "contact_id": contact_id,
        "channel": "whatsapp",
        "external_id": contact["phone"].removeprefix("+"),
        "display_name": contact["name"],
        "phone": contact["phone"],
        "email": None,
        "verified": True,
        "details": {},
        "created_at": now,
    }


def _conversation_row(
    tenant: Tenant, contact_id: int, rng: random.Random, now: datetime
) -> dict[str, Any]:
    """Activity spread over six months; half the threads with humans, most of those assigned."""
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    last = now - timedelta(seconds=rng.uniform(60, 180 * 86400))
    human = rng.random() < 0.5
    return {
        "workspace_id": tenant.workspace_id,
        "contact_id": contact_id,
        "status": status.value,
        "handler": "human" if human else "ai",
        "assignee_id": rng.choice(tenant.agent_ids) if human and rng.random() < 0.8 else None,
        "team_id": rng.choice(tenant.team_ids) if human else None,
        "priority": "normal",
        "language": "en",
        "last_inbox_id": tenant.inbox_id,
        "last_message_at": last,
        "last_inbound_at": last,
        "ai_turns": 0 if human else 1,
        "snoozed_until": now + timedelta(days=1) if status is Status.SNOOZED else None,
        "resolved_at": min(last + timedelta(hours=2), now) if status is Status.RESOLVED else None,
        "created_at": last - timedelta(hours=rng.uniform(0, 48)),
    }


def _message_rows(
    tenant: Tenant,
    conversation: dict[str, Any],
    conversation_id: int,
    identity_id: int,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """The customer's message and, for half the threads, the assistant's reply after it."""
    common = {
        "workspace_id": tenant.workspace_id,
        "conversation_id": conversation_id,
        "inbox_id": tenant.inbox_id,
        "identity_id": identity_id,
        "attachments": [],
        "private": False,
    }
    last = conversation["last_message_at"]
    inbound = {
        **common,
        "direction": "in",
        "sender_kind": "contact",
        "text": rng.choice(TEXTS),
        "external_id": f"wamid.seed.{conversation_id}",
        "delivery_status": None,
        "created_at": last - timedelta(minutes=1),
    }
    if rng.random() < 0.5:
        return [inbound]
    reply = {
        **common,
        "direction": "out",
        "sender_kind": "ai",
        "text": "Thanks for writing! Here is what I found.",
        "external_id": None,
        "delivery_status": "delivered",
        "created_at": last,
    }
    return [inbound, reply]


def _topic_rows(tenant: Tenant, conversation_id: int, rng: random.Random) -> list[dict[str, Any]]:
    """Four threads in ten carry one or two topics."""
    if rng.random() >= 0.4:
        return []
    names = rng.sample(list(TOPICS), rng.choice((1, 1, 2)))
    return [
        {
            "workspace_id": tenant.workspace_id,
            "conversation_id": conversation_id,
            "name": name,
            "domain": TOPICS[name],
        }
        for name in names
    ]
