"""Request size limits per path, before and while a body is read (413 in the house shape).

A pure ASGI middleware: a ``Content-Length`` over the path's limit is refused before a
byte is read; a body sent without one (chunked) is counted as it arrives and refused as
soon as it passes the limit, so no view ever holds more than the limit. Websockets and
lifespan pass through untouched, and responses (streamed ones too) are not touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onethread.api.errors import error_response
from onethread.channels.api import MAX_WEBHOOK_BYTES
from onethread.channels.widget_access import MAX_WIDGET_BODY
from onethread.contacts.api import MAX_IMPORT_BYTES
from onethread.knowledge.api import MAX_UPLOAD_FILE_BYTES, MAX_UPLOAD_FILES

CODE = "payload_too_large"


@dataclass(frozen=True)
class PathLimit:
    """Bodies sent to paths starting with ``prefix`` are limited to ``max_bytes``."""

    prefix: str
    max_bytes: int
    # Browsers must be able to read the refusal (the widget is called cross-origin).
    any_origin: bool = False


def _reason(limit: int) -> str:
    return f"the request body is larger than this endpoint's limit of {limit} bytes"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _reason(limit))


class BodyLimit:
    """Refuses bodies over the limit of the longest matching prefix, else ``default``."""

    def __init__(self, app: ASGIApp, *, default: int, paths: Sequence[PathLimit] = ()) -> None:
        self.app = app
        self.default = default
        self.paths = sorted(paths, key=lambda rule: len(rule.prefix), reverse=True)

    def rule_for(self, path: str) -> PathLimit:
        for rule in self.paths:
            if path.startswith(rule.prefix):
                return rule
        return PathLimit("", self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rule_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > rule.max_bytes:
            await _refuse(scope, receive, send, rule)
            return
        await _LimitedRequest(self.app, rule)(scope, receive, send)


class _LimitedRequest:
    """One request whose body is counted; the view's answer is replaced once it overflows."""

    def __init__(self, app: ASGIApp, rule: PathLimit) -> None:
        self.app = app
        self.rule = rule
        self.received = 0
        self.overflowed = False
        self.started = False
        self.replaced = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.rule.max_bytes:
                    self.overflowed = True
                    raise BodyTooLarge(self.rule.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            if self.replaced:
                return
            if message["type"] == "http.response.start" and not self.started:
                self.started = True
                if self.overflowed:
                    # Whatever the view made of the overflow, answer in one shape.
                    self.replaced = True
                    await _refuse(scope, receive, send, self.rule)
                    return
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if self.started:
                raise
            self.started = True
            await _refuse(scope, receive, send, self.rule)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, rule: PathLimit) -> None:
    limit = rule.max_bytes
    response = error_response(413, CODE, _reason(limit), {"limit_bytes": limit})
    response.headers["Connection"] = "close"  # the rest of the body is not read
    if rule.any_origin:
        response.headers["Access-Control-Allow-Origin"] = "*"
    await response(scope, receive, send)


MULTIPART_ENVELOPE = 1024 * 1024  # boundaries and part headers around an uploaded file


def path_limits(api_prefix: str) -> list[PathLimit]:
    """The endpoints whose limit is not the JSON default, from their own constants."""
    return [
        PathLimit("/webhooks/", MAX_WEBHOOK_BYTES),
        PathLimit(f"{api_prefix}/widget/", MAX_WIDGET_BODY, any_origin=True),
        PathLimit(f"{api_prefix}/contacts/import", MAX_IMPORT_BYTES + MULTIPART_ENVELOPE),
        PathLimit(
            f"{api_prefix}/knowledge/upload",
            MAX_UPLOAD_FILES * MAX_UPLOAD_FILE_BYTES + MULTIPART_ENVELOPE,
        ),
    ]
