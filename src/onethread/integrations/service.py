"""Reading subscriptions and their delivery log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.access import get_in_workspace
from onethread.errors import NotFound
from onethread.integrations.models import WebhookDelivery, WebhookSubscription


async def access_subscription(
    session: AsyncSession, workspace_id: int, subscription_id: int
) -> WebhookSubscription:
    return await get_in_workspace(
        session, WebhookSubscription, workspace_id, subscription_id, "webhook"
    )


async def list_subscriptions(session: AsyncSession, workspace_id: int) -> list[WebhookSubscription]:
    query = (
        select(WebhookSubscription)
        .where(WebhookSubscription.workspace_id == workspace_id)
        .order_by(WebhookSubscription.id)
    )
    return list(await session.scalars(query))


async def access_delivery(
    session: AsyncSession, subscription: WebhookSubscription, delivery_id: int
) -> WebhookDelivery:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(f"delivery {delivery_id} not found")
    return delivery


async def list_deliveries(
    session: AsyncSession,
    subscription: WebhookSubscription,
    *,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """Newest first; ``before_id`` pages on."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return list(await session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))
