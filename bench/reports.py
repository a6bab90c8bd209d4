"""Reports figures: the projection's build and refresh, and the whole dashboard's latency.

    python -m bench.reports --conversations 100000 --explain  # the recorded run, both backends
    python -m bench.reports --backend sqlite                  # a quick try: 2,000 conversations

Per backend, in a scratch database dropped afterwards: a workspace and 90 days of history
written in bulk (bench/reports_seed.py: contacts with business attributes, conversations,
messages, topics, surveys and their events); then

1. the full projection build: ``reports.projection.refresh`` from cursor 0, then one
   dashboard call right after it (on PostgreSQL, before the ``ANALYZE`` that autovacuum
   would run soon, and that the benchmark runs next);
2. the whole dashboard (``reports.service.dashboard``, what ``GET /api/v1/reports/dashboard``
   runs: a refresh that finds nothing new, then every metric for the period and the one
   before it, trends, backlog and warnings) for the last 30 days with no slice, with
   ``channel=whatsapp`` and with ``business_hours=true``: first as a function call, then
   over HTTP from the app served by uvicorn in a child process; and the statements that
   cost the most in one call;
3. an incremental refresh after new traffic: WhatsApp customers writing again through
   ``do_record_inbound`` (joining, reopening or starting threads) until at least
   ``--new-events`` events are in the log, then the one refresh that folds them in, and
   the same refresh again at once (on PostgreSQL it reads events younger than 30 s again).
"""

from __future__ import annotations

import asyncio
import random
import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

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
from bench.reports_seed import TIMEZONE, Tenant, create_tenant, seed_history
from bench.seed import SECRET_KEY
from onethread.contacts.identity import SenderIdentity
from onethread.contacts.models import ContactIdentity
from onethread.conversations.actions import do_record_inbound
from onethread.conversations.inbound import InboundMessage
from onethread.db import migrate
from onethread.db.database import Database
from onethread.events.bus import MemoryBus
from onethread.events.log import install_publish_after_commit
from onethread.events.models import Event
from onethread.inboxes.models import Inbox
from onethread.reports import projection, service
from onethread.reports.models import ReportConversation
from onethread.reports.slices import Slices
from onethread.workspaces.models import Workspace

AIM_SECONDS = 1.0
WARMUP_RUNS = 2
DASHBOARD_PATH = "/api/v1/reports/dashboard"
FOLLOW_UPS = (
    "Any news about my request?",
    "Hello again, the problem is back",
    "I have another question about my invoice",
    "Thanks for the help last time, one more thing",
)


@dataclass(frozen=True)
class Options:
    backends: tuple[str, ...]
    postgres_url: str
    conversations: int
    messages_per_conversation: int
    contacts: int
    runs: int
    new_events: int
    http: bool
    explain: bool
    seed: int
    as_json: bool


@dataclass(frozen=True)
class DashboardFigure:
    scenario: str
    via: str
    latency: Latency


@dataclass(frozen=True)
class Statement:
    milliseconds: float
    sql: str
    plan: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CallProfile:
    scenario: str
    wall_ms: float
    statements: int
    sql_ms: float
    slowest: list[Statement]


@dataclass
class BackendFigures:
    backend: str
    rows: dict[str, int] = field(default_factory=dict)
    seed_seconds: float = 0.0
    insert_seconds: dict[str, float] = field(default_factory=dict)
    build_events: int = 0
    build_seconds: float = 0.0
    projected_conversations: int = 0
    new_events: int = 0
    new_messages: int = 0
    incremental_seconds: float = 0.0
    reread_events: int = 0
    reread_seconds: float = 0.0
    first_call: CallProfile | None = None
    dashboard: list[DashboardFigure] = field(default_factory=list)
    profiles: list[CallProfile] = field(default_factory=list)
    server_peak_rss_mb: float | None = None
    bench_peak_rss_mb: float = 0.0


def note(backend: str, what: str) -> None:
    """Progress on stderr: a full run takes a while."""
    print(f"{datetime.now():%H:%M:%S} [{backend}] {what}", file=sys.stderr, flush=True)


# --- the dashboard ----------------------------------------------------------------------


def scenarios() -> dict[str, dict[str, str]]:
    """Query parameters of each measured dashboard: the last 30 days in the workspace's zone."""
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    period = {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}
    return {
        "last 30 days": period,
        "last 30 days, channel=whatsapp": period | {"channel": "whatsapp"},
        "last 30 days, business_hours=true": period | {"business_hours": "true"},
    }


def report_query(params: dict[str, str]) -> service.ReportQuery:
    """The query the API builds from these parameters."""
    slices = Slices(channel=params.get("channel"))
    business_hours = params.get("business_hours") == "true"
    return service.ReportQuery(params.get("from"), params.get("to"), slices, business_hours)


