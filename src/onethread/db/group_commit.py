"""Group commit: concurrent units of work coalesced into one write transaction.

Webhooks arrive many at a time and each must be committed before it is acknowledged.
One transaction per request pays for BEGIN, COMMIT and the session around a handful of
statements; here the requests that queue up while a batch is being written go into the
next batch together, each awaiting its own result (docs/benchmarks.md, "Webhook ingest").

The batch runs the units one after another in one session, exactly as if they had run
alone in that order: each sees the rows of those before it. A unit that fails is
dropped and the others run again from scratch in a fresh transaction, so one bad
request never loses or fails its neighbours; a unique index that refuses a unit (a
race with another process) reruns it like ``Database.write`` does. Events are published
by the session's after-commit hook, so only once the whole batch is durable.

A unit may also bring a *batch step* and a payload: before the units run, each step is
called once with the payloads of the units of the transaction that brought it, so that
work many units share is done in a few statements (the returning senders of webhooks,
``channels/ingest.py``); each unit then finds what the step did for it in its payload.
The transaction is then as if those units' shared part had run first. A step that
raises cannot be blamed on one unit: each unit is run again alone, as after a failed
COMMIT.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onethread.db.failures import is_worth_rerunning

log = logging.getLogger(__name__)

T = TypeVar("T")

Work = Callable[[AsyncSession], Awaitable[T]]
# Called with the payloads of the transaction's units that named it, in their order.
BatchStep = Callable[[AsyncSession, list[Any]], Awaitable[None]]


@dataclass(eq=False)
class _Unit(Generic[T]):
    work: Work[T]
    future: asyncio.Future[T]
    step: BatchStep | None = None
    payload: Any = None
    attempts: int = 0


@dataclass
class _Outcome:
    failed_at: int | None = None
    error: BaseException | None = None
    values: list[Any] = field(default_factory=list)


def _fail(units: list[_Unit[Any]], error: BaseException) -> None:
    for unit in units:
        if not unit.future.done():
            unit.future.set_exception(error)


class GroupCommit:
    """Runs units of work for a ``Database``, many to a transaction.

    ``max_batch`` bounds one transaction; ``in_flight`` is how many batches may be written
    at once (one on SQLite, which has one writer; a few on PostgreSQL, whose connections
    overlap their round trips).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 64,
        in_flight: int = 1,
        attempts: int = 3,
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._attempts = attempts
        self._queue: list[_Unit[Any]] = []
        self._active = 0  # flushers running; counted here, not by their tasks' callbacks
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, work: Work[T], *, step: BatchStep | None = None, payload: Any = None) -> T:
        """Run ``work`` in the next batch; its result once the batch has committed.

        ``step``, if given, is called once per transaction with the ``payload`` of every
        unit in it that names the same step, before any unit's ``work``.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Unit(work, future, step, payload))
        if self._active < self._in_flight:
            self._active += 1
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self) -> None:
        batch: list[_Unit[Any]] = []
        try:
            while self._queue:
                # One turn of the loop lets the requests that arrived together join this
                # batch, and hands the connection just released to whoever waits for it
                # (the worker, an API request) rather than taking it back at once.
                await asyncio.sleep(0)
                if not self._queue:
                    break
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                try:
                    await self._write(batch)
                except Exception as exc:  # a bug: nobody may hang
                    log.exception("group commit failed unexpectedly")
                    _fail(batch, exc)
        except BaseException as exc:  # cancelled (shutdown): fail what is left
            _fail(batch + self._queue, exc)
            self._queue.clear()
            raise
        finally:
            # No await between the empty queue above and this: a unit queued from now on
            # starts a flusher of its own.
            self._active -= 1

    async def _write(self, batch: list[_Unit[Any]]) -> None:
        pending = [unit for unit in batch if not unit.future.done()]
        while pending:
            try:
                outcome = await self._attempt(pending)
            except Exception as exc:
                # COMMIT or a batch step failed: nothing of the batch is stored. Alone,
                # each unit gets its own answer rather than sharing one failure.
                if len(pending) == 1:
                    self._fail_or_retry(pending, 0, exc)
                    continue
                for unit in pending:
                    await self._write([unit])
                return
            if outcome.failed_at is None:
                for unit, value in zip(pending, outcome.values, strict=True):
                    if not unit.future.done():
                        unit.future.set_result(value)
                return
            assert outcome.error is not None
            self._fail_or_retry(pending, outcome.failed_at, outcome.error)

    def _fail_or_retry(self, pending: list[_Unit[Any]], index: int, error: BaseException) -> None:
        """Drop the unit that failed, unless its failure says to run it again."""
        unit = pending[index]
        unit.attempts += 1
        # "Run me again" rather than "I am wrong" (db/failures.py): a unique index another
        # transaction won (the rerun finds its row), a deadlock, a busy database.
        if is_worth_rerunning(error) and unit.attempts < self._attempts:
            return
        del pending[index]
        if not unit.future.done():
            unit.future.set_exception(error)

    async def _attempt(self, pending: list[_Unit[Any]]) -> _Outcome:
        """One transaction over ``pending``; stops at the first unit that raises."""
        outcome = _Outcome()
        async with self._sessions() as session:
            await self._run_steps(session, pending)
            for index, unit in enumerate(pending):
                try:
                    outcome.values.append(await unit.work(session))
                    # Flush now so that a refused row is blamed on the unit that added it.
                    await session.flush()
                except Exception as exc:
                    outcome.failed_at, outcome.error = index, exc
                    await session.rollback()
                    return outcome
            await session.commit()
        return outcome

    @staticmethod
    async def _run_steps(session: AsyncSession, pending: list[_Unit[Any]]) -> None:
        payloads: dict[BatchStep, list[Any]] = {}
        for unit in pending:
            if unit.step is not None:
                payloads.setdefault(unit.step, []).append(unit.payload)
        for step, shared in payloads.items():
            await step(session, shared)
