"""A soak: the distributed topology under a steady mix for ten minutes or more.

    python -m bench.soak                               # 600 s, PostgreSQL + Redis
    python -m bench.soak --seconds 60 --webhooks 20    # a short look

In a scratch PostgreSQL database (dropped afterwards): two ``onethread serve
--no-worker`` processes and one ``onethread worker`` process, sharing events through
Redis (``--redis``, default $ONETHREAD_REDIS_URL, else redis://127.0.0.1:6379/13), a
WhatsApp inbox whose Graph API is bench/fake_graph.py. The load is open loop, at fixed
rates whatever the latency, spread over both serve processes:

- signed WhatsApp webhooks (returning customers, some new, 1 % redelivered),
- agents' reads: the conversation list, a thread's messages, the view counts,
- agents' writes: replies (each a delivery job for the worker), private notes,
  resolving a thread (the next webhook from that customer reopens it),
- websocket clients connected throughout, half on each process, counting the events
  they receive and reconnecting when dropped.

Printed per minute and overall: requests and their p50/p99 by kind, statuses (5xx
counted apart), websocket events and drops, the resident memory of each process, and at
the end the replies delivered to the fake Graph API against those accepted, the job
backlog and how long it took to drain. Memory growth is the slope of a line fitted to
the RSS samples of the second half (after warm-up), in MB per 10 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.harness import (
    DEFAULT_POSTGRES_URL,
    format_table,
    free_port,
    machine,
    scratch_database,
    summarize,
)
from bench.ingest import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    Tenant,
    backlog,
    create_tenant,
    fake_graph,
    graph_stats,
    open_conversations,
    prime,
    rss_mb,
)
from bench.ingest_client import REPLIES, TEXTS, Spec, returning_number, webhook_body
from bench.seed import SECRET_KEY
from onethread.channels import meta
from onethread.db import migrate
from onethread.db.database import Database

SAMPLE_SECONDS = 10.0
MAX_IN_FLIGHT = 64
DRAIN_BUDGET_SECONDS = 120.0


@dataclass(frozen=True)
class Options:
    seconds: float
    webhooks: float
    reads: float
    writes: float
    sockets: int
    returning: int
    postgres_url: str
    redis_url: str
    as_json: bool


@dataclass
class Tally:
    """What the load saw, by kind and by minute."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_minute: dict[int, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    skipped: Counter[str] = field(default_factory=Counter)
    replies_accepted: int = 0
    ws_events: int = 0
    ws_drops: int = 0
    rss: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))

    def record(self, kind: str, minute: int, status: str, seconds: float) -> None:
        self.statuses[kind][status] += 1
        if status.startswith(("2", "3")):
            self.latencies[kind].append(seconds)
            self.by_minute[minute][kind].append(seconds)


# --- the topology ---------------------------------------------------------------------------


@asynccontextmanager
async def process(args: list[str], env: dict[str, str], log: Path) -> AsyncIterator[int]:
    with log.open("ab") as sink:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "onethread", *args, env=env, stdout=sink, stderr=sink
        )
    try:
        yield child.pid
    finally:
        if child.returncode is None:
            child.terminate()
            try:
                await asyncio.wait_for(child.wait(), 15)
            except TimeoutError:
                child.kill()
                await child.wait()


@asynccontextmanager
async def topology(
    database_url: str, redis_url: str, logs: Path
) -> AsyncIterator[tuple[list[str], dict[str, int]]]:
    """Two ``serve --no-worker`` and one ``worker``: (base URLs, pids by name)."""
    with tempfile.TemporaryDirectory(prefix="onethread-soak-data-") as data_dir:
        env = {
            **os.environ,
            "ONETHREAD_DATABASE_URL": database_url,
            "ONETHREAD_REDIS_URL": redis_url,
            "ONETHREAD_DATA_DIR": data_dir,
            "ONETHREAD_SECRET_KEY": SECRET_KEY,
        }
        async with AsyncExitStack() as stack:
            bases, pids = [], {}
            for n in (1, 2):
                port = free_port()
                args = ["serve", "--no-worker", "--no-access-log", "--port", str(port)]
                pids[f"serve {n}"] = await stack.enter_async_context(
                    process(args, env, logs / f"serve{n}.log")
                )
                bases.append(f"http://127.0.0.1:{port}")
            pids["worker"] = await stack.enter_async_context(
                process(["worker"], env, logs / "worker.log")
            )
            for base in bases:
                await wait_until_up_by_http(base)
            yield bases, pids


