"""``onethread worker``: a worker process of its own, stopped cleanly by SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import httpx

from onethread.bootstrap import open_database
from onethread.events.bus import create_bus
from onethread.inboxes.secrets import SecretBox
from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.settings import Settings


async def run_worker(settings: Settings) -> None:
    db = await open_database(settings, upgrade=settings.is_sqlite)
    bus = create_bus(settings.redis_url)
    await bus.start()
    db.set_publisher(bus.publish)
    try:
        async with httpx.AsyncClient(timeout=15) as http:
            worker = Worker(
                JobContext(
                    settings=settings,
                    db=db,
                    secrets=SecretBox(settings.effective_secret_key),
                    http=http,
                )
            )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, worker.stop)
            await worker.run()
    finally:
        await bus.stop()
        await db.dispose()
