"""Every conversation write a client or a metric must see, each with its event.

Functions take an open session and never commit: the caller's unit of work does,
so the rows, their event and their jobs land together or not at all.

Split by verb: ``receiving`` (a message arrives), ``messages`` (replies, notes, delivery
news), ``state`` (handler, assignee, status, priority, topics); ``common`` holds what
they share. Import from this package.
"""

from onethread.conversations.actions.common import ASSISTANT_TURN, CONVERSATION_WAKE, DELIVERY_SEND
from onethread.conversations.actions.messages import (
    do_add_note,
    do_record_sent_elsewhere,
    do_send_reply,
    do_update_attachment,
    do_update_delivery,
)
from onethread.conversations.actions.receiving import RecordedInbound, do_record_inbound
from onethread.conversations.actions.state import (
    do_assign,
    do_hand_back,
    do_hand_off,
    do_record_assistant_decision,
    do_reopen,
    do_resolve,
    do_route_to_agent,
    do_set_priority,
    do_set_topics,
    do_snooze,
    do_transfer,
    do_wake,
)

__all__ = [
    "ASSISTANT_TURN",
    "CONVERSATION_WAKE",
    "DELIVERY_SEND",
    "RecordedInbound",
    "do_add_note",
    "do_assign",
    "do_hand_back",
    "do_hand_off",
    "do_record_assistant_decision",
    "do_record_inbound",
    "do_record_sent_elsewhere",
    "do_reopen",
    "do_resolve",
    "do_route_to_agent",
    "do_send_reply",
    "do_set_priority",
    "do_set_topics",
    "do_snooze",
    "do_transfer",
    "do_update_attachment",
    "do_update_delivery",
    "do_wake",
]
