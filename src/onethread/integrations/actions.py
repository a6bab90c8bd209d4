"""Writing subscriptions (each change with its audit event), redeliveries and pings."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.types import utcnow
from onethread.errors import Conflict, InvalidInput
from onethread.events.log import append_event
from onethread.events.types import EventType
from onethread.inboxes.secrets import SecretBox
from onethread.integrations.catalog import PING, internal_types, unknown_names
from onethread.integrations.enqueue import delivery_job
from onethread.integrations.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionEvent,
)
from onethread.integrations.payloads import render_body
from onethread.integrations.signing import new_secret
from onethread.outbox.models import Job


def _check_event_types(event_types: list[str]) -> list[str]:
    if unknown := unknown_names(event_types):
        raise InvalidInput(
            f"unknown event types: {', '.join(unknown)}", details={"unknown": unknown}
        )
    if not event_types:
        raise InvalidInput("subscribe to at least one event type")
    return sorted(set(event_types))


async def _set_event_types(
    session: AsyncSession, subscription: WebhookSubscription, event_types: list[str]
) -> None:
    subscription.event_types = _check_event_types(event_types)
    await session.execute(
        delete(WebhookSubscriptionEvent).where(
            WebhookSubscriptionEvent.subscription_id == subscription.id
        )
    )
    session.add_all(
        WebhookSubscriptionEvent(
            subscription_id=subscription.id,
            event_type=internal,
            workspace_id=subscription.workspace_id,
        )
        for internal in sorted(internal_types(subscription.event_types))
    )


def _audit(
    session: AsyncSession, subscription: WebhookSubscription, by_agent_id: int, change: str
) -> None:
    append_event(
        session,
        subscription.workspace_id,
        EventType.WEBHOOK_DELETED if change == "deleted" else EventType.WEBHOOK_SAVED,
        agent_id=by_agent_id,
        # Not the URL: every agent reads the event log, and URLs may carry a receiver's token.
        data={"id": subscription.id, "change": change},
    )


async def do_create_subscription(
    session: AsyncSession,
    box: SecretBox,
    workspace_id: int,
    *,
    url: str,
    description: str,
    event_types: list[str],
    active: bool,
    by_agent_id: int,
) -> tuple[WebhookSubscription, str]:
    """The subscription and its signing secret, which is shown this once."""
    secret = new_secret()
    now = utcnow()
    subscription = WebhookSubscription(
        workspace_id=workspace_id,
        url=url,
        description=description,
        event_types=_check_event_types(event_types),
        active=active,
        secret_sealed=box.seal({"secret": secret}),
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    await _set_event_types(session, subscription, event_types)
    _audit(session, subscription, by_agent_id, "created")
    return subscription, secret


async def do_update_subscription(
    session: AsyncSession,
    subscription: WebhookSubscription,
    *,
    url: str | None,
    description: str | None,
    event_types: list[str] | None,
    active: bool | None,
    by_agent_id: int,
) -> WebhookSubscription:
    if url is not None:
        subscription.url = url
    if description is not None:
        subscription.description = description
    if event_types is not None:
        await _set_event_types(session, subscription, event_types)
    if active is not None:
        subscription.active = active
        if active:
            subscription.disabled_reason = None
    subscription.updated_at = utcnow()
    _audit(session, subscription, by_agent_id, "updated")
    return subscription


async def do_rotate_secret(
    session: AsyncSession, box: SecretBox, subscription: WebhookSubscription, *, by_agent_id: int
) -> str:
    """A new signing secret, effective for every request from now on (retries included)."""
    secret = new_secret()
    subscription.secret_sealed = box.seal({"secret": secret})
    subscription.updated_at = utcnow()
    _audit(session, subscription, by_agent_id, "secret_rotated")
    return secret


async def do_delete_subscription(
    session: AsyncSession, subscription: WebhookSubscription, *, by_agent_id: int
) -> None:
    _audit(session, subscription, by_agent_id, "deleted")
    await session.delete(subscription)


def _enqueue(session: AsyncSession, delivery: WebhookDelivery) -> None:
    session.add(Job(**delivery_job(delivery.id, delivery.workspace_id)))


def do_redeliver(session: AsyncSession, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same body again, under the same delivery id (receivers dedupe on it)."""
    if delivery.status == DeliveryStatus.QUEUED.value:
        raise Conflict(f"delivery {delivery.id} is already queued")
    delivery.status = DeliveryStatus.QUEUED.value
    delivery.delivered_at = None
    _enqueue(session, delivery)
    return delivery


async def do_send_ping(session: AsyncSession, subscription: WebhookSubscription) -> WebhookDelivery:
    """A ``ping`` delivery to check the receiver and its signature check."""
    delivery = WebhookDelivery(
        workspace_id=subscription.workspace_id,
        subscription_id=subscription.id,
        event_id=None,
        event_type=PING,
        status=DeliveryStatus.QUEUED.value,
        attempts=0,
        created_at=utcnow(),
    )
    session.add(delivery)
    await session.flush()
    delivery.request_body = await render_body(session, delivery)
    _enqueue(session, delivery)
    return delivery
