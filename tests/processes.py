"""``onethread serve`` and ``onethread worker`` as real child processes, for tests that
need separate processes (several servers sharing a database and Redis, as in production).

Each process gets its settings as ``ONETHREAD_*`` environment variables, its own port
and its own data directory, and is stopped (SIGTERM, then SIGKILL) on exit. A ``Child``
(``serve_child``, ``worker_child``) can also be killed (``kill -9``) and started again
on the same port, as a supervisor would (tests/durability/).
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


WORKER_STARTED = b"started"


class Child:
    """One ``onethread serve`` (with ``url``) or ``onethread worker`` that a test may kill."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path, url: str | None) -> None:
        self.command = command
        self.env = env
        self.log = log
        self.url = url
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process and wait until it serves (or, a worker, has started)."""
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, env=self.env, stdout=output, stderr=asyncio.subprocess.STDOUT
            )
        if self.url is not None:
            await _wait_until_up(self.url, self.process, self.log)
        else:
            await self._wait_for_log(WORKER_STARTED, offset)

    async def _wait_for_log(self, marker: bytes, offset: int) -> None:
        assert self.process is not None
        for _ in range(int(START_SECONDS / 0.1)):
            output = await asyncio.to_thread(self.log.read_bytes)
            if marker in output[offset:]:
                return
            if self.process.returncode is not None:
                raise RuntimeError(f"`{' '.join(self.command[2:])}` exited:\n{output.decode()}")
            await asyncio.sleep(0.1)
        raise RuntimeError(f"`{' '.join(self.command[2:])}` did not start")

    async def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` (by default ``kill -9``) and wait for the process to end."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
            await self.process.wait()

    async def restart(self) -> None:
        """Kill it (if alive), then start it again with the same settings and port."""
        await self.kill()
        await self.start()

    async def stop(self) -> None:
        if self.process is not None:
            await _stop(self.process)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@asynccontextmanager
async def serve_child(settings: Settings, *, worker: bool = False) -> AsyncIterator[Child]:
    """``onethread serve`` (by default ``--no-worker``) as a ``Child`` a test can kill."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="onethread-serve-") as data_dir:
        own = settings.model_copy(update={"data_dir": Path(data_dir), "port": port})
        command = [sys.executable, "-m", "onethread", "serve", "--port", str(port)]
        command += ["--no-access-log"] + ([] if worker else ["--no-worker"])
        env = {**os.environ, **settings_env(own)}
        child = Child(command, env, Path(data_dir) / "serve.log", f"http://127.0.0.1:{port}")
        try:
            await child.start()
            yield child
        finally:
            await child.stop()


@asynccontextmanager
async def worker_child(settings: Settings) -> AsyncIterator[Child]:
    """``onethread worker`` as a ``Child`` a test can kill."""
    with tempfile.TemporaryDirectory(prefix="onethread-worker-") as data_dir:
        own = settings.model_copy(update={"data_dir": Path(data_dir)})
        command = [sys.executable, "-m", "onethread", "worker"]
        env = {**os.environ, **settings_env(own)}
        child = Child(command, env, Path(data_dir) / "worker.log", None)
        try:
            await child.start()
            yield child
        finally:
            await child.stop()
