"""Deliveries enqueued in the transaction that writes their event: nothing to lose, no cache.

A ``before_commit`` session hook looks at the events the unit of work appended
(``events/log.py`` keeps them in ``session.info`` until after commit). When some are of a
subscribable type, one ``INSERT … SELECT`` joins them to the active subscriptions of their
workspace, and one more statement queues a ``webhook.deliver`` job per delivery created.
The subscriptions are read by the database in the same transaction, so a subscription
created by another process counts at once.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, case, insert, literal, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from onethread.db.database import PENDING_EVENTS_KEY
from onethread.db.types import UTCDateTime, utcnow
from onethread.events.models import Event
from onethread.integrations.catalog import PUBLIC_NAME, subscribable
from onethread.integrations.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionEvent,
)
from onethread.outbox.models import Job, JobStatus

WEBHOOK_DELIVER = "webhook.deliver"
MAX_ATTEMPTS = 8
CHUNK = 1000

_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_JOBS = cast(Table, Job.__table__)


def _fields(row: Event | dict[str, Any]) -> tuple[int | None, str, dict[str, Any] | None]:
    if isinstance(row, dict):
        return row.get("id"), row["type"], row.get("data")
    return row.id, row.type, row.data


def _subscribable_ids(session: Session) -> list[int]:
    pending: list[Event | dict[str, Any]] = session.info.get(PENDING_EVENTS_KEY) or []
    wanted = [row for row in pending if subscribable(*_fields(row)[1:])]
    if not wanted:
        return []
    if any(_fields(row)[0] is None for row in wanted):
        session.flush()  # events added through the ORM get their ids
    return [event_id for row in wanted if (event_id := _fields(row)[0]) is not None]


def _insert_deliveries() -> Any:
    """Built once: one row per (event, active subscription of its workspace to its type)."""
    matched = (
        select(
            Event.workspace_id,
            WebhookSubscription.id,
            Event.id,
            case(PUBLIC_NAME, value=Event.type, else_=Event.type),
            literal(DeliveryStatus.QUEUED.value),
            literal(0),
            bindparam("now", type_=UTCDateTime()),
        )
        .join(
            WebhookSubscriptionEvent,
            (WebhookSubscriptionEvent.workspace_id == Event.workspace_id)
            & (WebhookSubscriptionEvent.event_type == Event.type),
        )
        .join(
            WebhookSubscription,
            (WebhookSubscription.id == WebhookSubscriptionEvent.subscription_id)
            & WebhookSubscription.active.is_(True),
        )
        .where(Event.id.in_(bindparam("event_ids", expanding=True)))
    )
    columns = [
        "workspace_id",
        "subscription_id",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "created_at",
    ]
    return (
        insert(_DELIVERIES)
        .from_select(columns, matched)
        .returning(_DELIVERIES.c.id, _DELIVERIES.c.workspace_id)
    )


_INSERT_DELIVERIES = _insert_deliveries()
_INSERT_JOBS = insert(_JOBS)


def delivery_job(delivery_id: int, workspace_id: int) -> dict[str, Any]:
    """The values of a ``webhook.deliver`` job row, runnable now."""
    now = utcnow()
    return {
        "workspace_id": workspace_id,
        "kind": WEBHOOK_DELIVER,
        # No request id: in a group commit this hook runs once for many requests' events.
        "payload": {"delivery_id": delivery_id},
        "status": JobStatus.QUEUED.value,
        "attempts": 0,
        "max_attempts": MAX_ATTEMPTS,
        "run_at": now,
        "created_at": now,
    }


def _enqueue_deliveries(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer commit will do it
        return
    event_ids = _subscribable_ids(session)
    if not event_ids:
        return
    connection = session.connection()
    now = utcnow()
    # In slices: a bulk import appends 100,000 events, past any driver's bound-value limit.
    for start in range(0, len(event_ids), CHUNK):
        chunk = event_ids[start : start + CHUNK]
        created = connection.execute(_INSERT_DELIVERIES, {"event_ids": chunk, "now": now}).all()
        if created:
            connection.execute(
                _INSERT_JOBS, [delivery_job(delivery_id, ws) for delivery_id, ws in created]
            )


def install_webhook_enqueue() -> None:
    """Register the hook once per process (idempotent), beside publish-after-commit."""
    if not sa_event.contains(Session, "before_commit", _enqueue_deliveries):
        sa_event.listen(Session, "before_commit", _enqueue_deliveries)
