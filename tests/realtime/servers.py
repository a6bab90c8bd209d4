"""Real uvicorn servers on loopback (one or two "processes" on one database) and a small
websocket client that reads the realtime protocol frame by frame."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from onethread.db.database import Database
from onethread.main import create_app
from onethread.settings import Settings
from tests.channels.widget_server import serving, workspace_api
from tests.conftest import truncate_all
from tests.factories import Api

FRAME_TIMEOUT = 5.0


@dataclass
class Server:
    url: str
    settings: Settings
    client: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/api/v1/realtime"

    def api(self, other: Api) -> Api:
        """``other``'s credentials, speaking to this server."""
        return Api(self.client, other.token, other.workspace_id, other.agent_id, other.email)


@asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[Server]:
    """The app (no worker: only requests write events) in a thread with its own loop."""
    app = create_app(settings, auto_migrate=False)
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield Server(url, settings, client)


@asynccontextmanager
async def servers(settings: Settings, count: int) -> AsyncIterator[list[Server]]:
    """``count`` servers on one freshly truncated database."""
    db = Database(settings.resolved_database_url)
    try:
        await truncate_all(db)
    finally:
        await db.dispose()
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(running_server(settings)) for _ in range(count)]


async def new_workspace(server: Server, name: str, admin_email: str) -> Api:
    return await workspace_api(server.settings, server.client, name, admin_email)


@dataclass
class Socket:
    """One realtime connection; ``next`` waits for a frame of a type, keeping the others."""

    ws: ClientConnection
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def recv(self, wait: float = FRAME_TIMEOUT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
        self.seen.append(frame)
        return frame

    async def next(self, type: str, wait: float = FRAME_TIMEOUT, **match: Any) -> dict[str, Any]:
        """The next frame of ``type`` whose fields equal ``match``."""
        async with asyncio.timeout(wait):
            while True:
                frame = await self.recv(wait)
                if frame["type"] == type and all(frame.get(k) == v for k, v in match.items()):
                    return frame

    async def event(self, event_type: str, wait: float = FRAME_TIMEOUT) -> dict[str, Any]:
        async with asyncio.timeout(wait):
            while True:
                frame = await self.next("event", wait)
                if frame["event"]["type"] == event_type:
                    event: dict[str, Any] = frame["event"]
                    return event

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def until_pong(self) -> list[dict[str, Any]]:
        """Every frame the server queued before answering a ping now."""
        await self.send({"type": "ping"})
        frames = []
        while (frame := await self.recv())["type"] != "pong":
            frames.append(frame)
        return frames

    async def close_code(self) -> int | None:
        return (await self.closed())[0]

    async def closed(self) -> tuple[int | None, str]:
        """The close code and reason the server sent, reading whatever comes before."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), FRAME_TIMEOUT)
        except ConnectionClosed as closed:
            return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")


@asynccontextmanager
async def agent_socket(
    server: Server, token: str | None, *, query: str = "", headers: dict[str, str] | None = None
) -> AsyncIterator[Socket]:
    sent = headers if headers is not None else {"Authorization": f"Bearer {token}"}
    async with connect(server.ws_url + query, additional_headers=sent, open_timeout=10) as ws:
        yield Socket(ws)
