"""The parts without a server: who receives what, a slow socket's queue, presence
aggregation, and the Redis bus with Redis down."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from onethread.events.bus import RedisBus
from onethread.realtime.audience import (
    Notification,
    agent_receives,
    customer_may_see,
    notifications_for,
)
from onethread.realtime.hub import QUEUE_FRAMES, Connection
from onethread.realtime.presence import Entry, LocalRelay, PresenceBoard


def _event(type: str, **fields: Any) -> dict[str, Any]:
    return {"id": 9, "type": type, "workspace_id": 1, "agent_id": 2, "conversation_id": 3, **fields}


def test_agents_receive_their_workspace_only() -> None:
    assert agent_receives(_event("note.added"), workspace_id=1)
    assert not agent_receives(_event("note.added"), workspace_id=2)


def test_a_customer_may_only_see_public_replies() -> None:
    reply = {"private": False, "sender_kind": "agent", "inbox_id": 4}
    assert customer_may_see(_event("message.created", message_id=5, data=reply))
    assert not customer_may_see(
        _event("message.created", message_id=5, data={**reply, "private": True})
    )
    assert not customer_may_see(
        _event("message.created", message_id=5, data={**reply, "sender_kind": "contact"})
    )
    for private in (
        "note.added",
        "assistant.decided",
        "handoff.requested",
        "message.received",
        "token.revoked",
    ):
        assert not customer_may_see(_event(private, message_id=5, data=reply))


def test_notifications_go_to_the_agents_concerned_but_not_the_author() -> None:
    note = _event("note.added", data={"mentions": [7, 2, 7, 8]})
    assert [n.agent_id for n in notifications_for(note)] == [7, 8]
    assigned = _event("conversation.assigned", data={"assignee_id": 7})
    assert notifications_for(assigned) == [Notification(7, "assignment", 3, 2, 9)]
    assert notifications_for(_event("conversation.assigned", data={"assignee_id": 2})) == []
    assert notifications_for(_event("message.received")) == []


async def test_a_slow_socket_is_told_to_refetch_and_closed() -> None:
    connection = Connection(Entry("k", 1, 2, "A"), token_id=7)
    for number in range(1, QUEUE_FRAMES + 2):
        connection.offer(json.dumps({"n": number}), event_id=number)
    frames = [connection.queue.get_nowait() for _ in range(connection.queue.qsize())]
    assert frames[0] == (0, json.dumps({"type": "refetch", "last_event_id": QUEUE_FRAMES + 1}))
    assert frames[1] == (-4408, "too slow: refetch, then reconnect")  # then close
    assert len(frames) == 2
    connection.offer("later", event_id=QUEUE_FRAMES + 2)
    assert connection.queue.empty()


async def test_presence_keeps_each_agents_strongest_state_and_expires() -> None:
    changes: list[tuple[int, list[dict[str, Any]]]] = []
    collisions: list[list[int]] = []
    board = PresenceBoard(
        LocalRelay(),
        presence_seconds=0.3,
        typing_seconds=0.1,
        on_change=lambda _ws, conversation, agents: changes.append((conversation, agents)),
        on_collision=lambda _ws, _conversation, ids: collisions.append(ids),
    )
    tab1, tab2 = Entry(board.new_key(), 1, 2, "A"), Entry(board.new_key(), 1, 2, "A")
    other = Entry(board.new_key(), 1, 3, "B")
    board.view(tab1, 5)
    board.type(tab2, 5, "note")
    board.type(other, 5, "reply")
    assert board.agents(1, 5) == [
        {"agent_id": 2, "name": "A", "state": "typing_note"},
        {"agent_id": 3, "name": "B", "state": "typing_reply"},
    ]
    assert collisions == []
    board.type(tab1, 5, "reply")
    assert collisions == [[2, 3]]
    assert board.snapshot(2) == []
    await asyncio.sleep(0.15)
    board.sweep()
    assert [a["state"] for a in board.agents(1, 5)] == ["viewing", "viewing"]
    await asyncio.sleep(0.2)
    board.sweep()
    assert board.agents(1, 5) == []
    assert changes[-1] == (5, [])
    assert board.snapshot(1) == []


async def test_redis_down_never_fails_a_publish_and_local_sockets_still_hear_it() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bus = RedisBus(f"redis://127.0.0.1:{port}/14")
    await bus.start()  # gives up waiting for the subscription after a bounded time
    heard = bus.subscribe()
    try:
        bus.publish([{"id": 1, "type": "message.received"}])
        assert heard.queue.get_nowait() == {"id": 1, "type": "message.received"}
    finally:
        await bus.stop()
