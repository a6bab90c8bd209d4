"""The agents' websocket under load: N sockets across two server processes.

    python -m bench.realtime                          # 500 sockets, PostgreSQL + Redis
    python -m bench.realtime --sockets 100 --messages 10 --backend sqlite
    python -m bench.realtime --deflate --clients 1    # servers with compression

Two ``uvicorn onethread.main:create_app`` processes (no worker: only the API writes)
on one scratch database, sharing events through Redis (``--redis``, default
$ONETHREAD_REDIS_URL or $ONETHREAD_TEST_REDIS_URL; without Redis there is one process).
The sockets are spread evenly over the processes and all watch one workspace; an
inbound message is posted to the first process, and the time from sending that request
until every socket has its ``message.received`` event is measured, message after
message. Printed: p50/p99 of that time, of each socket's own delivery, the servers'
resident memory per connection (RSS after connecting minus before, over the sockets),
and the CPU time each server and the client spend per message.

The client runs on the same machine as the servers, in ``--clients`` processes (default
2) that share the sockets; each stamps an arrival when it reads the frame, on the one
monotonic clock of the machine, so the client's own queueing is part of the figure (its
CPU per message is printed to show how much).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import (
    DEFAULT_POSTGRES_URL,
    format_table,
    free_port,
    machine,
    scratch_database,
    summarize,
    wait_until_up,
)
from onethread.db import migrate
from onethread.db.database import Database
from onethread.workspaces.actions import do_create_workspace

SECRET_KEY = "bench-realtime-secret-key"
CONNECT_AT_ONCE = 50
DELIVERY_TIMEOUT = 20.0
CONNECT_TIMEOUT = 180.0


@dataclass(frozen=True)
class Options:
    sockets: int
    messages: int
    backend: str
    postgres_url: str
    redis_url: str | None
    ws: str
    clients: int
    deflate: bool


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@asynccontextmanager
async def app_process(
    database_url: str, redis_url: str | None, ws: str, deflate: bool
) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="onethread-bench-data-") as data_dir:
        env = {
            **os.environ,
            "ONETHREAD_DATABASE_URL": database_url,
            "ONETHREAD_DATA_DIR": data_dir,
            "ONETHREAD_SECRET_KEY": SECRET_KEY,
        }
        env.pop("ONETHREAD_REDIS_URL", None)
        if redis_url:
            env["ONETHREAD_REDIS_URL"] = redis_url
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "uvicorn", "onethread.main:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--ws", ws),
            *("--ws-per-message-deflate", str(deflate).lower()),
            *("--log-level", "warning", "--no-access-log"),
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(base, process)
            yield base, process.pid
        finally:
            if process.returncode is None:
                process.terminate()
            await process.wait()


async def open_socket(base: str, token: str) -> ClientConnection:
    ws = await connect(
        "ws" + base.removeprefix("http") + "/api/v1/realtime",
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=30,
        max_queue=64,
    )
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello", hello
    return ws


async def _client(bases: list[str], token: str, pipe: Connection) -> None:
    """One client process: open a socket to each of ``bases``, then time the arrivals.

    Each arrival is stamped with ``time.perf_counter()`` (CLOCK_MONOTONIC on Linux, the
    same clock in every process) when this process reads the frame; once all of its
    sockets have a message, the stamps go to the parent. On ``stop``, the CPU seconds
    this process spent receiving go back too.
    """
    sockets: list[ClientConnection] = []
    for start in range(0, len(bases), CONNECT_AT_ONCE):
        chunk = bases[start : start + CONNECT_AT_ONCE]
        sockets += await asyncio.gather(*(open_socket(base, token) for base in chunk))
    times: dict[int, list[float]] = defaultdict(list)

    async def read(ws: ClientConnection) -> None:
        async for raw in ws:
            if '"message.received"' not in raw:  # keep the client's own work small
                continue
            event = json.loads(raw).get("event") or {}
            if event.get("type") == "message.received":
                arrived = times[event["message_id"]]
                arrived.append(time.perf_counter())
                if len(arrived) == len(sockets):
                    pipe.send((event["message_id"], arrived))

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    cpu = time.process_time()
    pipe.send("ready")
    await asyncio.to_thread(pipe.recv)  # "stop"
    pipe.send(time.process_time() - cpu)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def client_main(bases: list[str], token: str, pipe: Connection) -> None:
    asyncio.run(_client(bases, token, pipe))


class Clients:
    """The sockets, spread over ``count`` client processes, round robin over the servers."""

    def __init__(self, bases: list[str], token: str, sockets: int, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        targets = [bases[i % len(bases)] for i in range(sockets)]
        self.pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for number in range(count):
            parent, child = context.Pipe()
            process = context.Process(
                target=client_main, args=(targets[number::count], token, child), daemon=True
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    async def _receive(self, pipe: Connection, wait: float = DELIVERY_TIMEOUT) -> Any:
        if not await asyncio.to_thread(pipe.poll, wait):
            raise TimeoutError("a client process did not answer")
        return pipe.recv()

    async def ready(self) -> None:
        for pipe in self.pipes:
            assert await self._receive(pipe, CONNECT_TIMEOUT) == "ready"

    async def arrivals(self, message_id: int) -> list[float]:
        """Every socket's arrival time of ``message_id``."""
        times: list[float] = []
        for pipe in self.pipes:
            received, stamps = await self._receive(pipe)
            assert received == message_id, (received, message_id)
            times += stamps
        return times

    async def stop(self) -> float:
        """Stop the clients; the CPU seconds they spent receiving, together."""
        cpu = 0.0
        for pipe in self.pipes:
            pipe.send("stop")
        for pipe in self.pipes:
            cpu += float(await self._receive(pipe))
        return cpu

    def close(self) -> None:
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()


