"""Two server processes on one database and one Redis: events, presence and sign-outs
cross over; the Redis bus keeps order and is listening once started."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from onethread.events.bus import RedisBus
from onethread.settings import Settings
from tests.factories import agent, inbound, inbox
from tests.realtime.servers import Server, agent_socket, new_workspace, servers

REDIS_URL = os.environ.get("ONETHREAD_TEST_REDIS_URL")
BATCHES = 400  # two events each: within one subscription queue (1000)

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


async def test_signing_out_on_one_process_closes_the_socket_on_the_other(
    two_servers: list[Server],
) -> None:
    first, second = two_servers
    admin = await new_workspace(first, "Acme", "admin@acme.example.com")
    teammate = await agent(admin)
    api_token = (await teammate.ok("POST", "/tokens", 201, json={"name": "script"}))["token"]
    async with (
        agent_socket(second, teammate.token) as tab,
        agent_socket(second, api_token) as script,
        agent_socket(second, admin.token) as bystander,
    ):
        for sock in (tab, script, bystander):
            await sock.recv()
        await teammate.ok("POST", "/auth/logout", 204)  # on the first process
        assert await tab.closed() == (4401, "signed out")
        await script.until_pong()
        await admin.ok("PATCH", f"/agents/{teammate.agent_id}", json={"active": False})
        assert await script.closed() == (4401, "signed out")
        await bystander.event("agent.updated")
        await bystander.until_pong()


async def test_many_batches_arrive_in_order_on_another_process() -> None:
    assert REDIS_URL
    sender, receiver = RedisBus(REDIS_URL), RedisBus(REDIS_URL)
    await sender.start()
    await receiver.start()
    heard = receiver.subscribe()
    try:
        for number in range(BATCHES):
            sender.publish([{"n": number, "part": 0}, {"n": number, "part": 1}])
        received = [await asyncio.wait_for(heard.queue.get(), 5) for _ in range(BATCHES * 2)]
        assert [(e["n"], e["part"]) for e in received] == [
            (n, part) for n in range(BATCHES) for part in (0, 1)
        ]
    finally:
        await sender.stop()
        await receiver.stop()


async def test_an_event_published_right_after_start_is_received() -> None:
    assert REDIS_URL
    sender = RedisBus(REDIS_URL)
    await sender.start()
    try:
        for attempt in range(5):  # a fresh listener each time: no lucky warm-up
            receiver = RedisBus(REDIS_URL)
            await receiver.start()
            heard = receiver.subscribe()
            sender.publish([{"attempt": attempt}])
            try:
                assert await asyncio.wait_for(heard.queue.get(), 5) == {"attempt": attempt}
            finally:
                await receiver.stop()
    finally:
        await sender.stop()
