"""The demo's hardest everyday message, end to end on the demo playbook and billing API.

"I was double-charged and the export button is broken": one reply with the exact
charges from the billing service (over real HTTP), the bug handed to Technical Support
with a summary note, and a customer who types someone else's order number learns
nothing about it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from onethread.assistant.service import Assistant
from onethread.demo.billing_api import create_billing_app
from onethread.demo.playbook import BILLING_TOKEN_SECRET, demo_playbook
from onethread.jobs.context import JobContext
from tests.assistant.test_turns import Shop, _ai_replies, _notes
from tests.channels.conftest import drain
from tests.conftest import Harness
from tests.factories import inbound, inbox, workspace
from tests.fakes.asgi_loopback import ServedApp

TOKEN = "flagship-billing-token"
TEAMS = {
    "Billing & Accounts": "service",
    "Technical Support": "support",
    "Customer Success": "service",
}


@pytest.fixture(scope="module")
def billing() -> Iterator[ServedApp]:
    with ServedApp(create_billing_app(TOKEN)) as served:
        yield served


@pytest.fixture
async def demo_shop(harness: Harness, billing: ServedApp) -> AsyncIterator[Shop]:
    admin = await workspace(harness)
    playbook = demo_playbook(billing.base_url).model_dump(mode="json")
    for team in {t["team"] for t in playbook["topics"] if t.get("team")}:
        await admin.ok(
            "POST", "/teams", 201, json={"name": team, "domain": TEAMS.get(team, "support")}
        )
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


async def _customer(shop: Shop, sender: str, customer_id: str) -> None:
    """A contact the business linked to its billing customer (a trusted attribute)."""
    first = await inbound(shop.admin, shop.inbox_id, sender, "hello")
    await shop.admin.ok(
        "PATCH",
        f"/contacts/{first['contact_id']}",
        json={"attributes": {"customer_id": customer_id}},
    )
    await shop.admin.ok("POST", f"/conversations/{first['conversation_id']}/resolve")
    # Its turn runs now, so that a test's latest decision is the one about its own message
    # (turns in one worker batch finish in any order).
    await drain(shop.harness, shop.context)


async def test_double_charge_and_broken_export_in_one_reply(demo_shop: Shop) -> None:
    await _customer(demo_shop, "15550101", "cus_NW1042")  # Dana, charged twice
    await demo_shop.admin.ok("PATCH", "/workspace", json={"settings": {"reopen_window_hours": 0}})
    conversation = await demo_shop.says(
        "15550101", "I was double-charged this month and the export button is broken"
    )
    messages = await demo_shop.messages(conversation["id"])
    [reply] = _ai_replies(messages)
    decision = (await demo_shop.decisions())[-1]
    assert decision["outcome"] == "partial", decision
    assert {t["name"] for t in decision["topics"]} >= {"billing_double_charge", "product_bug"}
    [run] = decision["actions"]
    assert (run["action"], run["outcome"]) == ("check_charges", "done")
    # The exact charges, as the billing service has them.
    assert "INV-2026-1107" in reply
    amounts = set(re.findall(r"\d+\.\d\d", reply))
    assert amounts
    assert amounts <= {fact for fact in run["facts"] if re.fullmatch(r"\d+\.\d\d", fact)}
    assert "Technical Support team, who will reply here" in reply
    # The bug part goes to Technical Support with everything the agent needs.
    assert conversation["handler"] == "human"
    teams = {t["name"]: t["id"] for t in await demo_shop.admin.ok("GET", "/teams")}
    assert conversation["team_id"] == teams["Technical Support"]
    [note] = _notes(messages)
    assert "handed off: " in note
    assert "a topic that always goes to a person" in note
    assert "Action check_charges: done" in note
    assert "INV-2026-1107" in note
    assert "Told the customer:" in note


async def test_someone_elses_order_number_gets_nothing_about_it(demo_shop: Shop) -> None:
    await _customer(demo_shop, "15550102", "cus_NW1042")  # Dana
    await demo_shop.admin.ok("PATCH", "/workspace", json={"settings": {"reopen_window_hours": 0}})
    # ORD-10455 belongs to Priya (cus_FL2211): pending hardware keys.
    conversation = await demo_shop.says("15550102", "where is my order ORD-10455?")
    [reply] = _ai_replies(await demo_shop.messages(conversation["id"]))
    assert "ORD-10455" not in reply or "couldn't find" in reply.lower()
    for detail in ("pending", "Hardware security key", "Priya", "Fernleaf"):
        assert detail.lower() not in reply.lower()
    [run] = (await demo_shop.decisions())[-1]["actions"]
    assert run["outcome"] == "not_found"


async def test_an_unverified_contact_is_handed_off_not_answered(demo_shop: Shop) -> None:
    conversation = await demo_shop.says("15550103", "I was charged twice for my subscription")
    decision: dict[str, Any] = (await demo_shop.decisions())[-1]
    assert decision["reason"] == "unverified_identity"
    assert conversation["handler"] == "human"
