"""The agents' realtime socket under arbitrary client frames: ignored, never fatal."""

from __future__ import annotations

from onethread.settings import Settings
from tests.fuzz.test_webhooks_e2e import drawn
from tests.fuzz.test_widget_fuzz import FRAMES, KNOWN_BAD_FRAMES
from tests.realtime.servers import agent_socket, new_workspace, servers


async def test_agent_socket_survives_arbitrary_frames(settings: Settings) -> None:
    async with servers(settings, 1) as [server]:
        admin = await new_workspace(server, "Sockets", "sockets-admin@example.com")
        async with agent_socket(server, admin.token) as sock:
            hello = await sock.recv()
            assert hello["type"] == "hello"
            for frame in KNOWN_BAD_FRAMES + drawn(FRAMES, 60):
                await sock.ws.send(frame)
            others = await sock.until_pong()  # still answering after all of them
        assert all(frame["type"] in {"pong", "presence"} for frame in others), others
