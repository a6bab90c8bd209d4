"""With ONETHREAD_METRICS_TOKEN set, /metrics answers only its bearer."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from onethread.settings import Settings
from tests.conftest import Harness
from tests.ops.conftest import scrape

METRICS_TOKEN = "scrape-me-7f3a"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})


async def test_only_the_bearer_of_the_metrics_token_may_scrape(harness: Harness) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
    ):
        refused = await harness.client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "onethread_" not in refused.text
    samples = await scrape(harness.client, Authorization=f"Bearer {METRICS_TOKEN}")
    assert any(name == "onethread_build_info" for name, _ in samples)
