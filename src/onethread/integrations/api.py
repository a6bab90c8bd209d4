"""Outbound webhooks: admins subscribe URLs, read the delivery log, redeliver and ping."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from onethread.api.deps import AdminCaller, Context, ReadSession, WriteSession
from onethread.db.types import Id
from onethread.integrations import actions, service
from onethread.integrations.models import DeliveryStatus
from onethread.integrations.schemas import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookSecret,
    WebhookUpdate,
)
from onethread.integrations.targets import check_url

router = APIRouter(tags=["webhooks"])


@router.get("/webhooks", response_model=list[WebhookOut])
async def list_webhooks(caller: AdminCaller, session: ReadSession) -> list[WebhookOut]:
    found = await service.list_subscriptions(session, caller.workspace_id)
    return [WebhookOut.model_validate(subscription) for subscription in found]


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
async def create_webhook(
    body: WebhookCreate, caller: AdminCaller, session: WriteSession, context: Context
) -> WebhookCreated:
    url = check_url(body.url, allow_private=context.settings.webhook_allow_private)
    subscription, secret = await actions.do_create_subscription(
        session,
        context.secrets,
        caller.workspace_id,
        url=url,
        description=body.description,
        event_types=body.event_types,
        active=body.active,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return WebhookCreated(secret=secret, **WebhookOut.model_validate(subscription).model_dump())


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
async def get_webhook(webhook_id: Id, caller: AdminCaller, session: ReadSession) -> WebhookOut:
    subscription = await service.access_subscription(session, caller.workspace_id, webhook_id)
    return WebhookOut.model_validate(subscription)


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    webhook_id: Id,
    body: WebhookUpdate,
    caller: AdminCaller,
    session: WriteSession,
    context: Context,
) -> WebhookOut:
    subscription = await service.access_subscription(session, caller.workspace_id, webhook_id)
    allow_private = context.settings.webhook_allow_private
    await actions.do_update_subscription(
        session,
        subscription,
        url=check_url(body.url, allow_private=allow_private) if body.url is not None else None,
        description=body.description,
        event_types=body.event_types,
        active=body.active,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return WebhookOut.model_validate(subscription)


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: Id, caller: AdminCaller, session: WriteSession) -> Response:
    subscription = await service.access_subscription(session, caller.workspace_id, webhook_id)
    await actions.do_delete_subscription(session, subscription, by_agent_id=caller.agent.id)
    await session.commit()
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate_secret", response_model=WebhookSecret)
async def rotate_webhook_secret(
    webhook_id: Id, caller: AdminCaller, session: WriteSession, context: Context
) -> WebhookSecret:
    subscription = await service.access_subscription(session, caller.workspace_id, webhook_id)
    secret = await actions.do_rotate_secret(
        session, context.secrets, subscription, by_agent_id=caller.agent.id
    )
    await session.commit()
    return WebhookSecret(secret=secret)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_webhook_deliveries(
    webhook_id: Id,
    caller: AdminCaller,
    session: ReadSession,
    status: DeliveryStatus | None = None,
    before: Annotated[Id | None, Query(description="Deliveries older than this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    subscription = await service.access_subscription(session, caller.workspace_id, webhook_id)
    found = await service.list_deliveries(
        session,
        subscription,
        status=status.value if status else None,
        before_id=before,
        limit=limit + 1,
    )
    items = [DeliveryOut.model_validate(delivery) for delivery in found[:limit]]
    return DeliveryPage(items=items, next_before=items[-1].id if len(found) > limit else None)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=202,
)
async def redeliver_webhook(
    webhook_id: Id, delivery_id: Id, caller: AdminCaller, session: WriteSession
) -> DeliveryOut:
    subscription = await service.access_subscription(session, caller.workspace_id, webhook_id)
    delivery = await service.access_delivery(session, subscription, delivery_id)
    actions.do_redeliver(session, delivery)
    await session.commit()
    return DeliveryOut.model_validate(delivery)


@router.post("/webhooks/{webhook_id}/test", response_model=DeliveryOut, status_code=202)
async def ping_webhook(webhook_id: Id, caller: AdminCaller, session: WriteSession) -> DeliveryOut:
    subscription = await service.access_subscription(session, caller.workspace_id, webhook_id)
    delivery = await actions.do_send_ping(session, subscription)
    await session.commit()
    return DeliveryOut.model_validate(delivery)
