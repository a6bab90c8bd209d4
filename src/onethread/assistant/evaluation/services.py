"""The services a conversations suite talks to, served on a loopback port while it runs.

``demo_billing: true`` serves the demo company's billing API (``demo/billing_api.py``)
with fresh records and a random bearer token; the playbook's ``vars.billing_api`` then
points at it and the token becomes its ``billing_api_token`` secret, so the demo
playbook's actions make real HTTP calls, exactly as in ``onethread demo``.

The server runs as a task of the runner's own event loop (uvicorn's ``Server.serve``):
no thread, and nothing left listening once the suite is done.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from onethread.assistant.evaluation.cases import Services
from onethread.demo.billing_api import create_billing_app
from onethread.demo.playbook import BILLING_API_VAR, BILLING_TOKEN_SECRET

START_TIMEOUT_SECONDS = 15


@dataclass
class RunningServices:
    """What the playbook needs to reach the services: ``vars`` and ``secrets`` to merge."""

    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def serve_on_loopback(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 and a free port; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, ws="none")
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            while not server.started:
                if task.done():
                    task.result()  # raises what stopped it
                    raise RuntimeError("the service stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


@asynccontextmanager
async def running_services(wanted: Services) -> AsyncIterator[RunningServices]:
    """Start every service the suite asks for."""
    if not wanted.demo_billing:
        yield RunningServices()
        return
    token = secrets.token_hex(20)
    async with serve_on_loopback(create_billing_app(token)) as base_url:
        yield RunningServices(
            vars={BILLING_API_VAR: base_url}, secrets={BILLING_TOKEN_SECRET: token}
        )
