"""Every ORM model, imported once so that ``Base.metadata`` is complete (migrations, tests)."""

from onethread.agents.models import Agent, ApiToken, Team, TeamMember
from onethread.canned.models import CannedResponse
from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.models import Conversation, ConversationTopic, Message
from onethread.db.base import Base
from onethread.events.models import Event
from onethread.inboxes.models import Inbox
from onethread.integrations.models import (
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionEvent,
)
from onethread.knowledge.models import Article, Chunk
from onethread.outbox.models import Job, WorkerHeartbeat
from onethread.playbook.models import PlaybookRecord
from onethread.reports.models import (
    ReportConversation,
    ReportCursor,
    ReportCustomer,
    ReportSpan,
)
from onethread.surveys.models import Survey
from onethread.workspaces.models import Workspace

__all__ = [
    "Agent",
    "ApiToken",
    "Article",
    "Base",
    "CannedResponse",
    "Chunk",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "ConversationTopic",
    "Event",
    "Inbox",
    "Job",
    "Message",
    "PlaybookRecord",
    "ReportConversation",
    "ReportCursor",
    "ReportCustomer",
    "ReportSpan",
    "Survey",
    "Team",
    "TeamMember",
    "WebhookDelivery",
    "WebhookSubscription",
    "WebhookSubscriptionEvent",
    "WorkerHeartbeat",
    "Workspace",
]
