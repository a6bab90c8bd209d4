"""What the operations tests share: scraping /metrics, a WhatsApp inbox on the fake Graph API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

# The channel tests' fixtures and WhatsApp inbox, shared rather than written again.
from tests.channels.conftest import graph, job_context
from tests.channels.test_whatsapp_e2e import PHONE_NUMBER_ID, whatsapp_inbox

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


def path_of(created: dict[str, Any]) -> str:
    return urlsplit(created["webhook_url"]).path


__all__ = ["PHONE_NUMBER_ID", "graph", "job_context", "whatsapp_inbox"]
