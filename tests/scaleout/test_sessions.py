"""A sign-in holds on every serve process: the session made on one is accepted by the
other (as a cookie and as a bearer token), and a sign-out on either ends it on both."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx

from onethread.api.deps import SESSION_COOKIE
from onethread.db.database import Database
from tests.channels.widget_server import workspace_api
from tests.conftest import truncate_all
from tests.durability.conftest import REDIS_URL, process_settings
from tests.factories import PASSWORD
from tests.processes import serve_child


async def test_a_sign_in_holds_across_processes_and_a_sign_out_ends_it_everywhere(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = process_settings(postgres_url, tmp_path, REDIS_URL)
    db = Database(postgres_url)
    await truncate_all(db)
    await db.dispose()
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(serve_child(settings))
        second = await stack.enter_async_context(serve_child(settings))
        assert first.url is not None
        assert second.url is not None
        one = await stack.enter_async_context(httpx.AsyncClient(base_url=first.url))
        two = await stack.enter_async_context(httpx.AsyncClient(base_url=second.url))
        admin = await workspace_api(settings, one, "Sessions", "ada@sessions.example")

        signed_in = await one.post(
            "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["token"]
        assert signed_in.cookies.get(SESSION_COOKIE) == token
        bearer = {"Authorization": f"Bearer {token}"}
        cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}

        for client in (one, two):
            for credential in (bearer, cookie):
                me = await client.get("/api/v1/auth/me", headers=credential)
                assert me.status_code == 200, (client.base_url, me.text)
                assert me.json()["email"] == admin.email

        assert (await two.post("/api/v1/auth/logout", headers=bearer)).status_code == 204
        for client in (one, two):
            for credential in (bearer, cookie):
                refused = await client.get("/api/v1/auth/me", headers=credential)
                assert refused.status_code == 401, (client.base_url, refused.text)
        # The admin's own token (made with the workspace) is untouched by that sign-out.
        assert (
            await one.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {admin.token}"})
        ).status_code == 200
