"""What channel tests share: the documented fixtures, a worker to drain jobs, signed posts."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from onethread.channels import meta
from onethread.db.types import utcnow
from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.outbox.models import Job, JobStatus
from tests.conftest import Harness
from tests.fakes.graph_api import FakeGraphApi


def _shared_dir() -> Path:
    """The workplace's shared folder: ``$ONETHREAD_SHARED_DIR``, else a ``shared`` folder
    beside the checkout or beside one of its parents, else ``/work/shared``."""
    if configured := os.environ.get("ONETHREAD_SHARED_DIR"):
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "shared" / "channels" / "fixtures").is_dir():
            return parent / "shared"
    return Path("/work/shared")


SHARED = _shared_dir()
FIXTURES = SHARED / "channels" / "fixtures"
APP_SECRET = "whatsapp-app-secret"
TOKEN = "EAAG-test-token"


def fixture(name: str) -> dict[str, Any]:
    """One documented payload from ../shared/channels/fixtures."""
    path = FIXTURES / name
    assert path.exists(), f"missing {path}: set ONETHREAD_SHARED_DIR to the shared folder"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def meta_bytes(body: Any) -> bytes:
    """JSON as Meta sends it: compact, non-ASCII escaped as \\uXXXX."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()


async def post_meta(
    client: httpx.AsyncClient, path: str, raw: bytes, secret: str = APP_SECRET
) -> httpx.Response:
    return await client.post(
        path,
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(raw, secret)},
    )


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi(access_token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def job_context(harness: Harness) -> AsyncIterator[JobContext]:
    async with httpx.AsyncClient(timeout=2) as http:
        yield JobContext(
            settings=harness.app_context.settings,
            db=harness.db,
            secrets=harness.app_context.secrets,
            http=http,
        )


async def drain(harness: Harness, job_context: JobContext, *, make_due: bool = False) -> int:
    """Run queued jobs until none is due; ``make_due`` skips retry backoff, round after round."""
    worker = Worker(job_context)
    ran = 0
    while True:
        count = await worker.run_once()
        if count == 0 and make_due:
            async with harness.db.session() as session:
                moved = await session.execute(
                    update(Job).where(Job.status == JobStatus.QUEUED.value).values(run_at=utcnow())
                )
            if moved.rowcount:  # type: ignore[attr-defined]
                continue
        if count == 0:
            return ran
        ran += count
