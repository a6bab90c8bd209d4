"""A real uvicorn server on loopback for the widget's websocket and browser tests.

The app runs in a thread with its own event loop (like a separate process would), on
a socket bound before start so the port is known without a race. Tests talk to it
only over HTTP and websockets, as the widget does.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from onethread.db.database import Database
from onethread.main import create_app
from onethread.settings import Settings
from onethread.workspaces.actions import do_create_workspace
from tests.conftest import truncate_all
from tests.factories import PASSWORD, Api

START_TIMEOUT = 15.0


@dataclass
class LiveServer:
    url: str
    settings: Settings
    client: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    async def workspace(self, name: str, admin_email: str) -> Api:
        """A new workspace and an API client for its admin, over real HTTP."""
        return await workspace_api(self.settings, self.client, name, admin_email)


async def workspace_api(
    settings: Settings, client: httpx.AsyncClient, name: str, admin_email: str
) -> Api:
    """A new workspace, written straight to the database; its admin's API client on ``client``."""
    db = Database(settings.resolved_database_url)
    try:
        async with db.session() as session:
            created = await do_create_workspace(
                session, name=name, admin_email=admin_email, admin_password=PASSWORD
            )
    finally:
        await db.dispose()
    return Api(client, created.token, created.workspace.id, created.admin.id, admin_email)


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` under uvicorn in a thread with its own loop; yields its base URL."""
    config = uvicorn.Config(
        app, log_level="warning", ws="websockets-sansio", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    sock = _bound_socket()
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(int(START_TIMEOUT / 0.05)):
            if server.started or not thread.is_alive():
                break
            await asyncio.sleep(0.05)
        assert server.started, "the uvicorn server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, START_TIMEOUT)
        sock.close()


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """The whole app with its in-process worker, on a fresh (truncated) database."""
    db = Database(settings.resolved_database_url)
    try:
        await truncate_all(db)
    finally:
        await db.dispose()
    app = create_app(settings, run_worker=True, auto_migrate=False)
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield LiveServer(url, settings, client)
