"""The worker loop: claim due jobs, run them, retry with backoff, beat a heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import traceback

from onethread.conversations.actions import DELIVERY_SEND
from onethread.errors import PermanentFailure
from onethread.jobs.context import JobContext
from onethread.jobs.handlers import HANDLERS, Handler
from onethread.observability.context import enter_job, leave_job
from onethread.observability.metrics import observe_job
from onethread.outbox import actions
from onethread.outbox.models import Job, JobStatus

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
MIN_JOB_TIMEOUT_SECONDS = 600
# Claimed before any other kind, each round.
URGENT_KINDS = [DELIVERY_SEND]


def job_timeout(lease_seconds: int) -> float:
    """The longest one job may run before it counts as failed (and is retried)."""
    return float(max(4 * lease_seconds, MIN_JOB_TIMEOUT_SECONDS))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()):x}"


class Worker:
    def __init__(
        self,
        context: JobContext,
        *,
        name: str | None = None,
        batch: int = 256,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.context = context
        self.name = name or worker_name()
        self.batch = batch
        self.handlers = handlers if handlers is not None else HANDLERS
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_beat = 0.0

    def wake(self) -> None:
        """Poke the loop: something was just enqueued (called after commits)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch and run it; returns how many jobs ran."""
        settings = self.context.settings
        lease = settings.job_lease_seconds
        # Deliveries first: a reply must never wait behind a backlog of assistant turns.
        jobs = await actions.claim(
            self.context.db, self.name, limit=self.batch, lease_seconds=lease, kinds=URGENT_KINDS
        )
        if len(jobs) < self.batch:
            jobs += await actions.claim(
                self.context.db, self.name, limit=self.batch - len(jobs), lease_seconds=lease
            )
        if jobs:
            renewing = asyncio.create_task(self._renew_leases(jobs, lease))
            try:
                succeeded = await asyncio.gather(*(self._run(job) for job in jobs))
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
            done = [job for job, ok in zip(jobs, succeeded, strict=True) if ok]
            if done:
                # One transaction for the batch's successes; failures were recorded one by one.
                await actions.complete_many(self.context.db, done)
        return len(jobs)

    async def _renew_leases(self, jobs: list[Job], lease: int) -> None:
        """While the batch runs, renew its leases at a third of their length, and keep
        beating the heartbeat so that a long batch never looks like a dead worker."""
        ids = [job.id for job in jobs]
        renew_every = lease / 3
        renewed_at = time.monotonic()
        while True:
            await asyncio.sleep(min(renew_every, HEARTBEAT_SECONDS))
            await self._beat()
            if time.monotonic() - renewed_at < renew_every:
                continue
            renewed_at = time.monotonic()
            try:
                await actions.extend_lease(self.context.db, self.name, ids, lease)
            except Exception:
                log.warning("worker %s could not renew its leases", self.name, exc_info=True)

    async def _run(self, job: Job) -> bool:
        """Run one job; True when it succeeded and awaits ``complete``.

        Its log lines carry the job and the request that caused it (docs/operations.md).
        """
        tokens = enter_job(job.id, job.kind, job.payload)
        started = time.perf_counter()
        result = "interrupted"  # until the handler returns: a stopped worker's job is reclaimed
        try:
            result = await self._run_handler(job)
        except Exception:
            # The failure could not be recorded (the database is away). Never raise out of
            # the batch: the rest of it runs on under renewed leases, and this job, still
            # running, is retried once its lease runs out.
            log.warning("job %s (%s): failure not recorded", job.id, job.kind, exc_info=True)
        finally:
            seconds = time.perf_counter() - started
            observe_job(job.kind, result, seconds)
            log.debug("job %s (%s) %s in %.3f s", job.id, job.kind, result, seconds)
            leave_job(tokens)
        return result == "done"

    async def _run_handler(self, job: Job) -> str:
        """done, retry or dead."""
        handler = self.handlers.get(job.kind)
        if handler is None:
            await actions.fail(
                self.context.db, job, f"no handler for job kind {job.kind!r}", permanent=True
            )
            return "dead"
        try:
            # A handler that hangs would keep its renewed lease for ever: bound it.
            async with asyncio.timeout(job_timeout(self.context.settings.job_lease_seconds)):
                await handler(self.context, job)
        except PermanentFailure as exc:
            await actions.fail(self.context.db, job, str(exc), permanent=True)
            return "dead"
        except Exception as exc:
            status = await actions.fail(
                self.context.db,
                job,
                "".join(traceback.format_exception_only(exc)).strip(),
            )
            log.warning("job %s (%s) failed, now %s: %s", job.id, job.kind, status, exc)
            return "dead" if status == JobStatus.DEAD.value else "retry"
        return "done"

    async def run(self) -> None:
        log.info("worker %s started", self.name)
        poll = self.context.settings.worker_poll_seconds
        while not self._stopping.is_set():
            await self._beat()
            try:
                ran = await self.run_once()
            except Exception:
                log.exception("worker %s could not claim jobs; retrying", self.name)
                ran = 0
                await asyncio.sleep(1)
            if ran == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=poll)
        log.info("worker %s stopped", self.name)

    async def _beat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = now
            try:
                await actions.beat(self.context.db, self.name)
            except Exception:
                log.warning("worker %s could not record its heartbeat", self.name, exc_info=True)
