"""Core figures: inbound messages recorded per second, and the conversation list's latency.

    python -m bench.core                           # both backends, as in docs/benchmarks.md
    python -m bench.core --backend sqlite --quick  # a smoke run in seconds

Per backend, in a scratch database dropped afterwards: seed a workspace with
``--conversations`` threads, time ``GET /api/v1/conversations`` through the real app
served by uvicorn on loopback, then record ``--messages`` inbound messages through
``do_record_inbound``, each in its own unit of work, at each concurrency level.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from time import perf_counter
from typing import Any

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.harness import (
    BACKENDS,
    Latency,
    backend_parser,
    format_table,
    json_report,
    machine,
    peak_rss_mb,
    process_peak_rss_mb,
    scratch_database,
    served_app,
    summarize,
)
from bench.seed import SECRET_KEY, TEXTS, Tenant, create_tenant, seed_threads
from onethread.contacts.identity import SenderIdentity
from onethread.contacts.models import ContactIdentity
from onethread.conversations.actions import do_record_inbound
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import Conversation, Status
from onethread.conversations.service import encode_cursor
from onethread.db import migrate
from onethread.db.database import Database
from onethread.events.bus import MemoryBus
from onethread.events.log import install_publish_after_commit
from onethread.inboxes.models import Inbox
from onethread.workspaces.models import Workspace

INGEST_AIM_PER_SECOND = 1000.0
LIST_AIM_P99_MS = 50.0
NEW_SENDER_SHARE = 0.2
WARMUP_MESSAGES = 100
WARMUP_REQUESTS = 5
SCENARIO_BUDGET_SECONDS = 20.0
COMMON_SURNAME = "Okafor"  # one of seed.LAST_NAMES: one contact in 25
NEW_SENDER_NUMBERS = 16_660_000_000  # E.164 digits, apart from the seeded +1555… numbers


@dataclass(frozen=True)
class Options:
    backends: tuple[str, ...]
    postgres_url: str
    messages: int
    concurrency: tuple[int, ...]
    conversations: int
    requests: int
    as_json: bool


@dataclass(frozen=True)
class ListFigure:
    scenario: str
    items: int
    latency: Latency


@dataclass(frozen=True)
class IngestFigure:
    concurrency: int
    messages: int
    seconds: float
    per_second: float
    latency: Latency
    statements_per_message: float
    outcomes: dict[str, int]


@dataclass
class BackendFigures:
    backend: str
    conversations: int
    seed_seconds: float = 0.0
    listing: list[ListFigure] = field(default_factory=list)
    server_peak_rss_mb: float | None = None
    ingest: list[IngestFigure] = field(default_factory=list)
    bench_peak_rss_mb: float = 0.0


# --- the conversation list through the real app -------------------------------------------


async def deep_cursor(db: Database, tenant: Tenant, depth: int) -> str:
    """The cursor a client holds after paging ``depth`` threads down the newest-first list."""
    async with db.read_session() as session:
        row = await session.scalar(
            select(Conversation)
            .where(Conversation.workspace_id == tenant.workspace_id)
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .offset(depth)
            .limit(1)
        )
    assert row is not None
    return encode_cursor(row)


def list_scenarios(tenant: Tenant, cursor: str) -> dict[str, dict[str, str]]:
    return {
        "first page": {},
        "deep page (cursor halfway down)": {"cursor": cursor},
        "status=open": {"status": "open"},
        "assignee=<agent>": {"assignee": str(tenant.agent_ids[0])},
        "team=<team>": {"team": str(tenant.team_ids[0])},
        "topic=billing": {"topic": "billing"},
        f"q={COMMON_SURNAME} (1 contact in 25)": {"q": COMMON_SURNAME},
        "q=<no match>": {"q": "no-such-customer"},
    }


async def time_list(
    client: httpx.AsyncClient, params: dict[str, str], requests: int
) -> tuple[Latency, int]:
    """Sequential requests after a warm-up; stops early past the scenario's time budget."""
    items = 0
    for _ in range(WARMUP_REQUESTS):
        response = await client.get("/api/v1/conversations", params=params)
        response.raise_for_status()
        items = len(response.json()["items"])
    durations: list[float] = []
    deadline = perf_counter() + SCENARIO_BUDGET_SECONDS
    while len(durations) < requests and perf_counter() < deadline:
        started = perf_counter()
        response = await client.get("/api/v1/conversations", params=params)
        durations.append(perf_counter() - started)
        response.raise_for_status()
    return summarize(durations), items


