"""The fake Graph API as the durability tests use it: it counts what it *accepted*, and
can stall sends so that a test kills a worker while a send is in flight but not yet
processed (the provider has not acted on it, so sending it again is not a duplicate)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Self

from tests.fakes.graph_api import FakeGraphApi, RecordedRequest
from tests.fakes.loopback import RawRequest, Reply

BACKLOG = 512
HELD_STATUS = 503  # what a stalled send gets once released: not accepted, retry later


class CountingGraphApi(FakeGraphApi):
    thread_name = "fake-graph-api-counting"

    def __init__(self) -> None:
        super().__init__()
        self._open = threading.Event()
        self._open.set()
        self.held = 0  # sends waiting at the gate now

    def start(self) -> Self:
        super().start()
        assert self._server is not None
        # A worker sends a whole batch at once: more connections than http.server's
        # default backlog of 5 would be refused, and retried, under load.
        self._server.socket.listen(BACKLOG)
        return self

    def hold(self) -> None:
        """From now on, sends wait unprocessed until ``release`` (then get a 503)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def answer(self, raw: RawRequest) -> Reply:
        if raw.method == "POST" and raw.path.endswith("/messages") and not self._open.is_set():
            with self._lock:
                self.held += 1
            self._open.wait(30)
            with self._lock:
                self.held -= 1
            return self.scripted_error(HELD_STATUS)
        return super().answer(raw)

    def accepted_sends(self) -> int:
        """Messages of any kind (text, interactive, template) accepted."""
        with self._lock:
            return sum(1 for request in self.requests if _is_send(request))

    def accepted_texts(self) -> Counter[str]:
        """How many times each text message was accepted (answered 200), by its text."""
        with self._lock:
            requests = list(self.requests)
        return Counter(_text(request) for request in requests if _text(request))


def _is_send(request: RecordedRequest) -> bool:
    body = request.json if request.method == "POST" else None
    return request.path.endswith("/messages") and isinstance(body, dict) and "status" not in body


def _text(request: RecordedRequest) -> str:
    if not _is_send(request):
        return ""
    body = request.json or {}
    text = body.get("text") if isinstance(body, dict) else None
    return str(text.get("body", "")) if isinstance(text, dict) else ""
