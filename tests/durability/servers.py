"""A PostgreSQL cluster and a Redis server of the test's own, on free ports, that the test
may stop and start again (the shared servers are never touched)."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import pytest

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class OwnPostgres:
    """``initdb`` into ``directory``; ``start`` and ``stop`` (``-m immediate``: a crash)."""

    def __init__(self, directory: Path) -> None:
        self.data = directory / "pgdata"
        self.port = free_port()
        self.log = directory / "postgres.log"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        subprocess.run(
            [
                *_as_server_user(),
                str(POSTGRES_BIN / "initdb"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-D",
                str(self.data),
            ],
            check=True,
            capture_output=True,
        )
        self.options = f"-p {self.port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*_as_server_user(), str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )

    def start(self) -> None:
        self._ctl("start", "-w", "-l", str(self.log), "-o", self.options)

    def stop(self, mode: str = "immediate") -> None:
        self._ctl("stop", "-w", "-m", mode)


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A new cluster in a directory of its own (owned by ``postgres`` when we are root)."""
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries in {POSTGRES_BIN}")
    with tempfile.TemporaryDirectory(prefix="onethread-pg-") as directory:
        if os.geteuid() == 0:
            server_user = pwd.getpwnam("postgres")
            os.chown(directory, server_user.pw_uid, server_user.pw_gid)
        cluster = OwnPostgres(Path(directory))
        cluster.start()
        try:
            yield cluster
        finally:
            with suppress(subprocess.SubprocessError):
                cluster.stop("fast")


class OwnRedis:
    """``redis-server`` as a child process, without persistence, on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        for _ in range(int(START_SECONDS / 0.05)):
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@asynccontextmanager
async def own_redis() -> AsyncIterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis()
    await server.start()
    try:
        yield server
    finally:
        await server.kill()
