"""The inbox in a real headless Chromium: the views' exact counts, live and under filters;
the polling fallback when the websocket cannot connect; @mention autocomplete in notes.

Fixtures and helpers are those of ``test_app_browser`` (the app under uvicorn on loopback
with its worker, Debian's chromium under Playwright).
"""

from __future__ import annotations

import socket

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.channels.widget_server import LiveServer
from tests.factories import PASSWORD, Api, inbound, inbox
from tests.web import test_app_browser as app_browser
from tests.web.test_app_browser import LIVE, SCREENSHOTS, Watched, _profile, _sign_in

# The app's fixtures (the live server, one Chromium per module, watched profiles).
settings = app_browser.settings
server = app_browser.server
browser = app_browser.browser
profiles = app_browser.profiles

POLL_MS = 15_000  # live.js POLL_MS: how often the lists refresh without a websocket


def _badge(page: Page, view: str) -> Locator:
    return page.locator(f'#view-list [data-view="{view}"] .count')


async def _badges(page: Page, expected: dict[str, str]) -> None:
    for view, count in expected.items():
        await expect(_badge(page, view), view).to_have_text(count, timeout=LIVE)


async def _shop(server: LiveServer) -> tuple[Api, int]:
    """A workspace whose admin is "Ada Admin", with a WhatsApp inbox the AI stays out of."""
    admin = await server.workspace("Shop", "ada@shop.example")
    await admin.ok("PATCH", "/auth/me", json={"name": "Ada Admin"})
    whatsapp = await inbox(admin, "whatsapp")
    await admin.ok("PATCH", f"/inboxes/{whatsapp['id']}", json={"ai_mode": "off"})
    return admin, whatsapp["id"]


