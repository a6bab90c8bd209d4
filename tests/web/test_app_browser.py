"""The agents' web app in a real headless Chromium: two agents and a customer in the widget.

The app runs under uvicorn on loopback with its worker (``tests/channels/widget_server``);
the customer's page is the shop site of the widget's browser tests, on another origin.
Needs Debian's ``chromium`` package.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

try:
    from playwright.async_api import Browser, BrowserContext, Page, expect
except ImportError as missing:  # fail loudly: a skipped browser test hides a broken app
    raise ImportError("the browser tests need Playwright: pip install -e '.[test]'") from missing

from sqlalchemy import select, update

from onethread.channels.outbound import queue_reply
from onethread.conversations.models import Conversation, Message, SenderKind
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.settings import Settings
from tests.assistant.test_turns import PLAYBOOK
from tests.channels.test_widget_browser import SECRET, ShopSite, chromium, running_shop
from tests.channels.widget_server import LiveServer, live_server
from tests.conftest import truncate_all
from tests.factories import PASSWORD, Api, inbound, inbox
from tests.processes import serve_process

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
LIVE = 10_000  # ms: how long a live update may take to show
ASSISTANT = 60_000  # ms: a first assistant turn loads the encoder and trains the router
REDIS_URL = os.environ.get("ONETHREAD_TEST_REDIS_URL")
SCREENSHOTS = Path(
    os.environ.get("ONETHREAD_SCREENSHOTS") or tempfile.mkdtemp(prefix="onethread-screens-")
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Plain http on loopback: the session cookie must not be marked Secure.
    return settings.model_copy(update={"public_url": "http://127.0.0.1"})


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopSite]:
    with running_shop() as site:
        yield site


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM_ARGS) as launched:
        yield launched


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    async with live_server(settings) as running:
        yield running


class Watched:
    """A browser profile whose page errors fail the test."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(str(error)))


@pytest.fixture
async def profiles(browser: Browser) -> AsyncIterator[list[Watched]]:
    opened: list[Watched] = []

    async def close_all() -> None:
        for profile in opened:
            await profile.context.close()

    yield opened
    await close_all()
    assert [p.problems for p in opened if p.problems] == []


async def _profile(browser: Browser, profiles: list[Watched]) -> Page:
    context = await browser.new_context(viewport={"width": 1360, "height": 820})
    watched = Watched(context, await context.new_page())
    profiles.append(watched)
    return watched.page


