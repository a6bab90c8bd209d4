"""The customers' part of the projection: each contact's business attributes as columns.

Reading them with JSON extraction costs a full parse per contact and attribute on every
dashboard; contacts change through ``contact.*`` events, so they are folded like the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.models import Contact
from onethread.events.types import EventType
from onethread.reports.models import ReportCustomer

CUSTOMERS = cast(Table, ReportCustomer.__table__)
CONTACT_TYPES = (
    EventType.CONTACT_CREATED.value,
    EventType.CONTACT_UPDATED.value,
    EventType.CONTACT_MERGED.value,
)
CHUNK = 1000


def customer_row(
    contact_id: int, workspace_id: int, attributes: dict[str, Any]
) -> dict[str, Any] | None:
    """The row of a contact who is a customer (a valid ``customer_since``), else None."""
    since = _day(attributes.get("customer_since"))
    if since is None:
        return None
    plan = attributes.get("plan")
    return {
        "contact_id": contact_id,
        "workspace_id": workspace_id,
        "customer_since": since,
        "churned_at": _day(attributes.get("churned_at")),
        "plan": str(plan)[:100] if plan is not None else None,
        "monthly_revenue": _amount(attributes.get("monthly_revenue")),
        "lifetime_revenue": _amount(attributes.get("lifetime_revenue")),
    }


async def recompute_customers(
    session: AsyncSession, workspace_id: int, contact_ids: list[int]
) -> None:
    """Replace these contacts' customer rows by ones read from their attributes now."""
    for start in range(0, len(contact_ids), CHUNK):
        chunk = contact_ids[start : start + CHUNK]
        found = await session.execute(
            select(Contact.id, Contact.attributes).where(
                Contact.workspace_id == workspace_id,
                Contact.id.in_(chunk),
                Contact.merged_into_id.is_(None),
            )
        )
        rows = [
            row
            for contact_id, attributes in found
            if (row := customer_row(contact_id, workspace_id, attributes or {})) is not None
        ]
        # By id alone (the ids are this workspace's), so that SQLite uses the primary key.
        await session.execute(delete(CUSTOMERS).where(CUSTOMERS.c.contact_id.in_(chunk)))
        if rows:
            await session.execute(insert(CUSTOMERS), rows)


def _day(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