async def measure(options: Options) -> dict[str, Any]:
    processes = 2 if options.redis_url else 1
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(
            scratch_database(options.backend, options.postgres_url)
        )
        db = Database(url)
        await migrate.upgrade(db.engine)
        async with db.session() as session:
            created = await do_create_workspace(
                session, name="Bench", admin_email="admin@bench.test", admin_password="x" * 12
            )
        token = created.token
        await db.dispose()
        servers = [
            await stack.enter_async_context(
                app_process(url, options.redis_url, options.ws, options.deflate)
            )
            for _ in range(processes)
        ]
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=servers[0][0]))
        headers = {"Authorization": f"Bearer {token}"}
        box = (
            await http.post(
                "/api/v1/inboxes",
                headers=headers,
                json={
                    "channel": "whatsapp",
                    "name": "bench",
                    "ai_mode": "off",
                    "config": {
                        "phone_number_id": "1",
                        "access_token": "EAA",
                        "app_secret": "s",
                        "verify_token": "v",
                        "sandbox": True,
                    },
                },
            )
        ).json()
        before = {pid: rss_mb(pid) for _base, pid in servers}
        clients = Clients([base for base, _pid in servers], token, options.sockets, options.clients)
        stack.callback(clients.close)
        await clients.ready()
        await asyncio.sleep(1)
        after = {pid: rss_mb(pid) for _base, pid in servers}
        load_before = os.getloadavg()[0]
        cpu_before = {pid: cpu_seconds(pid) for _base, pid in servers}
        everyone: list[float] = []
        first: list[float] = []
        answered: list[float] = []
        each: list[float] = []
        for number in range(options.messages):
            sent = time.perf_counter()
            response = await http.post(
                f"/api/v1/inboxes/{box['id']}/inbound",
                headers=headers,
                json={"sender_id": f"+1555{number:07d}", "text": f"message {number}"},
            )
            response.raise_for_status()
            answered.append(time.perf_counter() - sent)
            times = await clients.arrivals(response.json()["message"]["id"])
            everyone.append(max(times) - sent)
            first.append(min(times) - sent)
            each += [t - sent for t in times]
            await asyncio.sleep(0.2)
        server_cpu = [
            round((cpu_seconds(pid) - cpu_before[pid]) * 1000 / options.messages, 1)
            for _base, pid in servers
        ]
        client_cpu = await clients.stop()
        per_process = options.sockets / processes
        return {
            "backend": options.backend,
            "redis": bool(options.redis_url),
            "processes": processes,
            "ws": options.ws,
            "deflate": options.deflate,
            "sockets": options.sockets,
            "client_processes": options.clients,
            "client_cpu_ms_per_message": round(client_cpu * 1000 / options.messages, 1),
            "server_cpu_ms_per_message": server_cpu,
            "load_average_at_start": round(load_before, 2),
            "messages": options.messages,
            "post_answered": summarize(answered).__dict__,
            "first_socket": summarize(first).__dict__,
            "every_socket": summarize(everyone).__dict__,
            "each_socket": summarize(each).__dict__,
            "rss_mb_before": before,
            "rss_mb_after": after,
            "kb_per_connection": [
                round((after[pid] - before[pid]) * 1024 / per_process, 1) for _b, pid in servers
            ],
            "machine": machine(),
        }


