"""Building blocks for tests: workspaces with their admin, agents, inboxes, inbound messages."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from onethread.models import Base
from onethread.workspaces.actions import do_create_workspace
from tests.conftest import Harness

PASSWORD = "correct horse battery"
_counter = itertools.count(1)

Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass
class Api:
    """An authenticated client: ``api.get('/conversations')`` under /api/v1."""

    client: httpx.AsyncClient
    token: str
    workspace_id: int
    agent_id: int
    email: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        return await self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None


async def workspace(harness: Harness, name: str | None = None) -> Api:
    """A new workspace and an API client for its admin."""
    number = next(_counter)
    email = f"admin{number}@example.com"
    async with harness.db.session() as session:
        created = await do_create_workspace(
            session, name=name or f"Workspace {number}", admin_email=email, admin_password=PASSWORD
        )
    return Api(harness.client, created.token, created.workspace.id, created.admin.id, email)


async def agent(admin: Api, role: str = "agent") -> Api:
    """A second agent in the admin's workspace, signed in through the API."""
    number = next(_counter)
    email = f"agent{number}@example.com"
    created = await admin.ok(
        "POST",
        "/agents",
        201,
        json={"email": email, "name": f"Agent {number}", "role": role, "password": PASSWORD},
    )
    token = (await admin.ok("POST", "/auth/login", json={"email": email, "password": PASSWORD}))[
        "token"
    ]
    return Api(admin.client, token, admin.workspace_id, created["id"], email)


SANDBOX_CONFIGS: dict[str, dict[str, Any]] = {
    "whatsapp": {
        "phone_number_id": "1234567890",
        "access_token": "EAAtest",
        "app_secret": "app-secret",
        "verify_token": "verify-me",
        "sandbox": True,
    },
    "instagram": {
        "account_id": "17841400000000",
        "access_token": "EAAtest",
        "app_secret": "app-secret",
        "sandbox": True,
    },
    "messenger": {
        "page_id": "1000000000",
        "access_token": "EAAtest",
        "app_secret": "app-secret",
        "sandbox": True,
    },
    "twilio_sms": {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "twilio-token",
        "sender": "+15550001111",
        "sandbox": True,
    },
    "twilio_whatsapp": {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "twilio-token",
        "sender": "+15550001111",
        "sandbox": True,
    },
    "twilio_voice": {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "twilio-token",
        "sender": "+15550001111",
        "sandbox": True,
    },
    "webchat": {
        "allowed_origins": ["https://shop.example.com"],
        "identity_secret": "s3cret",
        "sandbox": True,
    },
}


async def inbox(admin: Api, channel: str = "whatsapp", **config: Any) -> dict[str, Any]:
    body = {
        "channel": channel,
        "name": f"{channel} inbox",
        "config": {**SANDBOX_CONFIGS[channel], **config},
    }
    created: dict[str, Any] = await admin.ok("POST", "/inboxes", 201, json=body)
    return created


async def inbound(api: Api, inbox_id: int, sender_id: str, text: str, **extra: Any) -> Any:
    return await api.ok(
        "POST",
        f"/inboxes/{inbox_id}/inbound",
        201,
        json={"sender_id": sender_id, "text": text, **extra},
    )


async def snapshot(harness: Harness) -> Snapshot:
    """Every row of every table in primary-key order: "nothing changed" compares two of these."""
    async with harness.db.read_session() as session:
        return {
            table.name: [
                tuple(row)
                for row in await session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
