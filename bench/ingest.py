"""Webhook ingest over HTTP: signed WhatsApp webhooks against a running server.

    python -m bench.ingest                            # both backends
    python -m bench.ingest --backend sqlite --quick   # a smoke run in seconds
    python -m bench.ingest --generator-check          # the load generator alone
    python -m bench.ingest --topology split           # API and worker in two processes
    python -m bench.ingest --topology api --reply-every 0   # the ingest alone, no worker

Per backend, in a scratch database dropped afterwards: a workspace with a live WhatsApp
inbox whose ``api_base_url`` points at bench/fake_graph.py, ``onethread serve`` (the API
and its in-process worker; with ``--topology split``, ``onethread serve --no-worker`` and
an ``onethread worker`` process beside it; with ``--topology api``, ``onethread serve
--no-worker`` alone, so that the figure is the ingest's and not the assistant's: the jobs
wait for a worker that is not there) on loopback, then load-generator processes
(bench/ingest_client.py) that post signed webhooks over keep-alive connections, and
agents' replies through ``POST /api/v1/conversations/{id}/reply``. Printed: acknowledged
webhooks per second and their latency, errors by status, replies queued and the rate at
which the worker delivers them to the fake Graph API, the ``delivery.send`` backlog at the
start and end of the steady window, CPU used by each process, and the server's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.harness import (
    BACKENDS,
    DEFAULT_POSTGRES_URL,
    Latency,
    format_table,
    free_port,
    machine,
    scratch_database,
    summarize,
    wait_until_up,
)
from bench.ingest_client import Spec, returning_number, webhook_body
from bench.seed import SECRET_KEY
from onethread.agents.models import Agent
from onethread.channels import meta
from onethread.conversations.models import Conversation, Direction, Message, Status
from onethread.db import migrate
from onethread.db.database import Database
from onethread.inboxes.actions import do_create_inbox
from onethread.inboxes.models import AiMode, ChannelKind
from onethread.inboxes.secrets import SecretBox
from onethread.integrations.actions import do_create_subscription
from onethread.integrations.catalog import PUBLIC_EVENTS
from onethread.outbox.models import Job, JobStatus
from onethread.workspaces.actions import do_create_workspace

TARGET_PER_SECOND = 1150.0
APP_SECRET = "bench-whatsapp-app-secret"
ACCESS_TOKEN = "EAAG-bench-token"
PHONE_NUMBER_ID = "106540352242922"
DELIVERY_SEND = "delivery.send"
ASSISTANT_TURN = "assistant.turn"
DRAIN_BUDGET_SECONDS = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Options:
    backends: tuple[str, ...]
    postgres_url: str
    seconds: float
    warmup: float
    clients: int
    concurrency: int
    returning: int
    new_share: float
    duplicate_share: float
    reply_every: int
    topology: str
    ai_mode: str
    generator_check: bool
    as_json: bool
    webhooks: int = 0  # outbound webhook subscriptions to every event (the enqueue's cost)


@dataclass
class Sample:
    """What the coordinator reads at the edges of the steady window."""

    at: float
    graph_sent: int
    backlog: dict[str, int]
    cpu_seconds: dict[str, float]


@dataclass
class Figures:
    backend: str
    seconds: float
    connections: int
    acked: int = 0
    per_second: float = 0.0
    latency: Latency | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    replies_per_second: float = 0.0
    reply_latency: Latency | None = None
    reply_statuses: dict[str, int] = field(default_factory=dict)
    delivered: int = 0
    delivered_per_second: float = 0.0
    backlog_start: dict[str, int] = field(default_factory=dict)
    backlog_end: dict[str, int] = field(default_factory=dict)
    drain_seconds: float | None = None
    cpu_share: dict[str, float] = field(default_factory=dict)
    generator_us_per_request: float = 0.0
    server_rss_mb: float | None = None
    server_peak_rss_mb: float | None = None
    outbound_statuses: dict[str, int] = field(default_factory=dict)
    client_errors: list[str] = field(default_factory=list)


# --- processes ----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def rss_mb(pid: int) -> tuple[float | None, float | None]:
    """(current, peak) resident set of a live process."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None, None
    values = {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in status.splitlines()
        if line.startswith(("VmRSS:", "VmHWM:"))
    }
    return values.get("VmRSS"), values.get("VmHWM")


@asynccontextmanager
async def child(
    *args: str, env: dict[str, str] | None = None, stderr: int | None = None
) -> AsyncIterator[int]:
    process = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, stderr=stderr)
    try:
        yield process.pid
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


