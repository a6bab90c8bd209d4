"""How long ``GET /metrics`` takes with a deep job queue (the aim: under 50 ms at 100k).

    python -m bench.metrics_scrape                      # both backends, 100,000 queued jobs
    python -m bench.metrics_scrape --backend sqlite --jobs 20000

Per backend, in a scratch database dropped afterwards: ``--jobs`` queued jobs over five
kinds (a tenth of them scheduled for later), written in bulk; then ``--scrapes`` scrapes of
``/metrics`` through the app in-process (ASGI, no network), after two warm-ups. The scrape
runs the grouped queue query (``observability/queue.py``) and renders every metric.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, insert

from bench.harness import backend_parser, format_table, scratch_database, summarize
from onethread.db import migrate
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.main import create_app
from onethread.outbox.models import Job, JobStatus
from onethread.settings import Settings

KINDS = ["assistant.turn", "delivery.send", "media.fetch", "conversation.wake", "survey.ask"]
AIM_MS = 50.0


async def _fill(url: str, jobs: int) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db.engine)
        now = utcnow()
        table = cast(Table, Job.__table__)
        rows: list[dict[str, Any]] = [
            {
                "workspace_id": None,
                "kind": KINDS[number % len(KINDS)],
                "payload": {"message_id": number},
                "status": JobStatus.QUEUED.value,
                "attempts": 0,
                "max_attempts": 8,
                "run_at": now + timedelta(minutes=5 if number % 10 == 0 else -(number % 600)),
                "created_at": now,
            }
            for number in range(jobs)
        ]
        async with db.engine.begin() as connection:
            for start in range(0, jobs, 5000):
                await connection.execute(insert(table), rows[start : start + 5000])
            if not db.is_sqlite:
                await connection.exec_driver_sql("ANALYZE jobs")
    finally:
        await db.dispose()


async def _measure(url: str, scrapes: int, directory: str) -> list[float]:
    from pathlib import Path

    settings = Settings(database_url=url, data_dir=Path(directory), secret_key="bench")
    app = create_app(settings, auto_migrate=False)
    seconds: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for round_ in range(scrapes + 2):
                started = time.perf_counter()
                response = await client.get("/metrics")
                elapsed = time.perf_counter() - started
                assert response.status_code == 200
                assert "onethread_jobs_queued" in response.text
                if round_ >= 2:
                    seconds.append(elapsed)
    return seconds


async def main(argv: list[str]) -> int:
    parser = backend_parser("bench.metrics_scrape", __doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--scrapes", type=int, default=30)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    rows = []
    met = True
    import tempfile

    for backend in backends:
        async with scratch_database(backend, args.postgres_url) as url:
            await _fill(url, args.jobs)
            with tempfile.TemporaryDirectory(prefix="onethread-bench-") as directory:
                latency = summarize(await _measure(url, args.scrapes, directory))
        met = met and latency.p99_ms < AIM_MS
        rows.append(
            [backend, args.jobs, latency.count, latency.p50_ms, latency.p99_ms, latency.max_ms]
        )
    print(
        format_table(
            f"GET /metrics with a deep queue (aim: p99 < {AIM_MS:.0f} ms)",
            ["backend", "queued jobs", "scrapes", "p50 ms", "p99 ms", "max ms"],
            rows,
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
