"""What the agents' and the widget's websockets share: running a reader and a writer
until one of them ends, and closing quietly once the other side may be gone."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

# What a send or receive raises once the client has gone (tab closed, network lost).
CONNECTION_ENDED = (WebSocketDisconnect, RuntimeError, OSError)


async def until_first_ends(*loops: Coroutine[Any, Any, None]) -> None:
    """Run ``loops`` until one returns or fails, then cancel the others.

    A failure that only says the client has gone is swallowed; any other is raised.
    """
    tasks = [asyncio.create_task(loop) for loop in loops]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if not isinstance(task.exception(), CONNECTION_ENDED):
            task.result()


async def receive_json_frame(websocket: WebSocket) -> Any:
    """The next text frame as JSON; ``None`` for a binary or unreadable frame, which the
    protocols ignore (``receive_text`` would fail on a binary frame and end the socket)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return None


async def close_quietly(websocket: WebSocket) -> None:
    """Close ``websocket`` if it is still open; a client already gone is no error."""
    if websocket.application_state is WebSocketState.CONNECTED:
        with contextlib.suppress(*CONNECTION_ENDED):
            await websocket.close()
