"""A pure ASGI middleware: every request gets an id; websockets and webhooks refused
for their size are counted.

The id is the client's ``X-Request-ID`` when it is sane (1-128 of ``[A-Za-z0-9._-]``),
else a fresh one; it lives in a context variable for the request's log lines and the
jobs it enqueues, and goes back in the response's ``X-Request-ID``. Pure ASGI rather
than ``BaseHTTPMiddleware``, which would buffer streams and cannot see websockets.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onethread.api.errors import error_response
from onethread.observability import context
from onethread.observability.metrics import WEBSOCKETS, count_webhook
from onethread.observability.webhooks import TOO_LARGE, WEBHOOK_PATH_PREFIX, channel_of_path

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._-]{1,128}")
REALTIME_PATH_PREFIX = "/api/v1/realtime"

log = logging.getLogger(__name__)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == HEADER and _SANE.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope["headers"])
        token = context.request_id.set(request_id)
        header = (HEADER, request_id.encode("ascii"))
        path: str = scope["path"]
        socket = "agents" if path.startswith(REALTIME_PATH_PREFIX) else "widget"
        webhook = kind == "http" and path.startswith(WEBHOOK_PATH_PREFIX)
        accepted = started = False

        async def send_with_id(message: Message) -> None:
            nonlocal accepted, started
            if message["type"] in ("http.response.start", "websocket.accept"):
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            if webhook and message["type"] == "http.response.start" and message["status"] == 413:
                count_webhook(channel_of_path(path), TOO_LARGE)
            if message["type"] == "websocket.accept":
                accepted = True
                WEBSOCKETS.labels(socket).inc()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if kind != "http" or started:
                raise
            # Answered here, inside the request's context, rather than by Starlette's
            # outermost error layer: the log line and the 500 both carry the request id.
            log.exception("unhandled error")
            response = error_response(500, "internal_error", "an unexpected error occurred")
            await response(scope, receive, send_with_id)
        finally:
            if accepted:
                WEBSOCKETS.labels(socket).dec()
            context.request_id.reset(token)