async def _sign_in(page: Page, server: LiveServer, email: str) -> None:
    await page.goto(server.url + "/")
    await expect(page).to_have_url(server.url + "/app/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(server.url + "/app")


async def _setup(server: LiveServer, shop: ShopSite) -> tuple[Api, str]:
    admin = await server.workspace("Shop", "ada@shop.example")
    await admin.ok("PATCH", "/auth/me", json={"name": "Ada Admin"})
    await admin.ok(
        "POST",
        "/agents",
        201,
        json={"email": "bo@shop.example", "name": "Bo Agent", "password": PASSWORD},
    )
    chat = await inbox(
        admin,
        "webchat",
        allowed_origins=[shop.origin],
        identity_secret=SECRET,
        sandbox=False,
        title="Shop help",
        greeting="Hi! Ask us anything.",
    )
    await admin.ok("PATCH", f"/inboxes/{chat['id']}", json={"ai_mode": "off"})
    return admin, shop.page("/", server, inbox=str(chat["id"]))


async def test_sign_in_redirects_and_wrong_password_is_shown(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    await server.workspace("Shop", "ada@shop.example")
    page = await _profile(browser, profiles)
    await page.goto(server.url + "/app")
    await expect(page).to_have_url(server.url + "/app/login")
    await page.get_by_label("Email").fill("ada@shop.example")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(server.url + "/app")
    await page.goto(server.url + "/")
    await expect(page).to_have_url(server.url + "/app")
    async with page.expect_response(
        lambda r: r.url.endswith("/api/v1/auth/me") and r.request.method == "PATCH"
    ) as saved:
        await page.get_by_label("Availability").select_option("away")
    assert (await (await saved.value).json())["availability"] == "away"
    await page.reload()
    await expect(page.get_by_label("Availability")).to_have_value("away")
    await page.screenshot(path=SCREENSHOTS / "empty-inbox.png")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(server.url + "/app/login")
    await page.goto(server.url + "/app")
    await expect(page).to_have_url(server.url + "/app/login")
    docs = await server.client.get("/api/v1/docs")
    assert docs.status_code == 200


ARTICLE = """# Resetting your password

Open Settings, choose Security and click Reset password. We email you a link that
stays valid for 30 minutes.
"""


async def _the_assistant_takes_over(admin: Api, inbox_id: int, conversation_id: int) -> None:
    """A playbook, an article and ``auto`` mode; the thread handed back to the assistant."""
    for name, domain in (("Technical Support", "support"), ("Billing & Accounts", "service")):
        await admin.ok("POST", "/teams", 201, json={"name": name, "domain": domain})
    await admin.ok("PUT", "/playbook", json=PLAYBOOK)
    await admin.ok("POST", "/knowledge/articles", 201, json={"body": ARTICLE})
    await admin.ok("PATCH", f"/inboxes/{inbox_id}", json={"ai_mode": "auto"})
    await admin.ok("POST", f"/conversations/{conversation_id}/handback")


@dataclass
class Topology:
    """Where each person is connected: one server, or two processes sharing Redis."""

    ada: LiveServer
    bo: LiveServer
    customer: LiveServer  # the server the widget speaks to


async def _two_agents_and_a_customer(
    where: Topology, shop: ShopSite, browser: Browser, profiles: list[Watched], name: str
) -> None:
    admin, shop_url = await _setup(where.customer, shop)
    ada = await _profile(browser, profiles)
    bo = await _profile(browser, profiles)
    customer = await _profile(browser, profiles)
    await _sign_in(ada, where.ada, "ada@shop.example")
    await _sign_in(bo, where.bo, "bo@shop.example")
    for agent in (ada, bo):
        await expect(agent.locator("#live-state")).to_have_text("live", timeout=LIVE)

    await customer.goto(shop_url)
    await customer.get_by_role("button", name="Open chat").click()
    box = customer.get_by_role("textbox", name="Message")
    await box.fill("Where is my order?")
    await box.press("Enter")
    for agent in (ada, bo):  # no reload: the websocket brings it
        await expect(agent.locator("#conversation-list")).to_contain_text(
            "Where is my order?", timeout=LIVE
        )
    await ada.screenshot(path=SCREENSHOTS / f"{name}-inbox.png")

    await ada.keyboard.press("j")
    await ada.keyboard.press("Enter")
    timeline = ada.locator("#timeline")
    await expect(timeline).to_contain_text("Where is my order?")
    await expect(timeline).to_contain_text("webchat")
    await expect(ada.get_by_label("Reply channel")).to_contain_text("webchat")

    await bo.keyboard.press("Enter")
    await expect(bo.locator("#viewers [title='Ada Admin is viewing']")).to_be_visible(timeout=LIVE)
    await ada.get_by_label("Message").press_sequentially("It ships")
    await expect(bo.locator("#typing")).to_contain_text("Ada Admin is typing a reply", timeout=LIVE)
    await bo.get_by_label("Message").press_sequentially("Hello")
    await expect(ada.locator("#collision")).to_contain_text(
        "Bo Agent is also writing", timeout=LIVE
    )
    await bo.get_by_label("Message").fill("")

    await ada.get_by_label("Message").fill("It ships today.")
    await ada.get_by_role("button", name="Send").click()
    await expect(timeline).to_contain_text("It ships today.")
    await expect(customer.get_by_text("It ships today.")).to_be_visible(timeout=LIVE)
    await expect(bo.locator("#timeline")).to_contain_text("It ships today.", timeout=LIVE)

    await bo.get_by_label("Reply or note").select_option("note")
    await bo.get_by_label("Message").fill("@Ada can you check the VIP refund?")
    await bo.get_by_role("button", name="Send").click()
    await expect(bo.locator("#timeline .note")).to_contain_text("VIP refund")
    await expect(ada.locator("#notifications")).to_contain_text(
        "Bo Agent mentioned you", timeout=LIVE
    )
    await expect(timeline).to_contain_text("VIP refund", timeout=LIVE)
    conversation_id = int(
        await ada.locator("#conversation-list .row").first.get_attribute("data-id") or 0
    )
    thread = await admin.ok("GET", f"/conversations/{conversation_id}/messages")
    assert [m["text"] for m in thread if m["private"]] == ["@Ada can you check the VIP refund?"]
    await customer.wait_for_timeout(500)
    assert await customer.get_by_text("VIP refund").count() == 0

    await bo.get_by_label("Assignee").select_option(label="Ada Admin")
    await expect(ada.locator("#notifications")).to_contain_text(
        "Bo Agent assigned you", timeout=LIVE
    )

    # The assistant's real turns (the worker, the encoder, the knowledge base): it answers
    # from the article, then hands the broken export off to a human with a summary.
    chat_id = thread[0]["inbox_id"]
    await _the_assistant_takes_over(admin, chat_id, conversation_id)
    await box.fill("how do I reset my password")
    await box.press("Enter")
    ai_reply = timeline.locator(".message.ai")
    await expect(ai_reply).to_contain_text("Reset password", timeout=ASSISTANT)
    await expect(ai_reply).to_contain_text("Sources: Resetting your password")
    await expect(customer.get_by_text("We email you a link")).to_be_visible(timeout=LIVE)
    await box.fill("the export button is broken, export to CSV does nothing")
    await box.press("Enter")
    summary = ada.locator("#handoff-summary")
    await expect(summary).to_contain_text("Handoff from the assistant", timeout=ASSISTANT)
    await expect(summary).to_contain_text("export")
    await expect(bo.locator("#handoff-summary")).to_contain_text("export", timeout=LIVE)
    for view, count in (("mine", "0"), ("waiting", "1"), ("ai", "0")):  # handed off, unassigned
        badge = ada.locator(f'#view-list [data-view="{view}"] .count')
        await expect(badge, view).to_have_text(count, timeout=LIVE)
    await expect(ada.locator("#contact-panel")).to_contain_text("webchat")
    customer_sees = await customer.locator("body").inner_text()
    assert "Handoff" not in customer_sees
    assert "Reason:" not in customer_sees
    await ada.screenshot(path=SCREENSHOTS / f"{name}-conversation.png")
    await bo.screenshot(path=SCREENSHOTS / f"{name}-teammate.png")
    await customer.screenshot(path=SCREENSHOTS / f"{name}-widget.png")


async def test_two_agents_and_a_customer(
    server: LiveServer, shop: ShopSite, browser: Browser, profiles: list[Watched]
) -> None:
    where = Topology(ada=server, bo=server, customer=server)
    await _two_agents_and_a_customer(where, shop, browser, profiles, "one-process")


@pytest.mark.skipif(not REDIS_URL, reason="ONETHREAD_TEST_REDIS_URL is not set (.ci/run sets it)")
async def test_two_agents_and_a_customer_across_two_processes_and_redis(
    settings: Settings, shop: ShopSite, browser: Browser, profiles: list[Watched]
) -> None:
    """Ada on one ``onethread serve`` process; Bo and the customer's widget on another:
    every live update in the scenario has to cross Redis."""
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    await _truncate(shared)
    async with serve_process(shared) as first, serve_process(shared) as second:
        where = Topology(ada=first, bo=second, customer=second)
        await _two_agents_and_a_customer(where, shop, browser, profiles, "two-processes")
        for profile in profiles:  # before the servers stop under the open pages
            await profile.context.close()


async def _truncate(settings: Settings) -> None:
    db = Database(settings.resolved_database_url)
    try:
        await truncate_all(db)
    finally:
        await db.dispose()


async def _stored_ai_reply(server: LiveServer, conversation_id: int) -> None:
    """An assistant reply as its job stores it, with the action behind it."""
    db = Database(server.settings.resolved_database_url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(Conversation).where(Conversation.id == conversation_id)
            )
            await queue_reply(
                session,
                rows.scalar_one(),
                text="Invoice 2291 was charged twice; the refund is on its way.",
                sender_kind=SenderKind.AI,
                ai_meta={
                    "sources": [{"kind": "action", "ref": "invoice", "title": "Invoice lookup"}],
                    "actions": [
                        {"action": "refund_invoice", "topic": "billing", "outcome": "done"}
                    ],
                },
            )
            await session.commit()
    finally:
        await db.dispose()


async def _backdate_inbound(server: LiveServer, conversation_id: int, days: int) -> None:
    """Age the customer's messages, as if they wrote ``days`` ago (the reply window's clock)."""
    db = Database(server.settings.resolved_database_url)
    try:
        async with db.session() as session:
            await session.execute(
                update(Message)
                .where(Message.conversation_id == conversation_id)
                .values(created_at=utcnow() - timedelta(days=days))
            )
            await session.commit()
    finally:
        await db.dispose()


async def test_a_whatsapp_customer_filters_the_window_and_the_actions(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    admin = await server.workspace("Shop", "ada@shop.example")
    await admin.ok("PATCH", "/auth/me", json={"name": "Ada"})
    whatsapp = await inbox(admin, "whatsapp", templates=[{"name": "follow_up", "body": "Hi!"}])
    await admin.ok("PATCH", f"/inboxes/{whatsapp['id']}", json={"ai_mode": "off"})
    await admin.ok(
        "POST",
        "/canned_responses",
        201,
        json={"shortcut": "thanks", "title": "Thanks", "text": "Thanks for your patience!"},
    )
    vera = await inbound(
        admin, whatsapp["id"], "15550001111", "My invoice is wrong", sender_name="Vera"
    )
    old = await inbound(admin, whatsapp["id"], "15550002222", "Anyone there?", sender_name="Olaf")
    await admin.ok(
        "PATCH",
        f"/contacts/{vera['contact_id']}",
        json={
            "attributes": {
                "plan": "Pro",
                "vip": True,
                "customer_since": "2021-03-01",
                "lifetime_value": 1200,
            }
        },
    )
    await _backdate_inbound(server, old["conversation_id"], days=2)
    await _stored_ai_reply(server, vera["conversation_id"])

    page = await _profile(browser, profiles)
    await _sign_in(page, server, "ada@shop.example")
    rows = page.locator("#conversation-list .row")
    await expect(rows).to_have_count(2)
    await page.get_by_label("Search").fill("invoice")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Vera")
    await page.keyboard.press("Escape")
    await page.keyboard.press("Enter")

    panel = page.locator("#contact-panel")
    for shown in ("Pro", "VIP", "yes", "Customer since", "2021-03-01", "1200", "whatsapp"):
        await expect(panel).to_contain_text(shown)
    await expect(page.locator("#reply-window")).to_contain_text("WhatsApp window open: 23 h")
    ai_reply = page.locator("#timeline .message.ai")
    await expect(ai_reply).to_contain_text("Sources: Invoice lookup")
    await expect(ai_reply).to_contain_text("refund_invoice (done)")
    await page.get_by_label("Canned response").select_option(label="/thanks · Thanks")
    await expect(page.get_by_label("Message")).to_have_value("Thanks for your patience!")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#timeline")).to_contain_text("Thanks for your patience!")

    await page.get_by_label("Assignee").select_option(label="Ada")
    await page.locator(".views").get_by_text("Mine").click()
    await expect(rows).to_have_count(1)
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.locator(".thread-head")).to_contain_text("resolved")
    await page.get_by_label("Status").select_option("resolved")
    await expect(rows).to_have_count(1)
    await page.get_by_role("button", name="Reopen").click()
    await expect(page.locator(".thread-head")).to_contain_text("open")

    await page.get_by_label("Search").fill("")
    await page.get_by_label("Status").select_option("")
    await page.locator(".views").get_by_text("All").click()
    await expect(rows).to_have_count(2)
    await rows.filter(has_text="Olaf").click()
    await expect(page.locator("#reply-window")).to_contain_text("window closed")
    await page.get_by_label("Message").fill("Sorry for the wait")
    await page.get_by_role("button", name="Send").click()
    error = page.locator("#composer-error")
    await expect(error).to_contain_text("reply window is closed")
    await expect(error).to_contain_text("Templates: follow_up")
    await page.screenshot(path=SCREENSHOTS / "reply-window.png")

    await page.get_by_label("Find a contact to merge").fill("Vera")
    await page.get_by_label("Find a contact to merge").press("Enter")
    await page.get_by_role("button", name="Merge into Olaf").click()
    panel = page.locator("#contact-panel .identities li")
    await expect(panel).to_have_count(2)
    merged = await admin.ok("GET", f"/contacts/{old['contact_id']}")
    assert sorted(i["external_id"] for i in merged["identities"]) == ["15550001111", "15550002222"]


async def test_an_admin_edits_the_settings(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    admin = await server.workspace("Shop", "ada@shop.example")
    chat = await inbox(admin, "webchat")
    page = await _profile(browser, profiles)
    await _sign_in(page, server, "ada@shop.example")
    await page.get_by_role("link", name="Settings").click()
    await expect(page).to_have_url(server.url + "/app/settings")

    await page.get_by_label("New agent name").fill("Cy Agent")
    await page.get_by_label("New agent email").fill("cy@shop.example")
    await page.get_by_label("New agent password").fill(PASSWORD)
    await page.get_by_role("button", name="Add agent").click()
    await expect(page.locator("#agents")).to_contain_text("cy@shop.example")
    await page.get_by_label("New team name").fill("Billing")
    await page.get_by_label("New team domain").select_option("service")
    await page.get_by_role("button", name="Add team").click()
    await expect(page.locator("#teams")).to_contain_text("Billing (service)")

    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await page.get_by_label(f"AI mode of {chat['name']}").select_option("assist")
    assert (await admin.ok("GET", f"/inboxes/{chat['id']}"))["ai_mode"] == "assist"

    await page.get_by_label("Timezone").fill("Europe/Paris")
    await page.get_by_label("Open on mon").check()
    await page.get_by_label("mon opens").fill("08:30")
    await page.get_by_role("button", name="Save hours").click()
    await expect(page.locator("#hours-saved")).to_have_text("Saved")
    workspace = await admin.ok("GET", "/workspace")
    assert workspace["settings"]["timezone"] == "Europe/Paris"
    assert workspace["settings"]["business_hours"] == [
        {"day": "mon", "start": "08:30:00", "end": "17:00:00"}
    ]

    yaml_box = page.get_by_label("Playbook YAML")
    await expect(yaml_box).not_to_have_value("")
    exported = await yaml_box.input_value()
    await yaml_box.fill("topics: 5\n")
    await page.get_by_role("button", name="Save playbook").click()
    await expect(page.locator("#settings-error")).to_be_visible()
    await yaml_box.fill(exported)
    await page.get_by_role("button", name="Save playbook").click()
    await expect(page.locator("#playbook-saved")).to_have_text("Saved: revision 1")
    await page.screenshot(path=SCREENSHOTS / "settings.png", full_page=True)
