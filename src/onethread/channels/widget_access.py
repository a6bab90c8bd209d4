"""Who may use an inbox's widget: its allowed origins, CORS answers, and rate limits.

Every widget view opens its inbox with ``open_widget``, which refuses a browser origin
the inbox does not allow (403); every widget route is a ``WidgetRoute``, which gives an
allowed origin its CORS headers on every answer, errors included, so that the widget
can read a 400, 401 or 429.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

from onethread.api.context import AppContext
from onethread.api.ratelimit import RateLimiter, RateLimits
from onethread.errors import DomainError, Forbidden, NotFound, RateLimited
from onethread.inboxes.channel_config import WebchatConfig
from onethread.inboxes.models import ChannelKind, Inbox
from onethread.inboxes.service import full_config

LIMITS_KEY = "widget_limits"
MAX_WIDGET_BODY = 64 * 1024  # enforced by api/body_limit.py
PREFLIGHT_MAX_AGE = "600"
# Widget windows: (name, hits, per seconds)
VISITOR_MESSAGES = ("widget:visitor-messages", 30, 60)
ADDRESS_MESSAGES = ("widget:address-messages", 120, 60)
ADDRESS_SESSIONS = ("widget:address-sessions", 300, 600)


@dataclass(frozen=True)
class WidgetInbox:
    """A web chat inbox as the widget routes need it: ids and the decrypted config."""

    id: int
    workspace_id: int
    config: WebchatConfig


@dataclass
class WidgetLimits:
    """The widget's windows, shared by every serve process when Redis is configured."""

    messages_per_visitor: RateLimiter = field(default_factory=lambda: _window(VISITOR_MESSAGES))
    messages_per_address: RateLimiter = field(default_factory=lambda: _window(ADDRESS_MESSAGES))
    sessions_per_address: RateLimiter = field(default_factory=lambda: _window(ADDRESS_SESSIONS))

    @classmethod
    def of(cls, rate_limits: RateLimits) -> WidgetLimits:
        return cls(
            messages_per_visitor=_window(VISITOR_MESSAGES, rate_limits),
            messages_per_address=_window(ADDRESS_MESSAGES, rate_limits),
            sessions_per_address=_window(ADDRESS_SESSIONS, rate_limits),
        )


def _window(spec: tuple[str, int, int], rate_limits: RateLimits | None = None) -> RateLimiter:
    """In memory unless ``rate_limits`` says Redis."""
    return (rate_limits or RateLimits()).sliding_window(*spec)


def widget_limits(context: AppContext) -> WidgetLimits:
    limits = context.extras.get(LIMITS_KEY)
    if not isinstance(limits, WidgetLimits):
        limits = WidgetLimits.of(context.rate_limits)
        context.extras[LIMITS_KEY] = limits
    return limits


async def take_turn(limiter: RateLimiter, key: str, what: str) -> None:
    """Count one ``what`` for ``key``, or refuse with 429 and the seconds to wait."""
    wait, _ = await limiter.take(key)
    if wait:
        raise RateLimited(f"too many {what}; retry in {wait} s", retry_after=wait)


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


async def load_widget_inbox(context: AppContext, raw_inbox_id: object) -> WidgetInbox:
    text = str(raw_inbox_id)
    inbox_id = int(text) if text.isdigit() else 0
    async with context.db.read_session() as session:
        inbox = await session.get(Inbox, inbox_id) if 0 < inbox_id < 2**63 else None
    if inbox is None or inbox.channel != ChannelKind.WEBCHAT.value:
        raise NotFound(f"no web chat inbox {raw_inbox_id}")
    config = full_config(inbox, context.secrets)
    assert isinstance(config, WebchatConfig)
    return WidgetInbox(inbox.id, inbox.workspace_id, config)


def normalized_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _own_origins(connection: HTTPConnection, context: AppContext) -> set[str]:
    """The server's origins: its public URL, and the host this request came to."""
    public = urlsplit(context.settings.public_url)
    scheme = {"ws": "http", "wss": "https"}.get(connection.url.scheme, connection.url.scheme)
    host = connection.headers.get("host", "")
    return {normalized_origin(f"{public.scheme}://{public.netloc}"), f"{scheme}://{host.lower()}"}


def origin_allowed(connection: HTTPConnection, context: AppContext, widget: WidgetInbox) -> bool:
    """No Origin header (not a cross-origin browser call), our own, or one the inbox lists."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    wanted = normalized_origin(origin)
    listed = {normalized_origin(allowed) for allowed in widget.config.allowed_origins}
    return wanted in listed or wanted in _own_origins(connection, context)


def cors_headers(origin: str, *, preflight: bool = False) -> dict[str, str]:
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After",
        "Vary": "Origin",
    }
    if preflight:
        headers |= {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Authorization",
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
    return headers


async def _error_response(request: Request, exc: Exception) -> Response:
    """The app's own answer to ``exc`` (one error shape), found the way Starlette looks."""
    handlers = request.app.exception_handlers
    for kind in type(exc).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            response: Response = await handler(request, exc)
            return response
    raise exc


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class WidgetRoute(APIRoute):
    """A widget HTTP route: an allowed origin gets its CORS headers on every answer.

    The view itself opens the inbox (``open_widget``) after its input is validated, as
    every view does; for an error raised before that, the inbox is looked up here.
    """

    def get_route_handler(self) -> Handler:
        endpoint_handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await endpoint_handler(request)
            except Exception as exc:
                response = await _error_response(request, exc)
            origin = request.headers.get("origin")
            if origin is not None and await _answers_origin(request):
                response.headers.update(cors_headers(origin, preflight=request.method == "OPTIONS"))
            return response

        return handle


async def _answers_origin(request: Request) -> bool:
    context: AppContext = request.app.state.context
    widget: WidgetInbox | None = getattr(request.state, "widget_inbox", None)
    if widget is None:
        try:
            widget = await load_widget_inbox(context, request.path_params.get("inbox_id"))
        except DomainError:
            return False
    return origin_allowed(request, context, widget)


async def open_widget(request: Request, context: AppContext, inbox_id: int) -> WidgetInbox:
    """The web chat inbox of this request; 403 for a browser origin it does not allow."""
    widget = await load_widget_inbox(context, inbox_id)
    request.state.widget_inbox = widget
    if not origin_allowed(request, context, widget):
        origin = request.headers.get("origin")
        raise Forbidden(f"origin {origin} may not use this chat widget")
    return widget
