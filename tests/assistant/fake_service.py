"""A business service stand-in that records requests and can be slow, fail or misbehave.

By default every request gets ``{"ok": true, "path": <path>, "query": <raw query>}``;
``script(...)`` sets the next answers (a status, a body, a delay) as in the other fakes.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.loopback import LoopbackServer, RawRequest, Reply


class FakeService(LoopbackServer):
    thread_name = "fake-service"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[RawRequest] = []

    def script(
        self, status: int = 200, body: Any = None, *, delay: float = 0.0, times: int = 1
    ) -> None:
        self._queue(status, body, delay, times, None)

    def answer(self, raw: RawRequest) -> Reply:
        self.requests.append(raw)
        return self.scripted_or(
            raw.path, lambda: Reply.json(200, {"ok": True, "path": raw.path, "query": raw.query})
        )

    def scripted_error(self, status: int) -> Reply:
        return Reply.json(status, {"error": f"scripted {status}"})

    def failure(self, exc: Exception) -> Reply:
        return Reply.json(500, {"error": f"fake failed: {exc!r}"})
