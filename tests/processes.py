"""``onethread serve`` as real child processes, for tests that need separate processes
(several servers sharing a database and Redis, as in production).

Each process gets its settings as ``ONETHREAD_*`` environment variables, its own port
and its own data directory, and is stopped (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from onethread.settings import Settings
from tests.channels.widget_server import LiveServer

START_SECONDS = 60.0
STOP_SECONDS = 10.0


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the environment a child process reads them from."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None or isinstance(value, list | dict):
            continue
        env[f"ONETHREAD_{name.upper()}"] = _as_text(value)
    return env


def _as_text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _wait_until_up(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        for _ in range(int(START_SECONDS / 0.1)):
            if process.returncode is not None:
                output = await asyncio.to_thread(log.read_text)
                raise RuntimeError(f"`onethread serve` exited while starting:\n{output}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"`onethread serve` did not answer within {START_SECONDS:.0f} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def serve_process(settings: Settings, *, worker: bool = True) -> AsyncIterator[LiveServer]:
    """One ``onethread serve`` child process on ``settings``' database (already migrated)."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="onethread-serve-") as data_dir:
        own = settings.model_copy(update={"data_dir": Path(data_dir), "port": port})
        log = Path(data_dir) / "serve.log"
        command = [sys.executable, "-m", "onethread", "serve", "--port", str(port)]
        command += ["--no-access-log"] + ([] if worker else ["--no-worker"])
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                *command,
                env={**os.environ, **settings_env(own)},
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            await _wait_until_up(url, process, log)
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                yield LiveServer(url, own, client)
        finally:
            await _stop(process)