async def wait_until_up_by_http(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not answer /healthz within 60 s")


# --- the load -------------------------------------------------------------------------------


class Load:
    def __init__(
        self, options: Options, bases: list[str], tenant: Tenant, conversations: list[int]
    ) -> None:
        self.options = options
        self.bases = bases
        self.tenant = tenant
        self.conversations = conversations
        self.rng = random.Random(7)
        self.tally = Tally()
        self.started = time.monotonic()
        self.deadline = self.started + options.seconds
        self.in_flight: Counter[str] = Counter()
        self.sequence = 0
        self.previous_webhook: bytes | None = None
        self.spec = Spec("", 0, 0, 0, 0.0, 0.0, 0.0, "", APP_SECRET, PHONE_NUMBER_ID, 0, 0, 0, 0)
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=32)
        auth = {"authorization": f"Bearer {tenant.token}"}
        self.clients = [
            httpx.AsyncClient(base_url=base, timeout=30, limits=limits, headers=auth)
            for base in bases
        ]
        # The provider's side: no bearer token.
        self.providers = [
            httpx.AsyncClient(base_url=base, timeout=30, limits=limits) for base in bases
        ]

    def minute(self) -> int:
        return int((time.monotonic() - self.started) // 60)

    def client(self) -> httpx.AsyncClient:
        return self.rng.choice(self.clients)

    async def close(self) -> None:
        for client in self.clients + self.providers:
            await client.aclose()

    async def at_rate(self, kind: str, per_second: float, make: Any) -> None:
        """Start ``make()`` ``per_second`` times a second until the deadline, open loop."""
        if per_second <= 0:
            return
        interval = 1.0 / per_second
        next_at = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        while next_at < self.deadline:
            await asyncio.sleep(max(next_at - time.monotonic(), 0))
            next_at += interval
            if self.in_flight[kind] >= MAX_IN_FLIGHT:
                self.tally.skipped[kind] += 1
                continue
            task = asyncio.create_task(self.timed(kind, make))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)

    async def timed(self, kind: str, make: Any) -> None:
        self.in_flight[kind] += 1
        minute = self.minute()
        started = time.perf_counter()
        try:
            label, response = await make()
            status = str(response.status_code)
            if label == "reply" and response.status_code == 201:
                self.tally.replies_accepted += 1
        except httpx.HTTPError as exc:
            label, status = kind, type(exc).__name__
        finally:
            self.in_flight[kind] -= 1
        self.tally.record(label, minute, status, time.perf_counter() - started)

    async def webhook(self) -> tuple[str, httpx.Response]:
        rng = self.rng
        if self.previous_webhook is not None and rng.random() < 0.01:
            body = self.previous_webhook  # Meta redelivers: the same bytes
        else:
            self.sequence += 1
            if rng.random() < 0.9:
                index = rng.randrange(self.options.returning)
                number, name = returning_number(index), f"Customer {index}"
            else:
                number, name = f"1888{self.sequence:07d}", f"New {self.sequence}"
            wamid = f"wamid.soak.{self.sequence}"
            body = webhook_body(self.spec, wamid, number, name, rng.choice(TEXTS))
            self.previous_webhook = body
        headers = {"x-hub-signature-256": meta.sign(body, APP_SECRET)}
        path = f"/webhooks/whatsapp/{self.tenant.inbox_id}"
        response = await self.rng.choice(self.providers).post(path, content=body, headers=headers)
        return "webhook", response

    async def read(self) -> tuple[str, httpx.Response]:
        choice = self.rng.random()
        client = self.client()
        if choice < 0.4:
            return "read list", await client.get("/api/v1/conversations", params={"limit": 25})
        if choice < 0.8:
            conversation = self.rng.choice(self.conversations)
            return "read thread", await client.get(f"/api/v1/conversations/{conversation}/messages")
        return "read counts", await client.get("/api/v1/conversations/counts")

    async def write(self) -> tuple[str, httpx.Response]:
        choice = self.rng.random()
        conversation = self.rng.choice(self.conversations)
        path = f"/api/v1/conversations/{conversation}"
        client = self.client()
        if choice < 0.7:
            body = {"text": self.rng.choice(REPLIES)}
            return "reply", await client.post(f"{path}/reply", json=body)
        if choice < 0.9:
            return "note", await client.post(f"{path}/notes", json={"text": "Checked the logs."})
        return "resolve", await client.post(f"{path}/resolve")

    async def socket(self, base: str) -> None:
        url = "ws" + base.removeprefix("http") + "/api/v1/realtime"
        headers = {"Authorization": f"Bearer {self.tenant.token}"}
        while time.monotonic() < self.deadline:
            try:
                async with connect(url, additional_headers=headers, max_queue=256) as ws:
                    while True:
                        remaining = self.deadline - time.monotonic()
                        if remaining <= 0:
                            return
                        try:
                            await asyncio.wait_for(ws.recv(), timeout=remaining)
                        except TimeoutError:
                            return
                        self.tally.ws_events += 1
            except Exception:  # any drop: count it, reconnect as the app does
                self.tally.ws_drops += 1
                await asyncio.sleep(1)

    async def sample_memory(self, pids: dict[str, int]) -> None:
        while time.monotonic() < self.deadline:
            at = time.monotonic() - self.started
            for name, pid in pids.items():
                current, _ = rss_mb(pid)
                if current is not None:
                    self.tally.rss[name].append((at, current))
            await asyncio.sleep(SAMPLE_SECONDS)

    async def run(self, pids: dict[str, int]) -> Tally:
        options = self.options
        sockets = [self.socket(self.bases[n % len(self.bases)]) for n in range(options.sockets)]
        await asyncio.gather(
            self.at_rate("webhook", options.webhooks, self.webhook),
            self.at_rate("read", options.reads, self.read),
            self.at_rate("write", options.writes, self.write),
            self.sample_memory(pids),
            *sockets,
        )
        return self.tally


