"""What every benchmark needs: scratch databases, the app on loopback, latency and memory.

Everything here cleans up after itself: scratch databases are dropped, temporary
directories deleted and the app's process stopped, also when a run fails halfway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import secrets
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

BACKENDS = ("sqlite", "postgres")
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(math.ceil(fraction * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def summarize(seconds: Sequence[float]) -> Latency:
    ordered = sorted(seconds)
    return Latency(
        count=len(ordered),
        p50_ms=percentile(ordered, 0.50) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        max_ms=ordered[-1] * 1000,
    )


def peak_rss_mb() -> float:
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb(pid: int) -> float | None:
    """A live child's peak resident set, from /proc (None where there is no /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average shows a busy neighbour."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }


@asynccontextmanager
async def scratch_database(backend: str, postgres_url: str) -> AsyncIterator[str]:
    """A fresh, empty database URL for ``backend``; dropped (or deleted) afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="onethread-bench-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        return
    server = make_url(postgres_url)
    name = f"ot_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_async_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def served_app(database_url: str, secret_key: str) -> AsyncIterator[tuple[str, int]]:
    """``create_app(Settings())`` under uvicorn in a child process; yields (base URL, pid).

    A separate process, as in production: the client's own work does not slow the server.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="onethread-bench-data-") as data_dir:
        settings = {
            "ONETHREAD_DATABASE_URL": database_url,
            "ONETHREAD_DATA_DIR": data_dir,
            "ONETHREAD_SECRET_KEY": secret_key,
        }
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "uvicorn", "onethread.main:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--log-level", "warning", "--no-access-log"),
            env={**os.environ, **settings},
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(base_url, server)
            yield base_url, server.pid
        finally:
            if server.returncode is None:
                server.terminate()
            await server.wait()


async def wait_until_up(base_url: str, server: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(300):
            if server.returncode is not None:
                raise RuntimeError(f"the app exited with {server.returncode} while starting")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the app did not answer /healthz within 30 s")


def format_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned first column and right-aligned figures, as plain text."""
    cells = [[str(h) for h in headers], *[[_cell(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        first, *rest = row
        aligned = (value.rjust(width) for value, width in zip(rest, widths[1:], strict=True))
        return "  ".join([first.ljust(widths[0]), *aligned])

    rule = "-" * len(line(cells[0]))
    return "\n".join([title, rule, line(cells[0]), rule, *map(line, cells[1:]), ""])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def backend_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """A benchmark's argument parser with the options every backend benchmark shares."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server for the scratch database (default: %(default)s)",
    )
    return parser


def json_report(aims: dict[str, bool], backends: dict[str, Any]) -> str:
    """The figures of a run as one JSON object, with the machine they were measured on."""
    return json.dumps({"machine": machine(), "aims": aims, "backends": backends}, indent=2)
