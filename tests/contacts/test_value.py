"""Customer value attributes: the schema, the stored form, and setting them through the API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from onethread.contacts.value import stored_value, validated_attributes
from onethread.errors import InvalidInput
from onethread.events.models import Event
from tests.conftest import Harness
from tests.factories import agent, workspace


@pytest.mark.parametrize(
    ("name", "raw", "stored"),
    [
        ("customer_since", "2024-02-29", "2024-02-29"),
        ("churned_at", " 2026-10-31 ", "2026-10-31"),
        ("plan", "  Business ", "Business"),
        ("monthly_revenue", "249.00", 249),
        ("monthly_revenue", 49.5, 49.5),
        ("lifetime_revenue", "1234.56", 1234.56),
        ("lifetime_revenue", 0, 0),
        ("vip", True, True),
        ("vip", "yes", True),
        ("vip", "FALSE", False),
        ("vip", "0", False),
    ],
)
def test_values_are_stored_in_one_form(name: str, raw: Any, stored: Any) -> None:
    assert stored_value(name, raw) == stored
    assert type(stored_value(name, raw)) is type(stored)


@pytest.mark.parametrize(
    ("name", "raw", "reason"),
    [
        ("customer_since", "2026-02-30", "not a date that exists"),
        ("customer_since", "30/01/2026", "YYYY-MM-DD"),
        ("churned_at", 20260101, "YYYY-MM-DD"),
        ("monthly_revenue", "-5", "negative"),
        ("monthly_revenue", -0.01, "negative"),
        ("monthly_revenue", "12,50", "not an amount"),
        ("lifetime_revenue", "NaN", "not an amount"),
        ("lifetime_revenue", True, "not an amount"),
        ("lifetime_revenue", "1e13", "too large"),
        ("plan", "", "not a plan name"),
        ("plan", 3, "not a plan name"),
        ("vip", "maybe", "not true or false"),
        ("vip", 1, "not true or false"),
    ],
)
def test_bad_values_say_what_is_wrong(name: str, raw: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        stored_value(name, raw)


def test_churned_before_customer_since_is_refused_against_the_stored_values() -> None:
    current = {"customer_since": "2024-05-01", "notes": "old"}
    with pytest.raises(InvalidInput) as refused:
        validated_attributes(current, {"churned_at": "2024-04-30"})
    assert refused.value.details["field"] == "attributes.churned_at"
    assert validated_attributes(current, {"churned_at": "2024-05-01"}) == {
        "churned_at": "2024-05-01"
    }
    # custom attributes pass untouched; None still means "remove"
    assert validated_attributes({}, {"tier": 3, "churned_at": None}) == {
        "tier": 3,
        "churned_at": None,
    }
    # an old free-form value that is not touched is not checked
    assert validated_attributes({"customer_since": "last year"}, {"plan": "Team"}) == {
        "plan": "Team"
    }


async def test_the_api_sets_validates_and_names_the_field(harness: Harness) -> None:
    admin = await workspace(harness)
    contact = await admin.ok(
        "POST",
        "/contacts",
        status=201,
        json={"name": "Dana", "attributes": {"customer_since": "2023-01-15", "crm": "x1"}},
    )
    path = f"/contacts/{contact['id']}"
    body = {
        "plan": "Business",
        "monthly_revenue": "249.00",
        "lifetime_revenue": 7470.5,
        "vip": True,
    }
    updated = await admin.ok("PATCH", path, json={"attributes": body})
    assert updated["attributes"] == {
        "customer_since": "2023-01-15",
        "crm": "x1",
        "plan": "Business",
        "monthly_revenue": 249,
        "lifetime_revenue": 7470.5,
        "vip": True,
    }
    for bad, field in (
        ({"monthly_revenue": -1}, "attributes.monthly_revenue"),
        ({"customer_since": "2023-02-29"}, "attributes.customer_since"),
        ({"churned_at": "2022-12-31"}, "attributes.churned_at"),
        ({"vip": "sometimes"}, "attributes.vip"),
    ):
        response = await admin.patch(path, json={"attributes": bad})
        assert response.status_code == 400, bad
        error = response.json()["error"]
        assert error["details"]["field"] == field
        assert field in error["message"]
    refused = await admin.post("/contacts", json={"attributes": {"lifetime_revenue": "-3"}})
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["field"] == "attributes.lifetime_revenue"
    # nothing of the refused patches was written
    assert (await admin.ok("GET", path))["attributes"] == updated["attributes"]

    # a plain agent may set them too; churned_at then un-churned with null
    plain = await agent(admin)
    churned = await plain.ok("PATCH", path, json={"attributes": {"churned_at": "2026-10-31"}})
    assert churned["attributes"]["churned_at"] == "2026-10-31"
    back = await plain.ok("PATCH", path, json={"attributes": {"churned_at": None}})
    assert "churned_at" not in back["attributes"]

    async with harness.db.read_session() as session:
        events = (
            await session.scalars(
                select(Event)
                .where(Event.contact_id == contact["id"], Event.type == "contact.updated")
                .order_by(Event.id)
            )
        ).all()
    assert [event.data for event in events] == [
        {
            "changed": ["attributes"],
            "attributes": ["lifetime_revenue", "monthly_revenue", "plan", "vip"],
        },
        {"changed": ["attributes"], "attributes": ["churned_at"]},
        {"changed": ["attributes"], "attributes": ["churned_at"]},
    ]
