"""The web chat widget's API: a visitor session, their messages, live replies, the script.

Visitors are not agents: they carry a signed visitor token (``widget_tokens.py``)
and reach only their own thread on one inbox. A site identifies a signed-in customer
with ``user_id`` + ``user_hash``; the email and phone it signs into that hash are
taken as verified, which links the visitor to the customer's contact on every other
channel. Nothing is stored until the visitor first writes.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from onethread.api.deps import Context
from onethread.channels.ingest import ingest
from onethread.channels.widget_access import (
    WidgetInbox,
    WidgetRoute,
    client_address,
    load_widget_inbox,
    open_widget,
    take_turn,
    widget_limits,
)
from onethread.channels.widget_live import widget_socket
from onethread.channels.widget_tokens import (
    InvalidVisitorToken,
    VisitorClaims,
    issue_token,
    read_token,
    verify_user_hash,
)
from onethread.channels.widget_visitors import (
    SessionIn,
    SessionOut,
    VisitorMessage,
    VisitorMessageIn,
    WidgetLook,
    external_id_for,
    sender_of,
    visitor_history,
    visitor_message,
)
from onethread.conversations.inbound import InboundMessage
from onethread.db.types import Id
from onethread.errors import InvalidInput, NotAuthenticated

router = APIRouter(tags=["widget"], route_class=WidgetRoute)
script_router = APIRouter()


def _identified(body: SessionIn, widget: WidgetInbox, now: int) -> VisitorClaims:
    """A signed-in customer of the site, vouched for by ``user_hash``."""
    assert body.user_id is not None
    if widget.config.identity_secret is None:
        raise InvalidInput(
            "this inbox has no identity secret: set one to identify visitors by user_id",
            code="identity_not_configured",
        )
    if not body.user_hash:
        raise NotAuthenticated("user_id needs its user_hash", code="invalid_user_hash")
    secret = widget.config.identity_secret.get_secret_value()
    email, phone = body.email or None, body.phone or None
    if (email or phone) and verify_user_hash(
        secret, body.user_id, body.user_hash, email=email, phone=phone
    ):
        verified = True  # the site signed the email and phone too: they link contacts
    elif verify_user_hash(secret, body.user_id, body.user_hash):
        verified = False  # only the id is vouched for; the rest stays a claim
    else:
        raise NotAuthenticated(
            "user_hash is not the HMAC-SHA256 of this user_id under the inbox's identity secret",
            code="invalid_user_hash",
        )
    return VisitorClaims(
        workspace_id=widget.workspace_id,
        inbox_id=widget.id,
        identity=f"user:{body.user_id}",
        issued_at=now,
        name=body.name or None,
        email=email,
        phone=phone,
        verified=verified,
    )


def _session_claims(body: SessionIn, widget: WidgetInbox, secret_key: str) -> VisitorClaims:
    now = int(time.time())
    if body.user_id is not None:
        return _identified(body, widget, now)
    if body.user_hash is not None:
        raise InvalidInput("user_hash needs the user_id it signs")
    current = None
    if body.visitor_token:
        try:
            current = read_token(secret_key, body.visitor_token, inbox_id=widget.id)
        except InvalidVisitorToken:
            current = None  # stale or foreign: this browser starts over as a new visitor
    # A signed-in customer's token is not reused once the site stops vouching (sign-out).
    if current is None or current.identified:
        current = VisitorClaims(
            widget.workspace_id, widget.id, f"visitor:{uuid.uuid4().hex}", issued_at=now
        )
    return VisitorClaims(
        workspace_id=widget.workspace_id,
        inbox_id=widget.id,
        identity=current.identity,
        issued_at=now,
        name=body.name or current.name,
        email=body.email or current.email,
        phone=body.phone or current.phone,
    )


def visitor_of(request: Request, context: Context, widget: WidgetInbox) -> VisitorClaims:
    """The bearer's claims: a token signed by us for this inbox, still valid; else 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidVisitorToken("send the visitor token: 'Authorization: Bearer <token>'")
    claims = read_token(context.settings.effective_secret_key, token.strip(), inbox_id=widget.id)
    if claims.workspace_id != widget.workspace_id:
        raise InvalidVisitorToken("the visitor token belongs to another inbox")
    return claims


