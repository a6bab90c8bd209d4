"""What the fake provider APIs share: a real HTTP server on loopback, run in a thread.

A fake subclasses ``LoopbackServer`` and implements ``answer(raw) -> Reply`` (plus the
provider's error bodies); the base serves it on ``127.0.0.1`` with a free port, as a
context manager, and keeps the queue of scripted answers that ``script(...)`` fills:

    class FakeProviderApi(LoopbackServer):
        def answer(self, raw: RawRequest) -> Reply:
            return self.scripted_or(raw.path, lambda: Reply.json(200, {"ok": True}))

A scripted answer applies to the next request (to its ``path`` if it has one). It waits
its ``delay`` first (cut short when the fake stops), then answers with its body: raw
bytes as ``text/html``, a JSON value as JSON, or, for ``body=None``, the provider's
error body for a non-2xx status and the fake's default answer with the scripted status
for a 2xx.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass
class RawRequest:
    method: str
    path: str
    query: str  # the raw query string, without "?"
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, body: Any) -> Reply:
        return cls(status, json.dumps(body).encode())


@dataclass
class ScriptedResponse:
    status: int = 200
    body: Any = None  # JSON value, raw bytes, or None for the default answer
    delay: float = 0.0
    path: str | None = None  # only for requests to this path; None: the next request


class LoopbackServer(ABC):
    thread_name = "fake-api"
    methods: tuple[str, ...] = ("GET", "POST")  # others get http.server's 501

    def __init__(self) -> None:
        self._scripted: list[ScriptedResponse] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- what a fake implements ---

    @abstractmethod
    def answer(self, raw: RawRequest) -> Reply:
        """Record ``raw`` and answer it (``scripted_or`` applies the script)."""

    @abstractmethod
    def scripted_error(self, status: int) -> Reply:
        """The answer to a request scripted with a non-2xx status and no body."""

    @abstractmethod
    def failure(self, exc: Exception) -> Reply:
        """The answer when ``answer`` raised: a bug in the fake shows up as a readable 500."""

    # --- lifecycle ---

    def start(self) -> Self:
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name=self.thread_name
        )  # a short poll interval: stopping takes milliseconds, not half a second
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cuts scripted delays short
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- the script ---

    def _queue(self, status: int, body: Any, delay: float, times: int, path: str | None) -> None:
        with self._lock:
            self._scripted.extend(ScriptedResponse(status, body, delay, path) for _ in range(times))

    def _next_scripted(self, path: str) -> ScriptedResponse | None:
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if scripted.path in (None, path):
                    return self._scripted.pop(index)
        return None

    def scripted_or(self, path: str, route: Callable[[], Reply]) -> Reply:
        """The next scripted answer for ``path`` if any, else ``route()``."""
        scripted = self._next_scripted(path)
        if scripted is None:
            return route()
        if scripted.delay:
            self._stopping.wait(scripted.delay)
        if isinstance(scripted.body, bytes):
            return Reply(scripted.status, scripted.body, "text/html")
        if scripted.body is not None:
            return Reply.json(scripted.status, scripted.body)
        if scripted.status >= 300:
            return self.scripted_error(scripted.status)
        default = route()
        return Reply(scripted.status, default.body, default.content_type, default.headers)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is part of the tests, not a failure


class _Handler(BaseHTTPRequestHandler):
    timeout = 10  # never hang a test on a half-open connection
    fake: LoopbackServer

    def _handle(self) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = RawRequest(
            method=self.command,
            path=target.path,
            query=target.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            reply = self.fake.answer(raw)
        except Exception as exc:
            reply = self.fake.failure(exc)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass  # the client gave up (a timeout test): nothing to answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _handler_for(fake: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    """A handler bound to ``fake``, with a ``do_<METHOD>`` for each of ``fake.methods``."""
    members: dict[str, Any] = {"fake": fake}
    members.update((f"do_{method}", _Handler._handle) for method in fake.methods)
    return type(f"{type(fake).__name__}Handler", (_Handler,), members)
