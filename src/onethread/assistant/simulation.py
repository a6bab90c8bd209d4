"""``decide`` without a database: a thread held in memory, and an in-memory knowledge index.

``bench/assistant.py`` and ``onethread eval conversations`` both run the assistant on
snapshots built here rather than loaded by ``snapshot.load_snapshot``. A
``SimulatedThread`` keeps what a turn reads (history, handler, AI turns, the last AI
reply's ``ai_meta``, the contact and its verified identities, the inbox's ``ai_mode``,
the workspace's hours, the topics of recently resolved threads) and ``apply`` writes a
decision back the way ``jobs/assistant_turn.py: write_decision`` does, minus the rows
nobody reads on the next turn (events, delivery jobs, summary notes, drafts).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.decision import Decision
from onethread.assistant.knowledge.index import KnowledgeIndex, Passage
from onethread.assistant.snapshot import RECENT_MESSAGES, ConversationSnapshot, read_history
from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.models import Conversation, Direction, Handler, Message, SenderKind
from onethread.inboxes.models import AiMode, Inbox
from onethread.workspaces.schemas import WorkspaceSettings

WORKSPACE_ID = 1
INBOX_ID = 1


class IndexSearch:
    """A ``KnowledgeIndex`` as the brain's ``KnowledgeSearch`` (one workspace)."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index

    def search(
        self,
        workspace_id: int,
        query_text: str,
        query_vector: NDArray[np.float32] | None,
        language: str | None = None,
        k: int = 5,
    ) -> Sequence[Passage]:
        return self.index.search(query_text, query_vector, language=language, k=k)


@dataclass
class SimulatedThread:
    """One conversation with one contact, turn after turn, without a database."""

    attributes: dict[str, Any] = field(default_factory=dict)
    verified_email: str | None = None
    verified_phone: str | None = None
    contact_language: str | None = None
    ai_mode: str = AiMode.AUTO.value
    settings: WorkspaceSettings = field(default_factory=WorkspaceSettings)
    resolved_topics: dict[str, datetime] = field(default_factory=dict)  # earlier threads
    handler: str = Handler.AI.value
    team: str | None = None
    language: str | None = None
    ai_turns: int = 0
    topics: dict[str, str] = field(default_factory=dict)  # name -> domain, as recorded
    messages: list[Message] = field(default_factory=list)  # public ones, oldest first
    notes: list[Message] = field(default_factory=list)  # drafts and handoff summaries
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def customer_says(self, text: str, at: datetime | None = None) -> Message:
        return self._add(Direction.INBOUND, SenderKind.CONTACT, text, at)

    def agent_replies(self, text: str, at: datetime | None = None) -> Message:
        """A person answers in the thread: it becomes theirs (``take_for_humans``)."""
        self.handler = Handler.HUMAN.value
        return self._add(Direction.OUTBOUND, SenderKind.AGENT, text, at)

    def hand_back(self) -> None:
        """An agent gives the thread back to the assistant (``do_hand_back``)."""
        self.handler = Handler.AI.value

    def snapshot(self, now: datetime, *, repeat_days: int | None) -> ConversationSnapshot:
        """What ``load_snapshot`` would read for the thread as it stands at ``now``."""
        recent = self.messages[-RECENT_MESSAGES:]
        new_messages, last_ai_meta = read_history(recent)
        return ConversationSnapshot(
            conversation=self._conversation(now),
            contact=self._contact(),
            identities=self._identities(),
            inbox=Inbox(
                id=INBOX_ID, workspace_id=WORKSPACE_ID, channel="webchat", ai_mode=self.ai_mode
            ),
            workspace_settings=self.settings,
            new_messages=new_messages,
            history=recent,
            last_ai_meta=last_ai_meta,
            recent_topics=self._recent_topics(now, repeat_days),
        )

    def apply(self, decision: Decision, at: datetime | None = None) -> None:
        """Write the decision down as ``write_decision`` does."""
        record = decision.record()
        understanding = decision.understanding
        if understanding is not None and understanding.topics:
            self.topics.update({match.name: match.domain for match in understanding.topics})
            self.language = understanding.language
        if decision.draft and decision.reply:
            self.notes.append(self._message(Direction.OUTBOUND, SenderKind.AI, decision.reply, at))
        elif decision.reply:
            reply = self._add(Direction.OUTBOUND, SenderKind.AI, decision.reply, at)
            reply.ai_meta = record
            self.ai_turns += 1
        if decision.handoff is not None and not decision.draft:
            self.handler = Handler.HUMAN.value
            self.team = decision.handoff.team or self.team
            note = self._message(Direction.OUTBOUND, SenderKind.AI, decision.handoff.summary, at)
            note.private = True
            self.notes.append(note)

    def _add(
        self, direction: Direction, sender: SenderKind, text: str, at: datetime | None
    ) -> Message:
        message = self._message(direction, sender, text, at)
        self.messages.append(message)
        return message

    def _message(
        self, direction: Direction, sender: SenderKind, text: str, at: datetime | None
    ) -> Message:
        return Message(
            id=next(self._ids),
            workspace_id=WORKSPACE_ID,
            conversation_id=1,
            inbox_id=INBOX_ID,
            direction=direction.value,
            sender_kind=sender.value,
            text=text,
            attachments=[],
            private=False,
            ai_meta=None,
            created_at=at or datetime.now(UTC),
        )

    def _conversation(self, now: datetime) -> Conversation:
        return Conversation(
            id=1,
            workspace_id=WORKSPACE_ID,
            contact_id=1,
            status="open",
            handler=self.handler,
            language=self.language,
            ai_turns=self.ai_turns,
            last_inbox_id=INBOX_ID,
            last_message_at=self.messages[-1].created_at if self.messages else now,
        )

    def _contact(self) -> Contact:
        return Contact(
            id=1,
            workspace_id=WORKSPACE_ID,
            email=self.verified_email,
            phone=self.verified_phone,
            language=self.contact_language,
            attributes=dict(self.attributes),
        )

    def _identities(self) -> list[ContactIdentity]:
        found = []
        for number, (email, phone) in enumerate(
            [(self.verified_email, None), (None, self.verified_phone)], start=1
        ):
            if email or phone:
                found.append(
                    ContactIdentity(
                        id=number,
                        workspace_id=WORKSPACE_ID,
                        contact_id=1,
                        channel="webchat",
                        external_id=f"verified-{number}",
                        email=email,
                        phone=phone,
                        verified=True,
                        details={},
                    )
                )
        return found

    def _recent_topics(self, now: datetime, days: int | None) -> dict[str, datetime]:
        """Only threads resolved within the playbook's window count, as in the snapshot."""
        if days is None:
            return {}
        since = now - timedelta(days=days)
        return {name: when for name, when in self.resolved_topics.items() if when >= since}
