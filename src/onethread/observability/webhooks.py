"""What became of a webhook, in the words of ``onethread_webhooks_received``."""

from __future__ import annotations

from onethread.channels.base import SignatureInvalid
from onethread.channels.ingest import IngestResult
from onethread.errors import InvalidInput, NotFound, PayloadTooLarge, RateLimited, Unavailable
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
    """The outcome of a refused webhook; None for one too large.

    Every 413 of a webhook is counted by the request middleware, which also sees those
    refused by the body limit before the route runs.
    """
    if isinstance(exc, PayloadTooLarge):
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
