"""Hand-built event histories for the metric tests: events at chosen times, as the log holds them.

Rows are written the way the domain actions write them (a conversation, its messages, its
events), with the timestamps a test needs, so that each metric has a known answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from onethread.contacts.models import Contact
from onethread.conversations.models import Conversation, Message
from onethread.db.database import Database
from onethread.events.models import Event

# A Monday: tests speak of times as offsets from it.
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(day: int = 0, hour: float = 0, minute: float = 0) -> datetime:
    """``MONDAY`` plus ``day`` days, ``hour`` hours and ``minute`` minutes."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


@dataclass
class Thread:
    """One conversation whose events a test appends in order."""

    history: History
    id: int
    contact_id: int

    async def event(
        self, type: str, when: datetime, *, message_id: int | None = None, **data: Any
    ) -> None:
        await self.history.event(
            type,
            when,
            conversation_id=self.id,
            contact_id=self.contact_id,
            message_id=message_id,
            data=data,
        )

    async def received(
        self,
        when: datetime,
        text: str = "hello",
        *,
        channel: str = "whatsapp",
        inbox_id: int = 501,
        outcome: str = "joined",
    ) -> int:
        message_id = await self.history.message(self.id, when, "contact", text)
        await self.event(
            "message.received",
            when,
            message_id=message_id,
            inbox_id=inbox_id,
            channel=channel,
            outcome=outcome,
            attachments=0,
        )
        return message_id

    async def reply(self, when: datetime, sender: str = "agent", *, private: bool = False) -> None:
        message_id = await self.history.message(self.id, when, sender, "an answer")
        await self.event(
            "message.created",
            when,
            message_id=message_id,
            sender_kind=sender,
            inbox_id=501,
            channel="whatsapp",
            private=private,
        )

    async def assign(self, when: datetime, agent_id: int | None = 7) -> None:
        await self.event("conversation.assigned", when, assignee_id=agent_id, auto=False)

    async def handoff(
        self,
        when: datetime,
        reason: str = "customer_requested_human",
        *,
        by: str = "ai",
        team_id: int | None = None,
    ) -> None:
        await self.event("handoff.requested", when, reason=reason, team_id=team_id, by=by)

    async def transfer(self, when: datetime, team_id: int, previous: int | None) -> None:
        await self.event(
            "conversation.transferred",
            when,
            team_id=team_id,
            previous_team_id=previous,
            domain="support",
        )

    async def topics(
        self, when: datetime, *topics: tuple[str, str], language: str | None = None
    ) -> None:
        await self.event(
            "conversation.topics_changed",
            when,
            topics=[{"name": name, "domain": domain} for name, domain in topics],
            language=language,
        )

    async def decided(self, when: datetime, outcome: str = "reply") -> None:
        await self.event("assistant.decided", when, outcome=outcome, language="en")

    async def resolve(
        self,
        when: datetime,
        handler: str = "human",
        *,
        assignee_id: int | None = None,
        team_id: int | None = None,
    ) -> None:
        await self.event(
            "conversation.resolved",
            when,
            handler=handler,
            by="agent" if handler == "human" else "ai",
            assignee_id=assignee_id,
            team_id=team_id,
        )

    async def reopen(self, when: datetime) -> None:
        await self.event("conversation.reopened", when, by="message", resolved_at=None)

    async def survey(self, when: datetime, kind: str, score: int, handler: str = "human") -> None:
        await self.event(
            "survey.answered", when, kind=kind, score=score, comment=None, handler=handler
        )


class History:
    """Writes a workspace's contacts, conversations, messages and events."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self.db = db
        self.workspace_id = workspace_id

    async def contact(self, **attributes: Any) -> int:
        async with self.db.session() as session:
            contact = Contact(workspace_id=self.workspace_id, attributes=attributes)
            session.add(contact)
            await session.flush()
        await self.event("contact.created", MONDAY, contact_id=contact.id, data={"channel": None})
        return contact.id

    async def update_contact(self, contact_id: int, **attributes: Any) -> None:
        async with self.db.session() as session:
            contact = await session.get(Contact, contact_id)
            assert contact is not None
            contact.attributes = {**contact.attributes, **attributes}
        await self.event(
            "contact.updated", MONDAY, contact_id=contact_id, data={"changed": ["attributes"]}
        )

    async def thread(
        self,
        when: datetime,
        *,
        contact_id: int | None = None,
        previous: int | None = None,
        first_message: str | None = "hello",
        channel: str = "whatsapp",
        inbox_id: int = 501,
    ) -> Thread:
        """A conversation created at ``when`` (and its first customer message, unless None)."""
        contact_id = contact_id or await self.contact()
        async with self.db.session() as session:
            # Stored resolved: the one-open-thread-per-contact index is not what these test.
            conversation = Conversation(
                workspace_id=self.workspace_id,
                contact_id=contact_id,
                status="resolved",
                handler="ai",
                priority="normal",
                last_message_at=when,
                created_at=when,
                ai_turns=0,
            )
            session.add(conversation)
            await session.flush()
            thread = Thread(self, conversation.id, contact_id)
        await thread.event("conversation.created", when, previous_conversation_id=previous)
        if first_message is not None:
            await thread.received(when, first_message, channel=channel, inbox_id=inbox_id)
        return thread

    async def message(self, conversation_id: int, when: datetime, sender: str, text: str) -> int:
        async with self.db.session() as session:
            message = Message(
                workspace_id=self.workspace_id,
                conversation_id=conversation_id,
                direction="in" if sender == "contact" else "out",
                sender_kind=sender,
                text=text,
                attachments=[],
                private=False,
                created_at=when,
            )
            session.add(message)
            await session.flush()
            return message.id

    async def event(self, type: str, when: datetime, **columns: Any) -> None:
        async with self.db.session() as session:
            session.add(
                Event(workspace_id=self.workspace_id, type=type, created_at=when, **columns)
            )