def report(figures: dict[str, Any]) -> str:
    rows = [
        ["the POST is answered", *_latency(figures["post_answered"])],
        ["the first socket has it", *_latency(figures["first_socket"])],
        ["every socket has it", *_latency(figures["every_socket"])],
        ["one socket's delivery", *_latency(figures["each_socket"])],
    ]
    title = (
        f"Realtime: {figures['sockets']} sockets over {figures['processes']} process(es), "
        f"{figures['backend']}{' + Redis' if figures['redis'] else ''}, "
        f"{figures['messages']} messages"
    )
    table = format_table(title, ["from the POST", "n", "p50 ms", "p99 ms", "max ms"], rows)
    memory = ", ".join(f"{kb:,.1f}" for kb in figures["kb_per_connection"])
    servers = ", ".join(f"{ms:,.1f}" for ms in figures["server_cpu_ms_per_message"])
    client = (
        f"client: {figures['client_processes']} process(es), "
        f"{figures['client_cpu_ms_per_message']} ms CPU per message; "
        f"ws={figures['ws']}, per-message deflate {'on' if figures['deflate'] else 'off'}"
    )
    return (
        f"{table}RSS per connection (KiB, per process): {memory}\n"
        f"server CPU per message (ms, per process, with the 0.2 s pause): {servers}\n{client}\n"
        f"load average at start: {figures['load_average_at_start']}; {figures['machine']}\n"
    )


def _latency(latency: dict[str, Any]) -> list[object]:
    return [latency["count"], latency["p50_ms"], latency["p99_ms"], latency["max_ms"]]


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ONETHREAD_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("ONETHREAD_REDIS_URL") or os.environ.get("ONETHREAD_TEST_REDIS_URL"),
        help="Redis URL ('' for one process without Redis)",
    )
    parser.add_argument(
        "--ws", default="websockets-sansio", help="uvicorn's websocket implementation"
    )
    parser.add_argument(
        "--deflate",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="let the servers accept permessage-deflate (uvicorn's default; `onethread serve` "
        "turns it off)",
    )
    parser.add_argument(
        "--clients", type=int, default=2, help="client processes the sockets are spread over"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    return Options(
        args.sockets,
        args.messages,
        args.backend,
        args.postgres_url,
        args.redis or None,
        args.ws,
        args.clients,
        args.deflate,
    )


def main(argv: list[str] | None = None) -> None:
    json_out = "--json" in (argv if argv is not None else sys.argv[1:])
    figures = asyncio.run(measure(parse_options(argv)))
    print(json.dumps(figures, indent=2) if json_out else report(figures))


if __name__ == "__main__":
    main()
