"""The ``webhook.deliver`` job: sign, POST, record the outcome in the delivery log.

2xx: delivered. 410 Gone: the receiver asked to stop: the subscription is disabled and the
delivery failed. Anything else (another status, a timeout, a refused connection): the
job fails and the queue retries it with backoff; after the last attempt the delivery is
``failed``. Redirects are never followed (a 3xx is a failure like any other status).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.errors import PermanentFailure
from onethread.inboxes.secrets import SecretBox
from onethread.integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from onethread.integrations.payloads import render_body
from onethread.integrations.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    sign_now,
)
from onethread.integrations.targets import TargetRefused, check_resolved, pinned
from onethread.settings import Settings

TIMEOUT_SECONDS = 10.0
GONE = 410


@dataclass
class _Request:
    url: str
    secret: str
    body: str
    event_type: str


@dataclass
class _Outcome:
    status: int | None
    error: str | None
    elapsed_ms: int
    refused: bool = False  # a private address: retrying cannot help


async def _prepare(db: Database, secrets: SecretBox, delivery_id: int) -> _Request | None:
    """The request to send, rendering the body at the first attempt; None: nothing to send."""
    async with db.session() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status == DeliveryStatus.DELIVERED.value:
            return None  # deleted, or a duplicate run of a delivered job
        subscription = await session.get(WebhookSubscription, delivery.subscription_id)
        if subscription is None or not subscription.active:
            delivery.status = DeliveryStatus.FAILED.value
            delivery.last_error = "the subscription is disabled"
            return None
        if delivery.request_body is None:
            delivery.request_body = await render_body(session, delivery)
        secret = secrets.open(subscription.secret_sealed)["secret"]
        return _Request(subscription.url, secret, delivery.request_body, delivery.event_type)


async def _excerpt(response: httpx.Response, limit: int = 500) -> str:
    """The start of an error answer, without reading a body of any size."""
    read = b""
    async for chunk in response.aiter_bytes():
        read += chunk
        if len(read) >= limit:
            break
    return read[:limit].decode(errors="replace")


async def _post(
    http: httpx.AsyncClient, allow_private: bool, delivery_id: int, request: _Request
) -> _Outcome:
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    refused = False
    try:
        # One deadline for it all: httpx's timeout is per phase, and a receiver could drip.
        async with asyncio.timeout(TIMEOUT_SECONDS):
            address = await check_resolved(request.url, allow_private=allow_private)
            url, host, extensions = pinned(request.url, address)
            async with http.stream(
                "POST",
                url,
                content=request.body.encode(),
                extensions=extensions,
                headers={
                    **host,
                    "Content-Type": "application/json",
                    "User-Agent": "onethread-webhooks",
                    SIGNATURE_HEADER: sign_now(request.secret, request.body),
                    EVENT_HEADER: request.event_type,
                    DELIVERY_HEADER: str(delivery_id),
                },
                timeout=TIMEOUT_SECONDS,
                follow_redirects=False,
            ) as response:
                status = response.status_code
                if not response.is_success:
                    error = f"HTTP {status}: {await _excerpt(response)}"
    except TargetRefused as exc:
        error, refused = str(exc), True
    except (TimeoutError, httpx.TimeoutException):
        error = f"no answer within {TIMEOUT_SECONDS:g} s"
    except (httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return _Outcome(status, error, round((time.perf_counter() - started) * 1000), refused)


async def _record(db: Database, delivery_id: int, outcome: _Outcome, *, last_attempt: bool) -> None:
    async with db.session() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return
        delivery.attempts += 1
        delivery.last_attempt_at = utcnow()
        delivery.response_status = outcome.status
        delivery.response_ms = outcome.elapsed_ms
        delivery.last_error = outcome.error
        if outcome.error is None:
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.delivered_at = delivery.last_attempt_at
        elif last_attempt or outcome.status == GONE:
            delivery.status = DeliveryStatus.FAILED.value
        if outcome.status == GONE:
            subscription = await session.get(WebhookSubscription, delivery.subscription_id)
            if subscription is not None:
                subscription.active = False
                subscription.disabled_reason = f"the receiver answered 410 Gone to {delivery_id}"
                subscription.updated_at = utcnow()


async def deliver_webhook(
    db: Database,
    secrets: SecretBox,
    settings: Settings,
    http: httpx.AsyncClient,
    delivery_id: int,
    *,
    last_attempt: bool,
) -> None:
    """One attempt; raises for the queue to retry (or, permanent, to stop)."""
    request = await _prepare(db, secrets, delivery_id)
    if request is None:
        return
    outcome = await _post(http, settings.webhook_allow_private, delivery_id, request)
    last_attempt = last_attempt or outcome.refused
    await _record(db, delivery_id, outcome, last_attempt=last_attempt)
    if outcome.error is None:
        return
    if outcome.status == GONE or outcome.refused:
        raise PermanentFailure(outcome.error)
    raise RuntimeError(f"webhook delivery {delivery_id}: {outcome.error}")