async def time_function(
    db: Database, workspace_id: int, params: dict[str, str], runs: int
) -> Latency:
    query = report_query(params)
    for _ in range(WARMUP_RUNS):
        await service.dashboard(db, workspace_id, query)
    durations = []
    for _ in range(runs):
        started = perf_counter()
        await service.dashboard(db, workspace_id, query)
        durations.append(perf_counter() - started)
    return summarize(durations)


async def time_http(client: httpx.AsyncClient, params: dict[str, str], runs: int) -> Latency:
    for _ in range(WARMUP_RUNS):
        (await client.get(DASHBOARD_PATH, params=params)).raise_for_status()
    durations = []
    for _ in range(runs):
        started = perf_counter()
        response = await client.get(DASHBOARD_PATH, params=params)
        durations.append(perf_counter() - started)
        response.raise_for_status()
    return summarize(durations)


class StatementClock:
    """Times every statement sent on the database's engines while it is on."""

    def __init__(self, db: Database) -> None:
        self.engines: list[Engine] = list(
            {id(e): e.sync_engine for e in (db.engine, db.read_engine)}.values()
        )
        self.timed: list[tuple[float, str, Any]] = []

    def _before(self, conn: Any, _cursor: Any, _statement: str, _params: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(perf_counter())

    def _after(self, conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        started = conn.info["bench_started"].pop()
        self.timed.append((perf_counter() - started, statement, params))

    def __enter__(self) -> StatementClock:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._before)
            event.listen(engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._before)
            event.remove(engine, "after_cursor_execute", self._after)


async def profile_call(
    db: Database, workspace_id: int, scenario: str, params: dict[str, str], *, explain: bool
) -> CallProfile:
    """One dashboard call: its statements, their time, the three slowest (with plans)."""
    with StatementClock(db) as clock:
        started = perf_counter()
        await service.dashboard(db, workspace_id, report_query(params))
        wall = perf_counter() - started
    slowest = []
    for seconds, sql, parameters in sorted(clock.timed, key=lambda timed: -timed[0])[:3]:
        plan = await explained(db, sql, parameters) if explain else []
        slowest.append(Statement(seconds * 1000, " ".join(sql.split()), plan))
    sql_ms = sum(seconds for seconds, _sql, _parameters in clock.timed) * 1000
    return CallProfile(scenario, wall * 1000, len(clock.timed), sql_ms, slowest)


async def explained(db: Database, sql: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    async with db.read_engine.connect() as connection:
        result = await connection.exec_driver_sql(prefix + sql, parameters)
        return [" ".join(str(value) for value in row) for row in result.all()]


async def measure_dashboards(
    db: Database, tenant: Tenant, figures: BackendFigures, options: Options
) -> None:
    for scenario, params in scenarios().items():
        latency = await time_function(db, tenant.workspace_id, params, options.runs)
        figures.dashboard.append(DashboardFigure(scenario, "function", latency))
        note(
            figures.backend,
            f"{scenario}: p50 {latency.p50_ms:,.0f} ms, p99 {latency.p99_ms:,.0f} ms",
        )
        figures.profiles.append(
            await profile_call(db, tenant.workspace_id, scenario, params, explain=options.explain)
        )
    if not options.http:
        return
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with (
        served_app(db.url, SECRET_KEY) as (base_url, pid),
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client,
    ):
        for scenario, params in scenarios().items():
            latency = await time_http(client, params, options.runs)
            figures.dashboard.append(DashboardFigure(scenario, "HTTP", latency))
            note(figures.backend, f"{scenario} over HTTP: p99 {latency.p99_ms:,.0f} ms")
        figures.server_peak_rss_mb = process_peak_rss_mb(pid)


# --- new traffic, then the incremental refresh -------------------------------------------


async def head_event_id(db: Database, workspace_id: int) -> int:
    async with db.read_session() as session:
        head = await session.scalar(
            select(func.max(Event.id)).where(Event.workspace_id == workspace_id)
        )
    return int(head or 0)


async def returning_customers(db: Database, tenant: Tenant) -> list[SenderIdentity]:
    """Every seeded WhatsApp identity, as the Cloud API would report the sender."""
    async with db.read_session() as session:
        rows = await session.execute(
            select(ContactIdentity.external_id, ContactIdentity.display_name).where(
                ContactIdentity.workspace_id == tenant.workspace_id,
                ContactIdentity.channel == "whatsapp",
            )
        )
        return [
            SenderIdentity("whatsapp", number, name, phone=number, verified=True)
            for number, name in rows
        ]


async def new_traffic(
    db: Database, tenant: Tenant, wanted_events: int, seed: int
) -> tuple[int, int]:
    """Customers write again until ``wanted_events`` events are logged; (events, messages)."""
    rng = random.Random(f"{seed}:traffic")
    senders = await returning_customers(db, tenant)
    inbox_id = next(inbox.id for inbox in tenant.inboxes if inbox.channel == "whatsapp")
    before = head = await head_event_id(db, tenant.workspace_id)
    messages = 0
    while head - before < wanted_events:
        inbound = InboundMessage(
            sender=rng.choice(senders),
            text=rng.choice(FOLLOW_UPS),
            external_id=f"wamid.bench.{messages}",
        )

        async def record(session: Any, inbound: InboundMessage = inbound) -> None:
            workspace = await session.get(Workspace, tenant.workspace_id)
            inbox = await session.get(Inbox, inbox_id)
            await do_record_inbound(session, workspace, inbox, inbound)

        await db.write(record)
        messages += 1
        if messages % 50 == 0:
            head = await head_event_id(db, tenant.workspace_id)
    head = await head_event_id(db, tenant.workspace_id)
    return head - before, messages


async def measure_incremental(
    db: Database, tenant: Tenant, figures: BackendFigures, options: Options
) -> None:
    figures.new_events, figures.new_messages = await new_traffic(
        db, tenant, options.new_events, options.seed
    )
    started = perf_counter()
    folded = await projection.refresh(db, tenant.workspace_id)
    figures.incremental_seconds = perf_counter() - started
    assert folded == figures.new_events, (folded, figures.new_events)
    # What every refresh costs while the traffic is recent: PostgreSQL keeps the cursor
    # behind events too young to be sure no earlier id is still uncommitted, and reads
    # them again.
    started = perf_counter()
    figures.reread_events = await projection.refresh(db, tenant.workspace_id)
    figures.reread_seconds = perf_counter() - started


# --- one backend ------------------------------------------------------------------------


async def measure_backend(backend: str, options: Options) -> BackendFigures:
    figures = BackendFigures(backend)
    async with scratch_database(backend, options.postgres_url) as url:
        db = Database(url)
        try:
            db.set_publisher(MemoryBus().publish)
            await migrate.upgrade(db.engine)
            tenant = await create_tenant(db)
            note(backend, f"seeding {options.conversations:,} conversations")
            seeded = await seed_history(
                db,
                tenant,
                conversations=options.conversations,
                messages_per_conversation=options.messages_per_conversation,
                contacts=options.contacts,
                seed=options.seed,
            )
            figures.rows, figures.seed_seconds = seeded.rows, seeded.seconds
            figures.insert_seconds = seeded.insert_seconds
            note(backend, f"seeded in {seeded.seconds:.0f} s; building the projection")
            started = perf_counter()
            figures.build_events = await projection.refresh(db, tenant.workspace_id)
            figures.build_seconds = perf_counter() - started
            async with db.read_session() as session:
                figures.projected_conversations = int(
                    await session.scalar(select(func.count()).select_from(ReportConversation)) or 0
                )
            # Right after the build: cold caches and, on PostgreSQL, no statistics yet.
            first = next(iter(scenarios().items()))
            figures.first_call = await profile_call(
                db, tenant.workspace_id, *first, explain=options.explain
            )
            if not db.is_sqlite:  # as autovacuum would within a minute of the build
                async with db.engine.begin() as connection:
                    await connection.execute(text("ANALYZE"))
            note(backend, f"built in {figures.build_seconds:.0f} s; timing the dashboard")
            await measure_dashboards(db, tenant, figures, options)
            note(backend, "new traffic, then the incremental refresh")
            await measure_incremental(db, tenant, figures, options)
            figures.bench_peak_rss_mb = peak_rss_mb()
        finally:
            await db.dispose()
    return figures


# --- output -----------------------------------------------------------------------------


def aims(results: list[BackendFigures]) -> dict[str, bool]:
    return {
        f"{figures.backend}: whole dashboard p99 < 1 s ({figure.scenario}, {figure.via})": (
            figure.latency.p99_ms < AIM_SECONDS * 1000
        )
        for figures in results
        for figure in figures.dashboard
    }


def projection_table(figures: BackendFigures) -> str:
    rows = figures.rows
    build_rate = figures.build_events / figures.build_seconds if figures.build_seconds else 0.0
    return format_table(
        f"[{figures.backend}] history and projection",
        ("step", "seconds", "figures"),
        [
            (
                "seed (bulk inserts)",
                f"{figures.seed_seconds:,.2f}",
                f"{rows.get('conversations', 0):,} conversations, {rows.get('messages', 0):,} "
                f"messages, {rows.get('events', 0):,} events, {rows.get('contacts', 0):,} contacts",
            ),
            (
                "full build (refresh from 0)",
                f"{figures.build_seconds:,.2f}",
                f"{figures.build_events:,} events read, {build_rate:,.0f} events/s, "
                f"{figures.projected_conversations:,} conversation rows",
            ),
            (
                "first dashboard after it (last 30 days)",
                f"{figures.first_call.wall_ms / 1000 if figures.first_call else 0:,.2f}",
                "cold caches; on PostgreSQL before the ANALYZE that autovacuum would run",
            ),
            (
                "incremental refresh",
                f"{figures.incremental_seconds:,.2f}",
                f"{figures.new_events:,} new events from {figures.new_messages:,} inbound messages",
            ),
            (
                "the same refresh again at once",
                f"{figures.reread_seconds:,.2f}",
                f"{figures.reread_events:,} events read again",
            ),
        ],
    )


def dashboard_table(figures: BackendFigures, runs: int) -> str:
    return format_table(
        f"[{figures.backend}] the whole dashboard, {runs} sequential calls after {WARMUP_RUNS} "
        "warm-up calls",
        ("scenario", "via", "p50 ms", "p99 ms", "max ms"),
        [
            (f.scenario, f.via, f.latency.p50_ms, f.latency.p99_ms, f.latency.max_ms)
            for f in figures.dashboard
        ],
    )


def statements_text(figures: BackendFigures) -> str:
    lines = [f"[{figures.backend}] one dashboard call, statement by statement"]
    profiles = [*figures.profiles]
    if figures.first_call is not None:
        first = figures.first_call
        profiles.insert(
            0, replace(first, scenario=f"{first.scenario} (first call after the build)")
        )
    for profile in profiles:
        lines.append(
            f"  {profile.scenario}: {profile.wall_ms:,.1f} ms, {profile.statements} statements "
            f"until the driver returned: {profile.sql_ms:,.1f} ms; the slowest:"
        )
        for statement in profile.slowest:
            lines.append(f"  {statement.milliseconds:8.1f} ms  {statement.sql[:200]}")
            lines += [f"      {line}" for line in statement.plan]
    return "\n".join(lines) + "\n"


def header_text() -> str:
    info = machine()
    return (
        f"onethread reports benchmark: {info['cpus']} CPUs, Python {info['python']}, "
        f"load average {' '.join(map(str, info['load_average']))}\n"
    )


def backend_text(figures: BackendFigures, options: Options) -> str:
    server = figures.server_peak_rss_mb
    served = f"app server {server:.0f} MB, " if server else ""
    inserts = ", ".join(
        f"{table} {seconds:.1f} s" for table, seconds in figures.insert_seconds.items()
    )
    return "\n".join(
        [
            projection_table(figures),
            f"of the seeding, inserts: {inserts} (the rest: generating the history)\n",
            dashboard_table(figures, options.runs),
            statements_text(figures),
            f"peak RSS: {served}this process (seeding, build, calls) "
            f"{figures.bench_peak_rss_mb:.0f} MB\n",
        ]
    )


def aims_text(results: list[BackendFigures]) -> str:
    verdicts = [f"{name}: {'met' if ok else 'MISSED'}" for name, ok in aims(results).items()]
    return "\n".join(["aims:", *(f"  {verdict}" for verdict in verdicts)])


def report_json(results: list[BackendFigures]) -> str:
    return json_report(aims(results), {figures.backend: asdict(figures) for figures in results})


def parse_options(argv: list[str] | None = None) -> Options:
    parser = backend_parser("python -m bench.reports", __doc__)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--contacts", type=int, help="default: half the conversations")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per dashboard scenario")
    parser.add_argument(
        "--new-events", type=int, default=1000, help="before the incremental refresh"
    )
    parser.add_argument("--no-http", action="store_true", help="skip the dashboard over HTTP")
    parser.add_argument("--explain", action="store_true", help="plans of the slowest statements")
    parser.add_argument("--seed", type=int, default=7, help="of the generated history")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    conversations = max(args.conversations, 10)
    return Options(
        backends=BACKENDS if args.backend == "both" else (args.backend,),
        postgres_url=args.postgres_url,
        conversations=conversations,
        messages_per_conversation=max(args.messages_per_conversation, 2),
        contacts=args.contacts or max(conversations // 2, 1),
        runs=max(args.runs, 1),
        new_events=max(args.new_events, 1),
        http=not args.no_http,
        explain=args.explain,
        seed=args.seed,
        as_json=args.json,
    )


async def run(options: Options) -> list[BackendFigures]:
    """Each backend in turn; as text, each backend's figures are printed once it is done."""
    install_publish_after_commit()
    if not options.as_json:
        print(header_text(), flush=True)
    results = []
    for backend in options.backends:
        results.append(await measure_backend(backend, options))
        if not options.as_json:
            print(backend_text(results[-1], options), flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    results = asyncio.run(run(options))
    print(report_json(results) if options.as_json else aims_text(results))


if __name__ == "__main__":
    main()
