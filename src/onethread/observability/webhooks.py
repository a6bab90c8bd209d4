"""What became of a webhook, in the words of ``onethread_webhooks_received``."""

from __future__ import annotations

from onethread.channels.base import SignatureInvalid
from onethread.channels.ingest import IngestResult
from onethread.errors import InvalidInput, NotFound, RateLimited, Unavailable
from onethread.inboxes.models import ChannelKind

WEBHOOK_PATH_PREFIX = "/webhooks/"
TOO_LARGE = "too_large"

_CHANNELS = {kind.value for kind in ChannelKind}
_REFUSALS: tuple[tuple[type[Exception], str], ...] = (
    (SignatureInvalid, "bad_signature"),
    (InvalidInput, "malformed"),
    (NotFound, "unknown_inbox"),
    (RateLimited, "rate_limited"),
    (Unavailable, "unavailable"),
)


def channel_label(channel: str) -> str:
    """The path's channel, or ``unknown``: a label never takes a value a caller made up."""
    return channel if channel in _CHANNELS else "unknown"


def channel_of_path(path: str) -> str:
    """The channel label of a ``/webhooks/{channel}/{inbox_id}`` path."""
    return channel_label(path.removeprefix(WEBHOOK_PATH_PREFIX).partition("/")[0])


def refusal_outcome(exc: Exception) -> str | None:
    """The outcome of a webhook the route refused; None for a body too large, which the
    body limit answers (``api/body_limit.py`` raises its 413 out of ``receive`` when a
    streamed body passes the limit) and the request middleware counts as ``too_large``."""
    if getattr(exc, "status_code", None) == 413:
        return None
    for kind, outcome in _REFUSALS:
        if isinstance(exc, kind):
            return outcome
    return "error"


def ingest_outcome(result: IngestResult) -> str:
    """accepted (a message stored), duplicate (only ones seen before), status, echo, ignored."""
    if result.stored:
        return "accepted"
    if result.duplicates:
        return "duplicate"
    if result.statuses_applied or result.statuses_unmatched:
        return "status"
    if result.echoes:
        return "echo"
    return "ignored"
