"""``/webhooks/{channel}/{inbox_id}``: one URL per inbox, checked before anything is read.

POST: the signature over the exact raw bytes (401 and nothing stored if wrong), then
the adapter's parse (400 with the reason if unreadable), then one commit of everything
in the request, then the 200 the provider expects. GET: Meta's verification handshake.

POST is the hottest route of the server, so it is a plain Starlette route: FastAPI's
dependency solving (and the thread hop of a sync dependency) cost more per webhook
than the signature and the parse together (docs/benchmarks.md, "Webhook ingest").
Errors still go through the app's handlers, in the same JSON shape.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.routing import Route

from onethread.api.context import AppContext
from onethread.api.deps import Context
from onethread.channels.base import SignatureInvalid, WebhookRequest
from onethread.channels.ingest import ingest
from onethread.channels.registry import adapter_for
from onethread.channels.voice import answer_call
from onethread.db.types import MAX_ID, Id
from onethread.errors import InvalidInput, NotFound
from onethread.inboxes.channel_config import ChannelConfig
from onethread.inboxes.models import ChannelKind, Inbox
from onethread.inboxes.service import INBOX_CACHE_KEY, InboxConfigCache
from onethread.observability.metrics import count_webhook
from onethread.observability.webhooks import channel_label, ingest_outcome, refusal_outcome

router = APIRouter(tags=["webhooks"])

# Meta sends webhooks of up to 3 MB (REFERENCE.md §1.3); a little room for the envelope.
MAX_WEBHOOK_BYTES = 3 * 1024 * 1024 + 256 * 1024
WEBHOOK_CHANNELS = {kind for kind in ChannelKind if kind is not ChannelKind.WEBCHAT}


def _inbox_cache(context: AppContext) -> InboxConfigCache:
    cache = context.extras.get(INBOX_CACHE_KEY)
    if not isinstance(cache, InboxConfigCache):
        cache = context.extras[INBOX_CACHE_KEY] = InboxConfigCache(context.secrets)
    return cache


async def _inbox(
    context: AppContext, channel: str, inbox_id: int, *, fresh: bool = False
) -> tuple[Inbox, ChannelConfig, bool]:
    """The inbox, its decrypted config, and whether both came from the per-process cache.

    A voice call's flow reads more of the config than its signature (languages, the
    transfer number), so voice inboxes are always read afresh.
    """
    fresh = fresh or channel == ChannelKind.TWILIO_VOICE.value
    entry, cached = await _inbox_cache(context).get(context.db, inbox_id, fresh=fresh)
    if (
        entry is None
        or entry.inbox.channel != channel
        or ChannelKind(channel) not in WEBHOOK_CHANNELS
    ):
        raise NotFound(f"no {channel} inbox {inbox_id}")
    return entry.inbox, entry.config, cached


async def read_webhook(request: Request, context: AppContext) -> WebhookRequest:
    """The request as the provider sent it: the public URL it called and the raw body.

    The body is at most ``MAX_WEBHOOK_BYTES``: ``api/body_limit.py`` refuses a larger one
    with 413 before or while it is read."""
    body = await request.body()
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = context.settings.public_path_url(request.url.path) + (f"?{query}" if query else "")
    return WebhookRequest(
        method=request.method,
        url=url,
        headers={name.lower(): value for name, value in request.headers.items()},
        query=dict(request.query_params),
        body=body,
    )


@router.get("/webhooks/{channel}/{inbox_id}", response_class=PlainTextResponse)
async def handshake(channel: str, inbox_id: Id, request: Request, context: Context) -> Response:
    inbox, config, _ = await _inbox(context, channel, inbox_id, fresh=True)
    webhook = await read_webhook(request, context)
    challenge = adapter_for(inbox.channel).handshake(config, webhook)
    if challenge is None:
        return PlainTextResponse("this channel has no verification handshake", status_code=405)
    return PlainTextResponse(challenge)


def _inbox_id(raw: str) -> int:
    """The path's inbox id, checked as FastAPI would check an ``Id`` parameter."""
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID:
        return int(raw)
    reason = f"an id is a whole number from 1 to {MAX_ID}"
    raise InvalidInput(
        f"path.inbox_id: {reason}", details=[{"field": "path.inbox_id", "reason": reason}]
    )


async def receive(request: Request) -> Response:
    try:
        return await _receive(request)
    except Exception as exc:
        outcome = refusal_outcome(exc)
        if outcome is not None:
            count_webhook(channel_label(request.path_params["channel"]), outcome)
        raise


async def _receive(request: Request) -> Response:
    channel: str = request.path_params["channel"]
    inbox_id = _inbox_id(request.path_params["inbox_id"])
    context: AppContext = request.app.state.context
    inbox, config, cached = await _inbox(context, channel, inbox_id)
    webhook = await read_webhook(request, context)
    adapter = adapter_for(inbox.channel)
    try:
        adapter.verify(config, webhook)
    except SignatureInvalid:
        if not cached:
            raise
        # The secret may have changed in another process since it was cached: ask again.
        inbox, config, _ = await _inbox(context, channel, inbox_id, fresh=True)
        adapter.verify(config, webhook)
    if inbox.channel == ChannelKind.TWILIO_VOICE.value:
        response = await answer_call(context, inbox, config, webhook)
        count_webhook(inbox.channel, "call")
        return response
    items = adapter.parse(config, webhook)
    result = await ingest(context.db, inbox.id, items)
    count_webhook(inbox.channel, ingest_outcome(result))
    body, media_type = adapter.acknowledgement()
    return Response(content=body, media_type=media_type)


router.routes.append(Route("/webhooks/{channel}/{inbox_id}", receive, methods=["POST"]))