@asynccontextmanager
async def fake_graph() -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    async with child("-m", "bench.fake_graph", "--port", str(port)) as pid:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(100):
                try:
                    (await client.get("/stats")).raise_for_status()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield base, pid


@asynccontextmanager
async def server(database_url: str, topology: str) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """``onethread serve`` with its in-process worker (``embedded``), or without it and an
    ``onethread worker`` process beside it (``split``), or alone without any worker
    (``api``); the processes' pids by name."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="onethread-bench-data-") as data_dir:
        env = {
            **os.environ,
            "ONETHREAD_DATABASE_URL": database_url,
            "ONETHREAD_DATA_DIR": data_dir,
            "ONETHREAD_SECRET_KEY": SECRET_KEY,
            "ONETHREAD_WEBHOOK_ALLOW_PRIVATE": "true",  # --webhooks post to the loopback fake
        }
        command: tuple[str, ...] = ("-m", "onethread", "serve", "--port", str(port))
        command += ("--no-access-log",)
        if topology != "embedded":
            command += ("--no-worker",)
        # The server's log (errors behind a 5xx) goes to $ONETHREAD_BENCH_SERVER_LOG if set.
        log_path = os.environ.get("ONETHREAD_BENCH_SERVER_LOG")
        log_file = open(log_path, "ab") if log_path else None  # noqa: SIM115, ASYNC230
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            env=env,
            stderr=log_file if log_file is not None else asyncio.subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(base, process)
            pids = {"server": process.pid}
            if topology == "split":
                worker = child(
                    "-m", "onethread", "worker", env=env, stderr=asyncio.subprocess.DEVNULL
                )
                async with worker as worker_pid:
                    yield base, pids | {"worker": worker_pid}
            else:
                yield base, pids
        finally:
            if process.returncode is None:
                process.terminate()
            await process.wait()
            if log_file is not None:
                log_file.close()


async def graph_stats(base: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=base) as client:
        stats: dict[str, int] = (await client.get("/stats")).json()
        return stats


# --- the tenant and the reads around the window --------------------------------------------


@dataclass(frozen=True)
class Tenant:
    workspace_id: int
    inbox_id: int
    token: str


async def create_tenant(db: Database, graph_base: str, ai_mode: str = AiMode.OFF.value) -> Tenant:
    async with db.session() as session:
        created = await do_create_workspace(
            session, name="Bench", admin_email="admin@bench.test", admin_password="bench password"
        )
        inbox = await do_create_inbox(
            session,
            created.workspace.id,
            SecretBox(SECRET_KEY),
            channel=ChannelKind.WHATSAPP,
            name="WhatsApp",
            ai_mode=AiMode(ai_mode),
            config={
                "sandbox": False,
                "phone_number_id": PHONE_NUMBER_ID,
                "access_token": ACCESS_TOKEN,
                "app_secret": APP_SECRET,
                "api_base_url": f"{graph_base}/v25.0",
            },
        )
    return Tenant(created.workspace.id, inbox.id, created.token)


async def subscribe_webhooks(db: Database, tenant: Tenant, graph_base: str, count: int) -> None:
    """Outbound webhook subscriptions to every public event, posting to the fake's sink."""
    async with db.session() as session:
        admin_id = await session.scalar(
            select(Agent.id).where(Agent.workspace_id == tenant.workspace_id)
        )
        assert admin_id is not None
        for number in range(count):
            await do_create_subscription(
                session,
                SecretBox(SECRET_KEY),
                tenant.workspace_id,
                url=f"{graph_base}/webhook-sink/{number}",
                description="bench",
                event_types=list(PUBLIC_EVENTS),
                active=True,
                by_agent_id=admin_id,
            )