# --- figures --------------------------------------------------------------------------------


def slope_mb_per_10_min(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of RSS over the second half of the run, per 10 minutes."""
    half = samples[len(samples) // 2 :]
    if len(half) < 3:
        return None
    xs, ys = [t for t, _ in half], [rss for _, rss in half]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return slope * 600


def figures(tally: Tally, options: Options, end: dict[str, Any]) -> dict[str, Any]:
    kinds = {}
    for kind, statuses in sorted(tally.statuses.items()):
        latency = summarize(tally.latencies[kind]) if tally.latencies[kind] else None
        total = sum(statuses.values())
        kinds[kind] = {
            "requests": total,
            "per_second": total / options.seconds,
            "p50_ms": latency.p50_ms if latency else None,
            "p99_ms": latency.p99_ms if latency else None,
            "max_ms": latency.max_ms if latency else None,
            "statuses": dict(statuses),
        }
    minutes = []
    for minute, by_kind in sorted(tally.by_minute.items()):
        merged = [value for values in by_kind.values() for value in values]
        webhooks = by_kind.get("webhook", [])
        minutes.append(
            {
                "minute": minute + 1,
                "requests": len(merged),
                "p50_ms": summarize(merged).p50_ms if merged else None,
                "p99_ms": summarize(merged).p99_ms if merged else None,
                "webhook_p99_ms": summarize(webhooks).p99_ms if webhooks else None,
                "rss_mb": {
                    name: max(
                        (rss for at, rss in samples if minute * 60 <= at < (minute + 1) * 60),
                        default=None,
                    )
                    for name, samples in tally.rss.items()
                },
            }
        )
    server_errors = sum(
        count
        for statuses in tally.statuses.values()
        for status, count in statuses.items()
        if status.startswith("5")
    )
    transport_errors = sum(
        count
        for statuses in tally.statuses.values()
        for status, count in statuses.items()
        if not status.isdigit()
    )
    return {
        "machine": machine(),
        "options": options.__dict__,
        "kinds": kinds,
        "minutes": minutes,
        "server_errors": server_errors,
        "transport_errors": transport_errors,
        "skipped_at_in_flight_cap": dict(tally.skipped),
        "ws_events": tally.ws_events,
        "ws_drops": tally.ws_drops,
        "rss_first_last_mb": {
            name: (samples[0][1], samples[-1][1]) for name, samples in tally.rss.items() if samples
        },
        "rss_slope_mb_per_10_min": {
            name: slope_mb_per_10_min(samples) for name, samples in tally.rss.items()
        },
        **end,
    }


def report_text(result: dict[str, Any]) -> str:
    options, info = result["options"], result["machine"]
    lines = [
        f"onethread soak: {options['seconds']:.0f} s, 2 serve + 1 worker on PostgreSQL + Redis; "
        f"{info['cpus']} CPUs, load average {' '.join(map(str, info['load_average']))}",
        f"rates: {options['webhooks']}/s webhooks, {options['reads']}/s reads, "
        f"{options['writes']}/s writes, {options['sockets']} websocket clients\n",
    ]
    rows = [
        (
            kind,
            k["requests"],
            k["per_second"],
            k["p50_ms"],
            k["p99_ms"],
            k["max_ms"],
            " ".join(f"{s}={n}" for s, n in sorted(k["statuses"].items())),
        )
        for kind, k in result["kinds"].items()
    ]
    lines.append(
        format_table(
            "requests by kind",
            ("kind", "requests", "per s", "p50 ms", "p99 ms", "max ms", "statuses"),
            rows,
        )
    )
    names = sorted({name for m in result["minutes"] for name in m["rss_mb"]})
    minute_rows = [
        (
            f"minute {m['minute']}",
            m["requests"],
            m["p50_ms"],
            m["p99_ms"],
            m["webhook_p99_ms"],
            *(m["rss_mb"].get(name) for name in names),
        )
        for m in result["minutes"]
    ]
    lines.append(
        format_table(
            "minute by minute (RSS: the highest sample of the minute, MB)",
            ("", "requests", "p50 ms", "p99 ms", "webhook p99", *names),
            minute_rows,
        )
    )
    slopes = ", ".join(
        f"{name} {slope:+.1f}" if slope is not None else f"{name} -"
        for name, slope in result["rss_slope_mb_per_10_min"].items()
    )
    lines += [
        f"5xx responses: {result['server_errors']}; transport errors: "
        f"{result['transport_errors']}; skipped at the in-flight cap: "
        f"{result['skipped_at_in_flight_cap'] or 0}",
        f"websocket: {result['ws_events']:,} events received, {result['ws_drops']} drops",
        f"RSS slope over the second half (MB per 10 min): {slopes}",
        f"replies accepted {result['replies_accepted']:,}, delivered to the fake Graph API "
        f"{result['delivered']:,}; backlog at the end {result['backlog_end']}, drained in "
        f"{result['drain_seconds']} s",
    ]
    return "\n".join(lines)


# --- the run --------------------------------------------------------------------------------


def log_errors(logs: Path) -> list[str]:
    return [
        line
        for log in sorted(logs.iterdir())
        for line in log.read_text(errors="replace").splitlines()
        if " ERROR " in line or "Traceback" in line
    ]


async def drain(db: Database) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_BUDGET_SECONDS:
        if not any((await backlog(db)).values()):
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(0.5)
    return None


async def soak(options: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="onethread-soak-logs-") as logs_dir:
        logs = Path(logs_dir)
        async with (
            scratch_database("postgres", options.postgres_url) as url,
            fake_graph() as (graph_base, _),
        ):
            db = Database(url)
            try:
                await migrate.upgrade(db.engine)
                tenant = await create_tenant(db, graph_base)
                async with topology(url, options.redis_url, logs) as (bases, pids):
                    await prime(bases[0], tenant, options.returning)
                    load = Load(options, bases, tenant, await open_conversations(db, tenant))
                    try:
                        tally = await load.run(pids)
                    finally:
                        await load.close()
                    backlog_end = await backlog(db)
                    drain_seconds = await drain(db)
                    sent = (await graph_stats(graph_base)).get("sent", 0)
                    errors = await asyncio.to_thread(log_errors, logs)
                end = {
                    "replies_accepted": tally.replies_accepted,
                    "delivered": sent,
                    "backlog_end": backlog_end,
                    "drain_seconds": drain_seconds,
                    "server_log_errors": errors[:20],
                }
                return figures(tally, options, end)
            finally:
                await db.dispose()


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--webhooks", type=float, default=40.0, help="per second")
    parser.add_argument("--reads", type=float, default=20.0, help="agent reads per second")
    parser.add_argument("--writes", type=float, default=5.0, help="agent writes per second")
    parser.add_argument("--sockets", type=int, default=40, help="websocket clients")
    parser.add_argument("--returning", type=int, default=500, help="returning senders")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--redis",
        default=os.environ.get("ONETHREAD_REDIS_URL", "redis://127.0.0.1:6379/13"),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    return Options(
        seconds=args.seconds,
        webhooks=args.webhooks,
        reads=args.reads,
        writes=args.writes,
        sockets=args.sockets,
        returning=args.returning,
        postgres_url=args.postgres_url,
        redis_url=args.redis,
        as_json=args.json,
    )


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    result = asyncio.run(soak(options))
    print(json.dumps(result, indent=2) if options.as_json else report_text(result))
    if result["server_log_errors"]:
        errors = result["server_log_errors"]
        print("\nfirst errors in the servers' logs:", *errors, sep="\n", file=sys.stderr)


if __name__ == "__main__":
    main()