async def measure_listing(
    db: Database, tenant: Tenant, figures: BackendFigures, requests: int
) -> None:
    cursor = await deep_cursor(db, tenant, figures.conversations // 2)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with (
        served_app(db.url, SECRET_KEY) as (base_url, pid),
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client,
    ):
        for scenario, params in list_scenarios(tenant, cursor).items():
            latency, items = await time_list(client, params, requests)
            figures.listing.append(ListFigure(scenario, items, latency))
        figures.server_peak_rss_mb = process_peak_rss_mb(pid)


# --- inbound messages through the action --------------------------------------------------


async def returning_senders(db: Database, tenant: Tenant, limit: int) -> list[SenderIdentity]:
    """Identities of seeded contacts whose thread is still open: their messages join it."""
    async with db.read_session() as session:
        rows = await session.execute(
            select(ContactIdentity.external_id, ContactIdentity.display_name)
            .join(Conversation, Conversation.contact_id == ContactIdentity.contact_id)
            .where(
                Conversation.workspace_id == tenant.workspace_id,
                Conversation.status.in_([Status.OPEN.value, Status.PENDING.value]),
            )
            .order_by(ContactIdentity.id)
            .limit(limit)
        )
        return [whatsapp_sender(external_id, name) for external_id, name in rows]


def whatsapp_sender(number: str, name: str | None) -> SenderIdentity:
    """As the WhatsApp Cloud API reports a sender: its number is its id, and verified."""
    return SenderIdentity(
        channel="whatsapp", external_id=number, display_name=name, phone=number, verified=True
    )


def inbound_plan(
    count: int, pool: list[SenderIdentity], rng: random.Random, tag: str, numbers: Iterator[int]
) -> list[InboundMessage]:
    """``NEW_SENDER_SHARE`` of messages from first-time senders, the rest replies in threads."""
    plan = []
    for n in range(count):
        if not pool or rng.random() < NEW_SENDER_SHARE:
            sender = whatsapp_sender(str(next(numbers)), f"New sender {n}")
        else:
            sender = rng.choice(pool)
        text = rng.choice(TEXTS)
        plan.append(InboundMessage(sender=sender, text=text, external_id=f"wamid.{tag}.{n}"))
    return plan


async def record(tenant: Tenant, inbound: InboundMessage, session: AsyncSession) -> str:
    """One webhook's unit of work: load the inbox and its workspace, record the message."""
    workspace = await session.get(Workspace, tenant.workspace_id)
    inbox = await session.get(Inbox, tenant.inbox_id)
    assert workspace is not None
    assert inbox is not None
    return (await do_record_inbound(session, workspace, inbox, inbound)).outcome


async def run_ingest(
    db: Database, tenant: Tenant, plan: list[InboundMessage], concurrency: int
) -> IngestFigure:
    pending: Iterator[InboundMessage] = iter(plan)
    durations: list[float] = []
    outcomes: Counter[str] = Counter()
    statements = itertools.count()

    def count_statement(*_: Any) -> None:
        next(statements)

    async def ingest_worker() -> None:
        for inbound in pending:
            started = perf_counter()
            outcomes[await db.write(partial(record, tenant, inbound))] += 1
            durations.append(perf_counter() - started)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count_statement)
    started = perf_counter()
    try:
        await asyncio.gather(*(ingest_worker() for _ in range(concurrency)))
    finally:
        seconds = perf_counter() - started
        event.remove(db.engine.sync_engine, "before_cursor_execute", count_statement)
    per_message = next(statements) / len(plan)
    return IngestFigure(
        concurrency,
        len(plan),
        seconds,
        len(plan) / seconds,
        summarize(durations),
        per_message,
        dict(outcomes),
    )


async def measure_ingest(
    db: Database, tenant: Tenant, figures: BackendFigures, options: Options
) -> None:
    rng, numbers = random.Random(11), itertools.count(NEW_SENDER_NUMBERS)
    pool = await returning_senders(db, tenant, limit=20_000)
    await run_ingest(db, tenant, inbound_plan(WARMUP_MESSAGES, pool, rng, "warmup", numbers), 1)
    for concurrency in options.concurrency:
        plan = inbound_plan(options.messages, pool, rng, f"c{concurrency}", numbers)
        figures.ingest.append(await run_ingest(db, tenant, plan, concurrency))
    figures.bench_peak_rss_mb = peak_rss_mb()


