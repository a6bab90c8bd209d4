"""What the operations tests share: scraping /metrics, a WhatsApp inbox on the fake Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from onethread.jobs.context import JobContext
from tests.channels.conftest import APP_SECRET, TOKEN
from tests.conftest import Harness
from tests.factories import Api, inbox
from tests.fakes.graph_api import FakeGraphApi

PHONE_NUMBER_ID = "106540352242922"  # the fixtures' metadata.phone_number_id

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    """Every sample of an exposition, keyed by its name and labels."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series was never touched."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse_metrics(response.text)


async def whatsapp_inbox(admin: Api, graph: FakeGraphApi, **config: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "sandbox": False,
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": "meatyhamhock",
        "api_base_url": graph.base_url,
    }
    return await inbox(admin, "whatsapp", **(settings | config))


def path_of(created: dict[str, Any]) -> str:
    return urlsplit(created["webhook_url"]).path


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