async def test_the_view_counts_are_exact_and_follow_new_conversations_live(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    admin, inbox_id = await _shop(server)
    billing = await admin.ok("POST", "/teams", 201, json={"name": "Billing", "domain": "service"})
    first = await inbound(admin, inbox_id, "15550000001", "My invoice is wrong", sender_name="Vera")
    second = await inbound(admin, inbox_id, "15550000002", "Where is my parcel?")
    await inbound(admin, inbox_id, "15550000003", "Can I change plans?")
    await admin.ok(
        "POST",
        f"/conversations/{first['conversation_id']}/assign",
        json={"assignee_id": admin.agent_id},
    )
    await admin.ok(
        "POST",
        f"/conversations/{second['conversation_id']}/transfer",
        json={"team_id": billing["id"]},
    )
    expected = await admin.ok("GET", "/conversations/counts")
    assert (expected["all"], expected["mine"], expected["unassigned"]) == (3, 1, 2)

    page = await _profile(browser, profiles)
    await _sign_in(page, server, "ada@shop.example")
    await _badges(
        page,
        {
            "all": "3",
            "mine": "1",
            "unassigned": "2",
            f"team-{billing['id']}": "1",
            "ai": str(expected["ai"]),
            "waiting": str(expected["waiting"]),
        },
    )
    await expect(page.locator("#live-state")).to_have_text("live", timeout=LIVE)

    await inbound(admin, inbox_id, "15550000004", "Is the shop open on Sunday?")
    await expect(page.locator("#conversation-list")).to_contain_text("Sunday", timeout=LIVE)
    await _badges(page, {"all": "4", "unassigned": "3", "mine": "1"})
    await page.screenshot(path=SCREENSHOTS / "inbox-counts.png")

    # The filters apply to every view's count, as to the list.
    await page.get_by_label("Search").fill("invoice")
    await expect(page.locator("#conversation-list .row")).to_have_count(1)
    await _badges(page, {"all": "1", "mine": "1", "unassigned": "0", f"team-{billing['id']}": "0"})
    await page.get_by_label("Search").fill("")
    await _badges(page, {"all": "4"})


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# A websocket that cannot connect: refused (a dead port), or no WebSocket at all.
REFUSED = """
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  constructor(url, protocols) { super(url.replace(/\\/\\/[^/]+/, "//127.0.0.1:PORT"), protocols); }
};
"""
MISSING = "delete window.WebSocket;"


@pytest.mark.parametrize("websocket", ["refused", "missing"])
async def test_without_a_websocket_the_inbox_polls_and_says_it_is_not_live(
    server: LiveServer, browser: Browser, profiles: list[Watched], websocket: str
) -> None:
    admin, inbox_id = await _shop(server)
    await inbound(admin, inbox_id, "15550000001", "First question")
    page = await _profile(browser, profiles)
    script = REFUSED.replace("PORT", str(_closed_port())) if websocket == "refused" else MISSING
    await page.context.add_init_script(script)
    await page.clock.install()  # time runs on; fast_forward jumps to the next poll
    await _sign_in(page, server, "ada@shop.example")
    state = page.locator("#live-state")
    await expect(state).to_have_text("not live: refreshing every 15 s", timeout=LIVE)
    await expect(state).to_have_class("live-state polling")
    await _badges(page, {"all": "1"})

    await inbound(admin, inbox_id, "15550000002", "Second question, while offline")
    await page.wait_for_timeout(1000)
    await expect(page.locator("#conversation-list")).not_to_contain_text("while offline")
    await page.clock.fast_forward(POLL_MS)
    await expect(page.locator("#conversation-list")).to_contain_text("while offline", timeout=LIVE)
    await _badges(page, {"all": "2"})
    await expect(state).to_contain_text("not live")
    if websocket == "refused":
        await page.screenshot(path=SCREENSHOTS / "inbox-polling.png")


async def _mention_setup(server: LiveServer) -> tuple[Api, dict[str, int], int]:
    admin, inbox_id = await _shop(server)
    ids = {}
    for name, email in (
        ("Bo Agent", "bo@shop.example"),
        ("Bea Smith", "support-lead@shop.example"),
        ("Cy Other", "cy@shop.example"),
    ):
        created = await admin.ok(
            "POST", "/agents", 201, json={"email": email, "name": name, "password": PASSWORD}
        )
        ids[name] = created["id"]
    received = await inbound(
        admin, inbox_id, "15550000001", "Refund for order 7?", sender_name="Vera"
    )
    return admin, ids, received["conversation_id"]


async def test_mention_autocomplete_inserts_a_teammate_who_is_notified(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    admin, ids, conversation_id = await _mention_setup(server)
    ada = await _profile(browser, profiles)
    bo = await _profile(browser, profiles)
    await _sign_in(ada, server, "ada@shop.example")
    await _sign_in(bo, server, "bo@shop.example")
    for agent in (ada, bo):
        await expect(agent.locator("#live-state")).to_have_text("live", timeout=LIVE)

    await ada.locator("#conversation-list .row").first.click()
    await ada.get_by_label("Reply or note").select_option("note")
    box = ada.get_by_label("Message")
    listbox = ada.get_by_role("listbox", name="Teammates")
    await box.press_sequentially("Please check @b")
    await expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    await expect(options).to_have_text(
        [r"Bo Agent bo@shop.example", r"Bea Smith support-lead@shop.example"]
    )
    await expect(options.first).to_have_attribute("aria-selected", "true")
    await expect(box).to_have_attribute("aria-activedescendant", f"mention-{ids['Bo Agent']}")
    await box.press("ArrowDown")
    await expect(box).to_have_attribute("aria-activedescendant", f"mention-{ids['Bea Smith']}")
    await box.press("ArrowUp")
    await box.press("Enter")  # inserts, does not send or break the line
    await expect(listbox).to_be_hidden()
    await expect(box).to_have_value("Please check @Bo Agent ")

    # the email matches too; Escape closes the list and leaves the text alone
    await box.press_sequentially("and @supp")
    await expect(options).to_have_text([r"Bea Smith support-lead@shop.example"])
    await box.press("Escape")
    await expect(listbox).to_be_hidden()
    await expect(box).to_be_focused()
    await box.press("Backspace")
    await expect(options).to_have_text([r"Bea Smith support-lead@shop.example"])
    await box.press("Tab")
    await box.press_sequentially("about the refund")
    await expect(box).to_have_value("Please check @Bo Agent and @Bea Smith about the refund")

    # a click picks too; oneself is never offered
    await box.press_sequentially(" @")
    await expect(options).to_have_count(3)
    await expect(listbox).not_to_contain_text("Ada Admin")
    await ada.screenshot(path=SCREENSHOTS / "mention-autocomplete.png")
    await options.filter(has_text="Cy Other").click()
    await expect(box).to_have_value(
        "Please check @Bo Agent and @Bea Smith about the refund @Cy Other "
    )

    # a live update of the thread re-renders it: the draft and the mode survive
    await inbound(admin, (await admin.ok("GET", "/inboxes"))[0]["id"], "15550000001", "Hello?")
    await expect(ada.locator("#timeline")).to_contain_text("Hello?", timeout=LIVE)
    await expect(box).to_have_value(
        "Please check @Bo Agent and @Bea Smith about the refund @Cy Other "
    )
    await expect(ada.get_by_label("Reply or note")).to_have_value("note")

    await ada.get_by_role("button", name="Send").click()
    await expect(ada.locator("#timeline .note")).to_contain_text("about the refund")
    await expect(bo.locator("#notifications")).to_contain_text(
        "Ada Admin mentioned you", timeout=LIVE
    )
    events = await admin.ok(
        "GET", "/events", params={"conversation": conversation_id, "type": "note.added"}
    )
    assert [sorted(e["data"]["mentions"]) for e in events["items"]] == [
        sorted([ids["Bo Agent"], ids["Bea Smith"], ids["Cy Other"]])
    ]


async def test_replies_offer_no_mentions_and_a_shared_first_name_mentions_nobody(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    admin, ids, conversation_id = await _mention_setup(server)
    await admin.ok(
        "POST",
        "/agents",
        201,
        json={"email": "bo2@shop.example", "name": "Bo Second", "password": PASSWORD},
    )
    ada = await _profile(browser, profiles)
    await _sign_in(ada, server, "ada@shop.example")
    await ada.locator("#conversation-list .row").first.click()
    box = ada.get_by_label("Message")
    await box.press_sequentially("Thanks @b")
    await expect(ada.get_by_role("listbox", name="Teammates")).to_be_hidden()
    await box.fill("")
    await ada.get_by_label("Reply or note").select_option("note")
    # "@Bo" is ambiguous now; "@Cy" is not: typed by hand, without the list
    await box.fill("@Bo and @Cy, see (order #7).")
    await ada.get_by_role("button", name="Send").click()
    await expect(ada.locator("#timeline .note")).to_contain_text("order #7")
    events = await admin.ok(
        "GET", "/events", params={"conversation": conversation_id, "type": "note.added"}
    )
    assert [e["data"]["mentions"] for e in events["items"]] == [[ids["Cy Other"]]]
