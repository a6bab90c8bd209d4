from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from onethread.settings import Settings
from tests.realtime.servers import Server, servers

PRESENCE_SECONDS = 1.0
TYPING_SECONDS = 0.5
REPLAY_LIMIT = 5


@pytest.fixture
def realtime_settings(settings: Settings) -> Settings:
    """Short TTLs and a small replay window, so that expiry and refetch are quick to see."""
    return settings.model_copy(
        update={
            "realtime_presence_seconds": PRESENCE_SECONDS,
            "realtime_typing_seconds": TYPING_SECONDS,
            "realtime_replay_limit": REPLAY_LIMIT,
        }
    )


@pytest.fixture
async def server(realtime_settings: Settings) -> AsyncIterator[Server]:
    async with servers(realtime_settings, 1) as [running]:
        yield running
