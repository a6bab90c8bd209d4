from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.settings import Settings
from tests.conftest import Harness
from tests.integrations.receiver import WebhookReceiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The receiver listens on loopback, which production refuses by default.
    return settings.model_copy(update={"webhook_allow_private": True})


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
async def worker(harness: Harness) -> AsyncIterator[Worker]:
    async with httpx.AsyncClient() as http:
        context = harness.app_context
        yield Worker(
            JobContext(settings=context.settings, db=context.db, secrets=context.secrets, http=http)
        )