# --- one backend, the report --------------------------------------------------------------


async def measure_backend(backend: str, options: Options) -> BackendFigures:
    figures = BackendFigures(backend, options.conversations)
    async with scratch_database(backend, options.postgres_url) as url:
        db = Database(url)
        try:
            db.set_publisher(MemoryBus().publish)
            await migrate.upgrade(db.engine)
            tenant = await create_tenant(db)
            figures.seed_seconds = await seed_threads(db, tenant, options.conversations)
            await measure_listing(db, tenant, figures, options.requests)
            await measure_ingest(db, tenant, figures, options)
        finally:
            await db.dispose()
    return figures


def aims(results: list[BackendFigures]) -> dict[str, bool]:
    met = {}
    for figures in results:
        if figures.backend == "sqlite":
            best = max((f.per_second for f in figures.ingest), default=0.0)
            met["sqlite: >= 1,000 messages/s"] = best >= INGEST_AIM_PER_SECOND
        worst = max((f.latency.p99_ms for f in figures.listing), default=0.0)
        met[f"{figures.backend}: list p99 < 50 ms"] = worst < LIST_AIM_P99_MS
    return met


def ingest_table(figures: BackendFigures) -> str:
    return format_table(
        f"[{figures.backend}] inbound messages through do_record_inbound, one unit of work "
        f"each ({NEW_SENDER_SHARE:.0%} new senders)",
        ("concurrency", "messages", "msg/s", "p50 ms", "p99 ms", "SQL/msg", "outcomes"),
        [
            (
                f.concurrency,
                f.messages,
                f.per_second,
                f.latency.p50_ms,
                f.latency.p99_ms,
                f.statements_per_message,
                " ".join(f"{name}={n}" for name, n in sorted(f.outcomes.items())),
            )
            for f in figures.ingest
        ],
    )


def list_table(figures: BackendFigures) -> str:
    return format_table(
        f"[{figures.backend}] GET /api/v1/conversations, {figures.conversations:,} conversations "
        f"(seeded in {figures.seed_seconds:.0f} s), sequential requests over loopback",
        ("scenario", "requests", "items", "p50 ms", "p99 ms", "max ms"),
        [
            (
                f.scenario,
                f.latency.count,
                f.items,
                f.latency.p50_ms,
                f.latency.p99_ms,
                f.latency.max_ms,
            )
            for f in figures.listing
        ],
    )


def report_text(results: list[BackendFigures]) -> str:
    info = machine()
    lines = [
        f"onethread core benchmark: {info['cpus']} CPUs, Python {info['python']}, "
        f"load average {' '.join(map(str, info['load_average']))}\n"
    ]
    for figures in results:
        server = figures.server_peak_rss_mb
        lines += [
            list_table(figures),
            ingest_table(figures),
            f"peak RSS: app server {server or 0:.0f} MB, "
            f"this process (seeding + ingest) {figures.bench_peak_rss_mb:.0f} MB\n",
        ]
    verdicts = [f"{name}: {'met' if ok else 'MISSED'}" for name, ok in aims(results).items()]
    return "\n".join([*lines, "aims: " + "; ".join(verdicts)])


def report_json(results: list[BackendFigures]) -> str:
    return json_report(aims(results), {figures.backend: asdict(figures) for figures in results})


def parse_options(argv: list[str] | None = None) -> Options:
    parser = backend_parser("python -m bench.core", __doc__)
    parser.add_argument("--messages", type=int, default=5000, help="per concurrency level")
    parser.add_argument("--concurrency", default="1,8", help="coroutines, comma-separated")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per list scenario")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2,000 threads, 300 msgs, 30 reqs"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.quick:
        args.conversations, args.messages, args.requests = 2000, 300, 30
    return Options(
        backends=BACKENDS if args.backend == "both" else (args.backend,),
        postgres_url=args.postgres_url,
        messages=max(args.messages, 1),
        concurrency=tuple(int(level) for level in args.concurrency.split(",")),
        conversations=max(args.conversations, 2),
        requests=max(args.requests, 1),
        as_json=args.json,
    )


async def run(options: Options) -> list[BackendFigures]:
    install_publish_after_commit()
    return [await measure_backend(backend, options) for backend in options.backends]


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    results = asyncio.run(run(options))
    print(report_json(results) if options.as_json else report_text(results))


if __name__ == "__main__":
    main()
