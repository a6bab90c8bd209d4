"""Customer value refreshed by an action: ``updates_contact`` maps a result's fields to
contact attributes, validated as through the API, with a ``contact.updated`` event.

End to end on the demo playbook and the demo billing API over real HTTP, plus the
refusal of a value the schema rejects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from onethread.assistant.actions_runner import contact_updates
from onethread.assistant.decision import ActionRun, Decision, Outcome, Reason
from onethread.assistant.service import Assistant
from onethread.conversations.models import Conversation
from onethread.demo.billing_api import create_billing_app
from onethread.demo.playbook import BILLING_TOKEN_SECRET, demo_playbook
from onethread.events.models import Event
from onethread.jobs.assistant_turn import write_decision
from onethread.jobs.context import JobContext
from onethread.playbook.schemas import Playbook
from tests.assistant.test_turns import Shop
from tests.channels.conftest import drain
from tests.conftest import Harness
from tests.factories import inbound, inbox, workspace
from tests.fakes.asgi_loopback import ServedApp

TOKEN = "refresh-billing-token"
REFRESH = {"plan": "plan", "monthly_revenue": "price", "churned_at": "canceled_on"}


@pytest.fixture(scope="module")
def billing() -> Iterator[ServedApp]:
    with ServedApp(create_billing_app(TOKEN)) as served:
        yield served


@pytest.fixture
async def shop(harness: Harness, billing: ServedApp) -> AsyncIterator[Shop]:
    admin = await workspace(harness)
    playbook = demo_playbook(billing.base_url).model_dump(mode="json")
    for action in playbook["actions"]:
        if action["name"] == "subscription_status":
            action["updates_contact"] = REFRESH
    for team in {t["team"] for t in playbook["topics"] if t.get("team")}:
        await admin.ok("POST", "/teams", 201, json={"name": team, "domain": "service"})
    await admin.ok("PUT", "/playbook", json=playbook)
    await admin.ok("PUT", "/playbook/secrets", json={"secrets": {BILLING_TOKEN_SECRET: TOKEN}})
    whatsapp = await inbox(admin, "whatsapp")
    async with httpx.AsyncClient(timeout=5) as http:
        context = JobContext(
            settings=harness.app_context.settings,
            db=harness.db,
            secrets=harness.app_context.secrets,
            http=http,
            assistant=Assistant(),
        )
        yield Shop(admin, whatsapp["id"], harness, context)


async def updated_events(harness: Harness, contact_id: int) -> list[dict[str, Any]]:
    async with harness.db.read_session() as session:
        rows = await session.scalars(
            select(Event.data)
            .where(Event.contact_id == contact_id, Event.type == "contact.updated")
            .order_by(Event.id)
        )
        return list(rows)


def test_the_mapping_reads_dotted_fields_and_keeps_nulls() -> None:
    result = {"plan": "Team", "billing": {"mrr": "49.00"}, "canceled_on": None}
    mapping = {"plan": "plan", "monthly_revenue": "billing.mrr", "churned_at": "canceled_on"}
    assert contact_updates(mapping, result) == {
        "plan": "Team",
        "monthly_revenue": "49.00",
        "churned_at": None,
    }
    assert contact_updates({"plan": "missing.field", "vip": "plan.deeper"}, result) == {}
    with pytest.raises(ValueError, match="not a field of the result"):
        Playbook.model_validate(
            {"actions": [{"name": "a", "url": "x", "updates_contact": {"plan": "a..b"}}]}
        )


async def test_an_answered_subscription_question_refreshes_the_contact(shop: Shop) -> None:
    first = await inbound(shop.admin, shop.inbox_id, "15550107", "hello")
    contact_id = first["contact_id"]
    await shop.admin.ok(
        "PATCH",
        f"/contacts/{contact_id}",
        json={"attributes": {"customer_id": "cus_KM8815", "plan": "Business"}},
    )
    await shop.admin.ok("POST", f"/conversations/{first['conversation_id']}/resolve")
    await drain(shop.harness, shop.context)
    await shop.admin.ok("PATCH", "/workspace", json={"settings": {"reopen_window_hours": 0}})

    conversation = await shop.says("15550107", "Is my subscription still active?")
    decisions = await shop.decisions()
    runs = [run for d in decisions for run in d["actions"] if run["outcome"] == "done"]
    assert [run["action"] for run in runs] == ["subscription_status"], decisions
    contact = await shop.admin.ok("GET", f"/contacts/{contact_id}")
    # Kwame's Team plan was canceled on 2026-10-31 in the demo's billing data
    assert contact["attributes"]["plan"] == "Team"
    assert contact["attributes"]["churned_at"] == "2026-10-31"
    assert isinstance(contact["attributes"]["monthly_revenue"], int | float)
    events = await updated_events(shop.harness, contact_id)
    assert events[-1] == {
        "changed": ["attributes"],
        "attributes": ["churned_at", "monthly_revenue", "plan"],
        "source": "action:subscription_status",
    }

    # asked again: the same values, so no new event
    await shop.admin.ok("POST", f"/conversations/{conversation['id']}/resolve")
    await shop.says("15550107", "Check the status of my subscription")
    assert len(await updated_events(shop.harness, contact_id)) == len(events)


async def test_a_value_the_schema_refuses_is_not_written(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "15550108", "hello")
    await admin.ok(
        "PATCH",
        f"/contacts/{first['contact_id']}",
        json={"attributes": {"customer_since": "2024-01-01", "plan": "Team"}},
    )
    before = await updated_events(harness, first["contact_id"])
    decision = Decision(
        Outcome.REPLY,
        Reason.ANSWERED,
        actions=[
            ActionRun(
                "billing_profile",
                "billing",
                "done",
                contact_updates={"plan": "Business", "monthly_revenue": "-20"},
            ),
            ActionRun(
                "churn_check",
                "billing",
                "done",
                contact_updates={"churned_at": "2023-12-31"},
            ),
        ],
    )
    async with harness.db.session() as session:
        conversation = await session.get(Conversation, first["conversation_id"])
        assert conversation is not None
        await write_decision(session, conversation, decision)
    contact = await admin.ok("GET", f"/contacts/{first['contact_id']}")
    assert contact["attributes"] == {"customer_since": "2024-01-01", "plan": "Team"}
    assert await updated_events(harness, first["contact_id"]) == before
