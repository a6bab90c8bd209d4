"""API tokens with scopes: they narrow what the agent may do, never widen it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from onethread.agents.scopes import AREAS, area_of
from onethread.settings import Settings
from tests.conftest import Harness
from tests.factories import Api, inbound, inbox, workspace
from tests.realtime.servers import Server, agent_socket, new_workspace, servers


@pytest.fixture
async def realtime_server(settings: Settings) -> AsyncIterator[Server]:
    async with servers(settings, 1) as [running]:
        yield running


async def scoped(api: Api, scopes: list[str] | None) -> Api:
    body: dict[str, Any] = {"name": f"integration {scopes}"}
    if scopes is not None:
        body["scopes"] = scopes
    created = await api.ok("POST", "/tokens", 201, json=body)
    assert created["scopes"] == (sorted(scopes) if scopes is not None else None)
    return Api(api.client, created["token"], api.workspace_id, api.agent_id, api.email)


def refused(response: Any, scope: str) -> None:
    assert response.status_code == 403, response.text
    assert scope in response.json()["error"]["message"]


async def test_a_read_scope_lists_but_cannot_reply(harness: Harness) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    sent = await inbound(admin, box["id"], "visitor-1", "Hello")
    reader = await scoped(admin, ["conversations:read"])
    listed = await reader.ok("GET", "/conversations")
    assert [c["id"] for c in listed["items"]] == [sent["conversation_id"]]
    reply = await reader.post(
        f"/conversations/{sent['conversation_id']}/reply", json={"text": "Hi"}
    )
    refused(reply, "conversations:write")
    refused(await reader.get("/contacts"), "contacts:read")
    messages = await admin.ok("GET", f"/conversations/{sent['conversation_id']}/messages")
    assert [m["text"] for m in messages] == ["Hello"]  # the refused reply wrote nothing


async def test_write_implies_read(harness: Harness) -> None:
    admin = await workspace(harness)
    writer = await scoped(admin, ["contacts:write"])
    created = await writer.ok("POST", "/contacts", 201, json={"name": "Ada"})
    found = await writer.ok("GET", f"/contacts/{created['id']}")
    assert found["name"] == "Ada"
    refused(await writer.get("/conversations"), "conversations:read")


async def test_unknown_scopes_are_refused_by_name(harness: Harness) -> None:
    admin = await workspace(harness)
    response = await admin.post(
        "/tokens", json={"name": "x", "scopes": ["conversations:read", "billing:write", "root"]}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["unknown"] == ["billing:write", "root"]
    assert (await admin.post("/tokens", json={"name": "x", "scopes": []})).status_code in (400, 422)


async def test_tokens_without_scopes_keep_the_agents_full_access(harness: Harness) -> None:
    admin = await workspace(harness)  # its sign-in token predates any scope
    unscoped = await scoped(admin, None)
    for api in (admin, unscoped):
        await api.ok("GET", "/conversations")
        await api.ok("PATCH", "/workspace", json={"name": "Renamed"})
        await api.ok("GET", "/webhooks")
    listed = await admin.ok("GET", "/tokens")
    assert {t["scopes"] is None for t in listed} == {True}


async def test_a_scoped_admin_token_cannot_do_what_its_scopes_exclude(harness: Harness) -> None:
    admin = await workspace(harness)
    reader = await scoped(admin, ["conversations:read", "auth:write"])
    await reader.ok("GET", "/conversations")
    refused(await reader.patch("/workspace", json={"name": "Taken over"}), "workspace:write")
    refused(await reader.get("/webhooks"), "webhooks:read")
    # Nor mint a wider token for itself; a narrower one is fine.
    wider = await reader.post("/tokens", json={"name": "wider"})
    assert wider.status_code == 403, wider.text
    wider = await reader.post("/tokens", json={"name": "w", "scopes": ["webhooks:write"]})
    assert wider.status_code == 403, wider.text
    narrower = await scoped(reader, ["conversations:read"])
    await narrower.ok("GET", "/conversations")
    refused(await narrower.get("/tokens"), "auth:read")


async def test_every_api_area_has_its_scopes(harness: Harness) -> None:
    """A new router tag must be added to agents/scopes.py, else its routes refuse scoped tokens."""
    document = (await harness.client.get("/api/v1/openapi.json")).json()
    areas = {
        area_of(operation["tags"][0])
        for path, item in document["paths"].items()
        if path.startswith("/api/v1")
        for operation in item.values()
        if operation.get("tags")
    }
    assert "conversations" in areas
    assert areas - {"widget"} <= set(AREAS), areas - set(AREAS)  # the widget: visitor tokens


async def test_the_realtime_socket_takes_a_scoped_token_only_with_realtime_read(
    realtime_server: Server,
) -> None:
    admin = await new_workspace(realtime_server, "Acme", "admin@acme.example.com")
    narrow = await scoped(admin, ["conversations:read"])
    async with agent_socket(realtime_server, narrow.token) as sock:
        assert await sock.close_code() == 4401
    live = await scoped(admin, ["realtime:read"])
    async with agent_socket(realtime_server, live.token) as sock:
        assert (await sock.recv())["type"] == "hello"


async def test_a_scoped_token_cannot_set_credentials_that_would_sign_in_unscoped(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    token = await scoped(admin, ["auth:write", "agents:write"])
    new_password = {"password": "a brand new password 42"}
    refused(await token.patch("/auth/me", json=new_password), "scoped API token")
    refused(await token.patch(f"/agents/{admin.agent_id}", json=new_password), "scoped API token")
    refused(await token.patch(f"/agents/{admin.agent_id}", json={"role": "agent"}), "scoped")
    someone = {"email": "mole@acme.example.com", "name": "Mole", "role": "admin", **new_password}
    refused(await token.post("/agents", json=someone), "scoped API token")
    # What the scopes do allow still works, and the old password still signs in.
    renamed = await token.ok("PATCH", "/auth/me", json={"name": "Renamed"})
    assert renamed["name"] == "Renamed"
    wrong = await harness.client.post(
        "/api/v1/auth/login", json={"email": admin.email, **new_password}
    )
    assert wrong.status_code == 401, wrong.text
    # An unscoped token may still change the password.
    await admin.ok("PATCH", "/auth/me", json=new_password)