async def backlog(db: Database) -> dict[str, int]:
    """Jobs not yet done, by kind: queued or running."""
    async with db.read_session() as session:
        rows = await session.execute(
            select(Job.kind, func.count())
            .where(Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
            .group_by(Job.kind)
        )
        return {str(kind): int(count) for kind, count in rows.all()}


async def open_conversations(db: Database, tenant: Tenant) -> list[int]:
    async with db.read_session() as session:
        rows = await session.scalars(
            select(Conversation.id).where(
                Conversation.workspace_id == tenant.workspace_id,
                Conversation.status != Status.RESOLVED.value,
            )
        )
        return list(rows.all())


async def outbound_statuses(db: Database) -> dict[str, int]:
    async with db.read_session() as session:
        rows = await session.execute(
            select(Message.delivery_status, func.count())
            .where(Message.direction == Direction.OUTBOUND.value)
            .group_by(Message.delivery_status)
        )
        return {str(status): count for status, count in rows.all()}


# --- driving the load ---------------------------------------------------------------------


def client_specs(
    options: Options, base: str, path: str, tenant: Tenant | None, conversations: list[int]
) -> list[Spec]:
    host, port = base.removeprefix("http://").split(":")
    start_at = time.time() + 2.0  # time for every client to start and connect
    share, extra = divmod(options.concurrency, options.clients)
    return [
        Spec(
            host=host,
            port=int(port),
            client=n,
            connections=share + (1 if n < extra else 0),
            start_at=start_at,
            warmup=options.warmup,
            seconds=options.seconds,
            path=path,
            app_secret=APP_SECRET,
            phone_number_id=PHONE_NUMBER_ID,
            returning=options.returning,
            new_share=options.new_share,
            duplicate_share=options.duplicate_share,
            reply_every=options.reply_every if tenant else 0,
            reply_connections=4,
            token=tenant.token if tenant else "",
            conversation_ids=conversations,
        )
        for n in range(options.clients)
    ]


async def run_client(spec: Spec) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ingest_client",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate(json.dumps(asdict(spec)).encode())
    if process.returncode != 0:
        raise RuntimeError(f"load client {spec.client} exited with {process.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result


async def prime(base: str, tenant: Tenant, returning: int) -> None:
    """One message from each returning customer, so they have a contact and an open thread."""
    spec = Spec("", 0, 0, 0, 0.0, 0.0, 0.0, "", APP_SECRET, PHONE_NUMBER_ID, 0, 0.0, 0.0, 0)
    path = f"/webhooks/whatsapp/{tenant.inbox_id}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def send(indexes: range) -> None:
            for index in indexes:
                number, name = returning_number(index), f"Customer {index}"
                body = webhook_body(spec, f"wamid.prime.{index}", number, name, "Hi")
                signature = meta.sign(body, APP_SECRET)
                response = await client.post(
                    path, content=body, headers={"x-hub-signature-256": signature}
                )
                response.raise_for_status()

        step = max(returning // 8, 1)
        await asyncio.gather(
            *(send(range(i, min(i + step, returning))) for i in range(0, returning, step))
        )


async def sample(db: Database, graph_base: str, pids: dict[str, int]) -> Sample:
    cpu = {}
    for name, pid in pids.items():
        try:
            cpu[name] = cpu_seconds(pid)
        except OSError:  # a PostgreSQL backend that has exited since
            continue
    stats = await graph_stats(graph_base)
    return Sample(time.monotonic(), stats.get("sent", 0), await backlog(db), cpu)


async def steady(
    options: Options,
    db: Database,
    tenant: Tenant,
    base: str,
    graph_base: str,
    pids: dict[str, int],
    figures: Figures,
) -> None:
    conversations = await open_conversations(db, tenant)
    path = f"/webhooks/whatsapp/{tenant.inbox_id}"
    specs = client_specs(options, base, path, tenant, conversations)
    clients = [asyncio.create_task(run_client(spec)) for spec in specs]
    window_start = specs[0].start_at + options.warmup
    await asyncio.sleep(max(window_start - time.time(), 0))
    first = await sample(db, graph_base, pids)
    await asyncio.sleep(max(window_start + options.seconds - time.time(), 0))
    last = await sample(db, graph_base, pids)
    figures.server_rss_mb, figures.server_peak_rss_mb = rss_mb(pids["server"])
    results = await asyncio.gather(*clients)
    collect(figures, results, first, last, options)
    drain_started = time.monotonic()
    while options.topology != "api" and time.monotonic() - drain_started < DRAIN_BUDGET_SECONDS:
        if not any((await backlog(db)).values()):
            figures.drain_seconds = time.monotonic() - drain_started
            break
        await asyncio.sleep(0.25)
    figures.outbound_statuses = await outbound_statuses(db)


def collect(
    figures: Figures, results: list[dict[str, Any]], first: Sample, last: Sample, options: Options
) -> None:
    seconds = options.seconds
    latencies = [value for result in results for value in result["latencies"]]
    reply_latencies = [value for result in results for value in result["reply_latencies"]]
    statuses: Counter[str] = Counter()
    reply_statuses: Counter[str] = Counter()
    for result in results:
        statuses.update(result["statuses"])
        reply_statuses.update(result["reply_statuses"])
        figures.client_errors += result["errors"]
    figures.acked = len(latencies)
    figures.per_second = figures.acked / seconds
    figures.latency = summarize(latencies) if latencies else None
    figures.statuses = dict(statuses)
    figures.replies = len(reply_latencies)
    figures.replies_per_second = figures.replies / seconds
    figures.reply_latency = summarize(reply_latencies) if reply_latencies else None
    figures.reply_statuses = dict(reply_statuses)
    figures.delivered = last.graph_sent - first.graph_sent
    figures.delivered_per_second = figures.delivered / (last.at - first.at)
    figures.backlog_start, figures.backlog_end = first.backlog, last.backlog
    wall = last.at - first.at
    cpu: dict[str, float] = {}
    for name in last.cpu_seconds:
        if name in first.cpu_seconds:
            label = name.split(":")[0]
            share = (last.cpu_seconds[name] - first.cpu_seconds[name]) / wall
            cpu[label] = cpu.get(label, 0.0) + share
    generator = sum(result["cpu_seconds"] for result in results)
    cpu["load generator"] = generator / seconds
    figures.cpu_share = {name: round(share * 100, 1) for name, share in cpu.items()}
    requests = (
        figures.acked
        + figures.replies
        + sum(count for status, count in statuses.items() if status != "200")
    )
    figures.generator_us_per_request = generator / max(requests, 1) * 1e6


async def measure_backend(backend: str, options: Options) -> Figures:
    figures = Figures(backend, options.seconds, options.concurrency)
    async with scratch_database(backend, options.postgres_url) as url, fake_graph() as graph:
        graph_base, graph_pid = graph
        db = Database(url)
        try:
            await migrate.upgrade(db.engine)
            tenant = await create_tenant(db, graph_base, options.ai_mode)
            await subscribe_webhooks(db, tenant, graph_base, options.webhooks)
            async with server(url, options.topology) as (base, processes):
                await prime(base, tenant, options.returning)
                pids = processes | {"fake graph": graph_pid}
                if backend == "postgres":
                    pids |= postgres_pids()
                await steady(options, db, tenant, base, graph_base, pids, figures)
        finally:
            await db.dispose()
    return figures


def postgres_pids() -> dict[str, int]:
    """The local PostgreSQL server's processes, each under its own name (summed below)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[f"postgres:{entry.name}"] = int(entry.name)
            except OSError:
                continue
    return found


async def generator_check(options: Options) -> Figures:
    """The generator against the fake Graph API's empty ``POST /ack``: its own ceiling."""
    figures = Figures("generator check (POST /ack)", options.seconds, options.concurrency)
    async with fake_graph() as (graph_base, graph_pid):
        specs = client_specs(options, graph_base, "/ack", None, [])
        clients = [asyncio.create_task(run_client(spec)) for spec in specs]
        window_start = specs[0].start_at + options.warmup
        await asyncio.sleep(max(window_start - time.time(), 0))
        first = Sample(time.monotonic(), 0, {}, {"fake graph": cpu_seconds(graph_pid)})
        await asyncio.sleep(max(window_start + options.seconds - time.time(), 0))
        last = Sample(time.monotonic(), 0, {}, {"fake graph": cpu_seconds(graph_pid)})
        collect(figures, await asyncio.gather(*clients), first, last, options)
    return figures


# --- the report ---------------------------------------------------------------------------


def _latency(latency: Latency | None) -> str:
    return "-" if latency is None else f"{latency.p50_ms:.1f} / {latency.p99_ms:.1f}"


def report_text(results: list[Figures], options: Options) -> str:
    info = machine()
    lines = [
        f"onethread webhook ingest benchmark: {info['cpus']} CPUs, Python {info['python']}, "
        f"load average {' '.join(map(str, info['load_average']))}",
        f"{options.clients} load-generator processes, {options.concurrency} keep-alive "
        f"connections in all, one request in flight each; {options.seconds:.0f} s steady after "
        f"{options.warmup:.0f} s warm-up; {options.returning:,} returning senders, "
        f"{options.new_share:.0%} new, {options.duplicate_share:.0%} redelivered; "
        f"one reply per {options.reply_every} acknowledged webhooks; "
        f"topology {options.topology}; AI mode {options.ai_mode}\n",
    ]
    rows = []
    for f in results:
        rows.append(
            (
                f.backend,
                f.per_second,
                _latency(f.latency),
                " ".join(f"{s}={n}" for s, n in sorted(f.statuses.items())),
                f.replies_per_second,
                f.delivered_per_second,
                " → ".join(str(b.get(DELIVERY_SEND, 0)) for b in (f.backlog_start, f.backlog_end)),
                " → ".join(str(b.get(ASSISTANT_TURN, 0)) for b in (f.backlog_start, f.backlog_end)),
                "-" if f.drain_seconds is None else f"{f.drain_seconds:.1f}",
            )
        )
    lines.append(
        format_table(
            "acknowledged webhooks and delivered replies",
            (
                "backend",
                "acked/s",
                "ack p50 / p99 ms",
                "statuses",
                "replies/s",
                "delivered/s",
                "send backlog",
                "turn backlog",
                "drain s",
            ),
            rows,
        )
    )
    for f in results:
        cpu = ", ".join(f"{name} {share:.0f} %" for name, share in f.cpu_share.items())
        lines.append(
            f"[{f.backend}] CPU (100 % = one core): {cpu}; generator "
            f"{f.generator_us_per_request:.0f} µs per request"
        )
        if f.server_rss_mb is not None:
            lines.append(
                f"[{f.backend}] server RSS {f.server_rss_mb:.0f} MB (peak "
                f"{f.server_peak_rss_mb or 0:.0f} MB); reply p50 / p99 "
                f"{_latency(f.reply_latency)} ms, statuses {f.reply_statuses}; "
                f"outbound messages {f.outbound_statuses}"
            )
        if f.client_errors:
            lines.append(f"[{f.backend}] client errors: {f.client_errors[:3]}")
    verdicts = [
        f"{f.backend}: >= {TARGET_PER_SECOND:,.0f}/s "
        + ("met" if f.per_second >= TARGET_PER_SECOND else "MISSED")
        for f in results
        if f.backend in BACKENDS
    ]
    if verdicts:
        lines.append("\naims: " + "; ".join(verdicts))
    return "\n".join(lines)


def report_json(results: list[Figures], options: Options) -> str:
    return json.dumps(
        {"machine": machine(), "options": asdict(options), "results": [asdict(f) for f in results]},
        indent=2,
    )


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--seconds", type=float, default=30.0, help="steady window")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in all")
    parser.add_argument("--returning", type=int, default=1000, help="returning senders")
    parser.add_argument("--new-share", type=float, default=0.1)
    parser.add_argument("--duplicate-share", type=float, default=0.01)
    parser.add_argument("--reply-every", type=int, default=5, help="0: no replies")
    parser.add_argument(
        "--topology",
        choices=["embedded", "split", "api"],
        default="embedded",
        help="split: `serve --no-worker` plus an `onethread worker` process; "
        "api: `serve --no-worker` alone (the ingest's own figure, jobs left queued)",
    )
    parser.add_argument(
        "--ai-mode",
        choices=[mode.value for mode in AiMode],
        default=AiMode.OFF.value,
        help="the inbox's AI mode; off (a human-only inbox): each turn stops at the policy gate",
    )
    parser.add_argument(
        "--webhooks", type=int, default=0, help="outbound webhook subscriptions to every event"
    )
    parser.add_argument("--generator-check", action="store_true")
    parser.add_argument("--quick", action="store_true", help="5 s steady, 200 returning")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.returning = 5.0, 2.0, 200
    return Options(
        backends=BACKENDS if args.backend == "both" else (args.backend,),
        postgres_url=args.postgres_url,
        seconds=args.seconds,
        warmup=args.warmup,
        clients=max(args.clients, 1),
        concurrency=max(args.concurrency, args.clients),
        returning=args.returning,
        new_share=args.new_share,
        duplicate_share=args.duplicate_share,
        reply_every=max(args.reply_every, 0),
        topology=args.topology,
        ai_mode=args.ai_mode,
        generator_check=args.generator_check,
        as_json=args.json,
        webhooks=max(args.webhooks, 0),
    )


async def run(options: Options) -> list[Figures]:
    if options.generator_check:
        return [await generator_check(options)]
    return [await measure_backend(backend, options) for backend in options.backends]


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    results = asyncio.run(run(options))
    print(report_json(results, options) if options.as_json else report_text(results, options))


if __name__ == "__main__":
    main()
