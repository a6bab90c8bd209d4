"""Two server processes on one database and one Redis: events and presence cross over."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from onethread.settings import Settings
from tests.factories import agent, inbound, inbox
from tests.realtime.servers import Server, agent_socket, new_workspace, servers

REDIS_URL = os.environ.get("ONETHREAD_TEST_REDIS_URL")

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="ONETHREAD_TEST_REDIS_URL is not set (CI sets it: .ci/run)"
)


@pytest.fixture
async def two_servers(realtime_settings: Settings) -> AsyncIterator[list[Server]]:
    with_redis = realtime_settings.model_copy(update={"redis_url": REDIS_URL})
    async with servers(with_redis, 2) as running:
        yield running


async def test_an_event_committed_on_one_process_reaches_a_socket_on_the_other(
    two_servers: list[Server],
) -> None:
    first, second = two_servers
    admin = await new_workspace(first, "Acme", "admin@acme.example.com")
    box = await inbox(admin)
    async with agent_socket(second, admin.token) as sock:
        await sock.recv()
        sent = await inbound(admin, box["id"], "+15550000001", "via the first process")
        received = await sock.event("message.received")
        assert received["message_id"] == sent["message"]["id"]


async def test_presence_crosses_processes_and_expires_everywhere(
    two_servers: list[Server],
) -> None:
    first, second = two_servers
    admin = await new_workspace(first, "Acme", "admin@acme.example.com")
    teammate = await agent(admin)
    box = await inbox(admin)
    conversation = (await inbound(admin, box["id"], "+15550000001", "help"))["conversation_id"]
    async with agent_socket(first, admin.token) as a, agent_socket(second, teammate.token) as b:
        await a.recv()
        await b.recv()
        await a.send({"type": "typing", "conversation_id": conversation, "kind": "reply"})
        seen = await b.next("presence", conversation_id=conversation)
        assert [(x["agent_id"], x["state"]) for x in seen["agents"]] == [
            (admin.agent_id, "typing_reply")
        ]
        await b.send({"type": "typing", "conversation_id": conversation, "kind": "reply"})
        collision = await a.next("collision", conversation_id=conversation)
        assert collision["agent_ids"] == sorted([admin.agent_id, teammate.agent_id])
        gone = await b.next("presence", conversation_id=conversation, agents=[], wait=5)
        assert gone["agents"] == []