@router.post("/widget/{inbox_id}/session", response_model=SessionOut)
async def start_session(
    inbox_id: Id, body: SessionIn, request: Request, context: Context
) -> SessionOut:
    """A visitor token (new, renewed or identified), the widget's look and the history."""
    widget = await open_widget(request, context, inbox_id)
    await take_turn(
        widget_limits(context).sessions_per_address,
        client_address(request),
        "widget sessions from this address",
    )
    claims = _session_claims(body, widget, context.settings.effective_secret_key)
    async with context.db.read_session() as session:
        history = await visitor_history(session, claims)
    config = widget.config
    return SessionOut(
        visitor_token=issue_token(context.settings.effective_secret_key, claims),
        identified=claims.identified,
        inbox=WidgetLook(title=config.title, color=config.color, greeting=config.greeting),
        messages=[visitor_message(message, claims) for message in history],
    )


@router.post("/widget/{inbox_id}/messages", response_model=VisitorMessage, status_code=201)
async def send_message(
    inbox_id: Id, body: VisitorMessageIn, request: Request, context: Context
) -> VisitorMessage:
    """Store the visitor's message in their thread, exactly like a channel's webhook."""
    widget = await open_widget(request, context, inbox_id)
    visitor = visitor_of(request, context, widget)
    if not body.text.strip():
        raise InvalidInput("a message needs text", details={"field": "text"})
    limits = widget_limits(context)
    await take_turn(limits.messages_per_visitor, f"{widget.id}:{visitor.identity}", "messages")
    await take_turn(
        limits.messages_per_address, client_address(request), "messages from this address"
    )
    inbound = InboundMessage(
        sender=sender_of(visitor),
        text=body.text,
        external_id=external_id_for(visitor, body.client_message_id),
    )
    result = await ingest(context.db, widget.id, [inbound])
    return visitor_message(result.recorded[0].message, visitor)


@router.get("/widget/{inbox_id}/messages", response_model=list[VisitorMessage])
async def history(inbox_id: Id, request: Request, context: Context) -> list[VisitorMessage]:
    """The visitor's last 100 public messages on this inbox, oldest first; never notes."""
    visitor = visitor_of(request, context, await open_widget(request, context, inbox_id))
    async with context.db.read_session() as session:
        messages = await visitor_history(session, visitor)
    return [visitor_message(message, visitor) for message in messages]


@router.options("/widget/{inbox_id}/session", include_in_schema=False)
@router.options("/widget/{inbox_id}/messages", include_in_schema=False)
async def preflight(inbox_id: Id, request: Request, context: Context) -> Response:
    """The CORS preflight; ``WidgetRoute`` adds the allowed origin's headers."""
    await open_widget(request, context, inbox_id)
    return Response(status_code=204)


router.add_api_websocket_route("/widget/{inbox_id}/ws", widget_socket)


@cache
def _script() -> tuple[bytes, str]:
    body = files("onethread.channels").joinpath("static/widget.js").read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@script_router.get("/widget.js", include_in_schema=False)
async def widget_script(request: Request) -> Response:
    """The embeddable script; revalidated every few minutes so a deploy reaches sites soon."""
    body, etag = _script()
    headers = {
        "Cache-Control": "public, max-age=300, stale-while-revalidate=86400",
        "ETag": etag,
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


PREVIEW_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Web chat preview</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem; color: #1f2937">
<h1>Web chat preview</h1>
<p>This page embeds the widget of inbox {inbox_id}, as a customer's site would:</p>
<pre>&lt;script src="{script_url}" data-inbox="{inbox_id}" async&gt;&lt;/script&gt;</pre>
<p>Open the bubble in the corner and write: the message lands in the inbox.</p>
<script src="{script_url}" data-inbox="{inbox_id}" async></script>
</body></html>
"""


@script_router.get("/widget/preview/{inbox_id}", include_in_schema=False)
async def widget_preview(inbox_id: Id, context: Context) -> HTMLResponse:
    """A page on onethread's own origin that embeds the widget, to try an inbox out."""
    await load_widget_inbox(context, inbox_id)
    script_url = context.settings.public_path_url("/widget.js")
    return HTMLResponse(PREVIEW_PAGE.format(inbox_id=inbox_id, script_url=script_url))
