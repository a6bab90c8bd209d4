"""The catalogue of event types (documented in docs/events.md)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    WORKSPACE_CREATED = "workspace.created"
    WORKSPACE_UPDATED = "workspace.updated"
    AGENT_CREATED = "agent.created"
    AGENT_UPDATED = "agent.updated"
    TEAM_CREATED = "team.created"
    TEAM_UPDATED = "team.updated"
    INBOX_CREATED = "inbox.created"
    INBOX_UPDATED = "inbox.updated"
    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONTACT_IDENTITY_LINKED = "contact.identity_linked"
    CONTACT_MERGED = "contact.merged"
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_REOPENED = "conversation.reopened"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_TRANSFERRED = "conversation.transferred"
    CONVERSATION_HANDED_BACK = "conversation.handed_back"
    CONVERSATION_RESOLVED = "conversation.resolved"
    CONVERSATION_SNOOZED = "conversation.snoozed"
    CONVERSATION_WOKEN = "conversation.woken"
    CONVERSATION_PRIORITY_CHANGED = "conversation.priority_changed"
    CONVERSATION_TOPICS_CHANGED = "conversation.topics_changed"
    HANDOFF_REQUESTED = "handoff.requested"
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_CREATED = "message.created"
    MESSAGE_STATUS_CHANGED = "message.status_changed"
    MESSAGE_UPDATED = "message.updated"
    NOTE_ADDED = "note.added"
    PLAYBOOK_UPDATED = "playbook.updated"
    PLAYBOOK_SECRETS_CHANGED = "playbook.secrets_changed"
    ASSISTANT_DECIDED = "assistant.decided"
