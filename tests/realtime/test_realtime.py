"""The agents' websocket on a real uvicorn server: auth, snapshot, live events, tenancy,
resume, presence, collisions and notifications (docs/realtime.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.factories import Api, agent, inbound, inbox
from tests.realtime.conftest import REPLAY_LIMIT, TYPING_SECONDS
from tests.realtime.servers import Server, agent_socket, new_workspace


async def _admin(server: Server, name: str = "Acme") -> Api:
    return await new_workspace(server, name, f"admin@{name.lower()}.example.com")


async def _events_after(api: Api, after: int) -> list[dict[str, Any]]:
    page = await api.ok("GET", "/events", params={"after": after, "limit": 1000})
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_refused_credentials_close_with_4401(server: Server) -> None:
    admin = await _admin(server)
    async with agent_socket(server, None, headers={}) as sock:
        assert await sock.close_code() == 4401
    async with agent_socket(server, "not-a-token") as sock:
        assert await sock.close_code() == 4401
    second = await agent(admin)
    await second.ok("POST", "/auth/logout", 204)  # the session token is revoked
    async with agent_socket(server, second.token) as sock:
        assert await sock.close_code() == 4401
    async with agent_socket(server, None, query="?token=garbage", headers={}) as sock:
        assert await sock.close_code() == 4401


async def test_hello_snapshot_by_header_query_or_cookie(server: Server) -> None:
    admin = await _admin(server)
    box = await inbox(admin)
    await inbound(admin, box["id"], "+15550000001", "hello")
    head = (await admin.ok("GET", "/events"))["head_event_id"]
    for query, headers in [
        ("", None),
        (f"?token={admin.token}", {}),
        ("", {"Cookie": f"onethread_session={admin.token}"}),
    ]:
        async with agent_socket(server, admin.token, query=query, headers=headers) as sock:
            hello = await sock.recv()
            assert hello["type"] == "hello"
            assert hello["agent_id"] == admin.agent_id
            assert hello["workspace_id"] == admin.workspace_id
            assert hello["last_event_id"] == head > 0
            assert [a["id"] for a in hello["agents"]] == [admin.agent_id]
            assert hello["presence"] == []


async def test_an_inbound_message_arrives_live_and_only_in_its_workspace(server: Server) -> None:
    acme, other = await _admin(server, "Acme"), await _admin(server, "Other")
    acme_box, other_box = await inbox(acme), await inbox(other)
    async with agent_socket(server, acme.token) as sock:
        hello = await sock.recv()
        foreign = await inbound(other, other_box["id"], "+15550000009", "not for acme")
        ours = await inbound(acme, acme_box["id"], "+15550000001", "where is my order?")
        received = await sock.event("message.received")
        assert received["conversation_id"] == ours["conversation_id"]
        assert set(received) == {
            "id", "type", "conversation_id", "contact_id", "message_id", "agent_id", "data",
            "created_at",
        }  # fmt: skip
        frames = [*sock.seen, *await sock.until_pong()]
        ids = [f["event"]["id"] for f in frames if f["type"] == "event"]
        expected = [e["id"] for e in await _events_after(acme, hello["last_event_id"])]
        assert ids == expected
        conversations = {f["event"]["conversation_id"] for f in frames if f["type"] == "event"}
        assert foreign["conversation_id"] not in conversations


async def test_resume_replays_exactly_the_missed_events(server: Server) -> None:
    admin = await _admin(server)
    box = await inbox(admin)
    async with agent_socket(server, admin.token) as sock:
        last = (await sock.recv())["last_event_id"]
    await inbound(admin, box["id"], "+15550000001", "first")
    await inbound(admin, box["id"], "+15550000001", "second")
    missed = await _events_after(admin, last)
    assert 0 < len(missed) <= REPLAY_LIMIT
    async with agent_socket(server, admin.token, query=f"?after={last}") as sock:
        assert (await sock.recv())["type"] == "hello"
        frames = await sock.until_pong()
        assert [f["event"] for f in frames] == missed


async def test_refetch_when_the_gap_is_too_large_or_unknown(server: Server) -> None:
    admin = await _admin(server)
    box = await inbox(admin)
    async with agent_socket(server, admin.token) as sock:
        last = (await sock.recv())["last_event_id"]
    for number in range(REPLAY_LIMIT):
        await inbound(admin, box["id"], f"+1555000000{number}", "hi")
    head = (await admin.ok("GET", "/events"))["head_event_id"]
    assert len(await _events_after(admin, last)) > REPLAY_LIMIT
    for after in (last, head + 1000):
        async with agent_socket(server, admin.token, query=f"?after={after}") as sock:
            assert (await sock.recv())["type"] == "hello"
            assert await sock.until_pong() == [{"type": "refetch", "last_event_id": head}]


async def test_presence_typing_collision_and_expiry(server: Server) -> None:
    admin = await _admin(server)
    teammate = await agent(admin)
    box = await inbox(admin)
    conversation = (await inbound(admin, box["id"], "+15550000001", "help"))["conversation_id"]
    async with agent_socket(server, admin.token) as a, agent_socket(server, teammate.token) as b:
        await a.recv()
        await b.recv()
        await a.send({"type": "view", "conversation_id": conversation})
        seen = await b.next("presence", conversation_id=conversation)
        assert [(x["agent_id"], x["state"]) for x in seen["agents"]] == [
            (admin.agent_id, "viewing")
        ]

        await a.send({"type": "typing", "conversation_id": conversation, "kind": "reply"})
        typing = await b.next("presence", conversation_id=conversation)
        assert [(x["agent_id"], x["state"]) for x in typing["agents"]] == [
            (admin.agent_id, "typing_reply")
        ]

        await b.send({"type": "typing", "conversation_id": conversation, "kind": "reply"})
        collision = await a.next("collision", conversation_id=conversation)
        assert collision["agent_ids"] == sorted([admin.agent_id, teammate.agent_id])

        # Nobody keystrokes again: typing falls back to viewing, then (no ping) all goes.
        calm = await a.next("presence", conversation_id=conversation, wait=TYPING_SECONDS * 6)
        assert {x["state"] for x in calm["agents"]} <= {"viewing", "typing_reply"}
        gone = await a.next("presence", conversation_id=conversation, agents=[], wait=5)
        assert gone["agents"] == []


async def test_a_closed_tab_leaves_and_a_newcomer_sees_the_snapshot(server: Server) -> None:
    admin = await _admin(server)
    teammate = await agent(admin)
    box = await inbox(admin)
    conversation = (await inbound(admin, box["id"], "+15550000001", "help"))["conversation_id"]
    async with agent_socket(server, teammate.token) as b:
        await b.recv()
        async with agent_socket(server, admin.token) as a:
            await a.recv()
            await a.send({"type": "note-a-real-frame"})
            await a.send({"type": "view", "conversation_id": conversation})
            await b.next("presence", conversation_id=conversation)
            async with agent_socket(server, admin.token) as late:
                snapshot = (await late.recv())["presence"]
                assert snapshot == [
                    {
                        "conversation_id": conversation,
                        "agents": [
                            {"agent_id": admin.agent_id, "name": snapshot[0]["agents"][0]["name"],
                             "state": "viewing"}
                        ],
                    }
                ]  # fmt: skip
        left = await b.next("presence", conversation_id=conversation, wait=2)
        assert left["agents"] == []


async def test_notifications_reach_only_the_agent_concerned(server: Server) -> None:
    admin = await _admin(server)
    mentioned, bystander = await agent(admin), await agent(admin)
    box = await inbox(admin)
    conversation = (await inbound(admin, box["id"], "+15550000001", "help"))["conversation_id"]
    async with (
        agent_socket(server, admin.token) as a,
        agent_socket(server, mentioned.token) as b,
        agent_socket(server, bystander.token) as c,
    ):
        for sock in (a, b, c):
            await sock.recv()
        note = await admin.ok(
            "POST",
            f"/conversations/{conversation}/notes",
            201,
            json={"text": "@B can you look?", "mentions": [mentioned.agent_id]},
        )
        notified = await b.next("notification", kind="mention")
        assert notified["conversation_id"] == conversation
        assert notified["by_agent_id"] == admin.agent_id
        for sock in (a, c):
            added = await sock.event("note.added")
            assert added["message_id"] == note["id"]
            assert not [f for f in await sock.until_pong() if f["type"] == "notification"]

        await admin.ok(
            "POST",
            f"/conversations/{conversation}/assign",
            json={"assignee_id": bystander.agent_id},
        )
        assigned = await c.next("notification", kind="assignment")
        assert assigned["conversation_id"] == conversation
        for sock in (a, b):
            await sock.event("conversation.assigned")
            assert not [f for f in await sock.until_pong() if f["type"] == "notification"]


async def test_pings_are_answered(server: Server) -> None:
    admin = await _admin(server)
    async with agent_socket(server, admin.token) as sock:
        await sock.recv()
        assert await asyncio.wait_for(sock.until_pong(), 5) == []


async def test_signing_out_closes_the_sockets_of_that_session_only(server: Server) -> None:
    admin = await _admin(server)
    teammate = await agent(admin)
    api_token = (await teammate.ok("POST", "/tokens", 201, json={"name": "script"}))["token"]
    async with (
        agent_socket(server, teammate.token) as tab,
        agent_socket(server, teammate.token) as other_tab,
        agent_socket(server, api_token) as script,
        agent_socket(server, admin.token) as bystander,
    ):
        for sock in (tab, other_tab, script, bystander):
            await sock.recv()
        await teammate.ok("POST", "/auth/logout", 204)
        assert await tab.closed() == (4401, "signed out")
        assert await other_tab.closed() == (4401, "signed out")
        revoked = await bystander.event("token.revoked")
        assert revoked["data"]["agent_id"] == teammate.agent_id
        for sock in (script, bystander):  # other credentials stay connected
            assert await sock.until_pong() is not None


async def test_revoking_an_api_token_or_deactivating_the_agent_closes_their_sockets(
    server: Server,
) -> None:
    admin = await _admin(server)
    teammate = await agent(admin)
    created = await teammate.ok("POST", "/tokens", 201, json={"name": "script"})
    async with (
        agent_socket(server, created["token"]) as script,
        agent_socket(server, teammate.token) as tab,
    ):
        await script.recv()
        await tab.recv()
        await teammate.ok("DELETE", f"/tokens/{created['id']}", 204)
        assert await script.closed() == (4401, "signed out")
        await tab.until_pong()  # the session is still valid
        await admin.ok("PATCH", f"/agents/{teammate.agent_id}", json={"active": False})
        assert await tab.closed() == (4401, "signed out")
