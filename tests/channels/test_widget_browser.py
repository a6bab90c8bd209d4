"""The chat widget in a real headless Chromium, embedded in a page of another origin.

The app runs under uvicorn on 127.0.0.1 with its worker; the shop's page is served by
a second server at ``localhost`` on another port, so every widget call is a real
cross-origin request (CORS preflight included). Needs Debian's ``chromium`` package:
``apt-get install -y chromium``.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError as missing:  # fail loudly: a skipped browser test hides a broken widget
    raise ImportError("the browser tests need Playwright: pip install -e '.[test]'") from missing

from onethread.channels.widget_tokens import read_token, user_hash
from onethread.settings import Settings
from tests.channels.widget_server import LiveServer, live_server
from tests.factories import Api, inbound, inbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
SECRET = "shop-identity-secret"
LIVE = 10_000  # ms: how long a live update may take to show
STYLE_NONCE = "shop-styles"


class ShopSite:
    """The business's own website: one page per path, on a port of its own."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str]] = {}  # path: (html, content security policy)
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, policy = pages.get(self.path.split("?")[0], ("not found", ""))
                self.send_response(200 if policy else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", policy)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_address[1]}"

    def page(self, path: str, server: LiveServer, **attributes: str) -> str:
        """Publish a page embedding the widget, under a strict content security policy
        (no inline styles or scripts of others) and with CSS that hides every button and
        div it can reach: the widget must work all the same."""
        tag_attributes = " ".join(
            f'data-{name.replace("_", "-")}="{html.escape(value)}"'
            for name, value in attributes.items()
        )
        body = (
            "<!doctype html><html><head><title>Shop</title>"
            f'<style nonce="{STYLE_NONCE}">'
            "button{display:none!important}div{visibility:hidden!important}</style>"
            "</head><body><h1>Our shop</h1>"
            f'<script src="{server.url}/widget.js" {tag_attributes} async></script></body></html>'
        )
        policy = (
            f"default-src 'none'; script-src {server.url}; style-src 'nonce-{STYLE_NONCE}'; "
            f"connect-src {server.url} {server.ws_url}"
        )
        self.pages[path] = (body, policy)
        return self.origin + path


@contextmanager
def running_shop() -> Iterator[ShopSite]:
    """The shop's site, served from a thread for as long as the block runs."""
    site = ShopSite()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()
        thread.join()


@asynccontextmanager
async def chromium(args: list[str]) -> AsyncIterator[Browser]:
    """Debian's headless Chromium under Playwright; a missing one fails, never skips."""
    if not CHROMIUM.exists():  # noqa: ASYNC240 (once, before anything runs)
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(the browser tests run in a real browser, never skipped)",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=args, headless=True
        )
        yield launched
        await launched.close()


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


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser profile; any script error or CSP violation on the page fails the test."""
    context = await browser.new_context()
    opened = await context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    yield opened
    await context.close()
    assert problems == []


async def _widget_inbox(server: LiveServer, shop: ShopSite) -> tuple[Api, dict[str, Any]]:
    admin = await server.workspace("Shop", "owner@shop.example")
    chat = await inbox(
        admin,
        "webchat",
        allowed_origins=[shop.origin],
        identity_secret=SECRET,
        sandbox=False,  # the worker sends through the web chat adapter itself
        title="Shop help",
        greeting="Hi! Ask us anything.",
    )
    return admin, chat


async def _send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


async def _thread_messages(admin: Api, conversation_id: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = await admin.ok(
        "GET", f"/conversations/{conversation_id}/messages"
    )
    return messages


async def _wait_for(check: Any) -> Any:
    """Poll the agents' API until ``check`` answers (the worker runs in the background)."""
    async with asyncio.timeout(LIVE / 1000):
        while not (result := await check()):  # noqa: ASYNC110 (another server's API)
            await asyncio.sleep(0.1)
    return result


async def test_an_anonymous_visitor_chats_live_and_comes_back(
    server: LiveServer, shop: ShopSite, page: Page
) -> None:
    admin, chat = await _widget_inbox(server, shop)
    url = shop.page("/", server, inbox=str(chat["id"]))

    await page.goto(url)
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_text("Hi! Ask us anything.")).to_be_visible()
    await expect(page.get_by_text("Shop help")).to_be_visible()
    await _send(page, "Where is my order?")
    await expect(page.get_by_text("Where is my order?")).to_be_visible()

    async def the_thread() -> int | None:
        listing = await admin.ok("GET", "/conversations", params={"inbox": chat["id"]})
        return listing["items"][0]["id"] if listing["items"] else None

    conversation_id = await _wait_for(the_thread)
    stored = await _thread_messages(admin, conversation_id)
    assert [(m["channel"], m["text"]) for m in stored] == [("webchat", "Where is my order?")]

    reply = "It ships today."
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": reply})
    await expect(page.get_by_text(reply)).to_be_visible(timeout=LIVE)
    await admin.ok(
        "POST", f"/conversations/{conversation_id}/notes", 201, json={"text": "Internal: VIP"}
    )
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Bye!"})
    await expect(page.get_by_text("Bye!")).to_be_visible(timeout=LIVE)
    assert await page.get_by_text("Internal: VIP").count() == 0

    async def reply_sent() -> bool:
        outbound = [m for m in await _thread_messages(admin, conversation_id) if m["text"] == reply]
        return bool(outbound[0]["delivery_status"] == "sent")

    await _wait_for(reply_sent)  # the worker delivered through WebchatAdapter.send

    storage_key = f"onethread:widget:{chat['id']}:token"
    token_before = await page.evaluate("key => localStorage.getItem(key)", storage_key)
    await page.reload()
    await page.get_by_role("button", name="Open chat").click()
    for text in ("Where is my order?", reply, "Bye!"):
        await expect(page.get_by_text(text)).to_be_visible()
    assert await page.get_by_text("Internal: VIP").count() == 0
    token_after = await page.evaluate("key => localStorage.getItem(key)", storage_key)
    secret_key = server.settings.effective_secret_key
    assert (
        read_token(secret_key, token_after, inbox_id=chat["id"]).identity
        == read_token(secret_key, token_before, inbox_id=chat["id"]).identity
    )
    await _send(page, "One more thing")
    await expect(page.get_by_text("One more thing")).to_be_visible()
    texts = [m["text"] for m in await _wait_for(lambda: _four(admin, conversation_id))]
    assert texts.count("Where is my order?") == 1  # the same visitor, the same thread


async def _four(admin: Api, conversation_id: int) -> list[dict[str, Any]] | None:
    public = [m for m in await _thread_messages(admin, conversation_id) if not m["private"]]
    return public if len(public) == 4 else None


async def test_an_identified_customer_lands_in_their_existing_thread(
    server: LiveServer, shop: ShopSite, page: Page
) -> None:
    admin, chat = await _widget_inbox(server, shop)
    whatsapp = await inbox(admin, "whatsapp")
    earlier = await inbound(
        admin,
        whatsapp["id"],
        "15557654321",
        "I wrote on WhatsApp first",
        sender_email="ana@example.com",
        verified=True,
    )
    url = shop.page(
        "/account",
        server,
        inbox=str(chat["id"]),
        user_id="ana-7",
        user_hash=user_hash(SECRET, "ana-7", email="ana@example.com"),
        email="ana@example.com",
        name="Ana",
    )

    await page.goto(url)
    await page.get_by_role("button", name="Open chat").click()
    await _send(page, "Now on your website")
    await expect(page.get_by_text("Now on your website")).to_be_visible()

    async def joined() -> list[dict[str, Any]] | None:
        messages = await _thread_messages(admin, earlier["conversation_id"])
        return messages if len(messages) == 2 else None

    messages = await _wait_for(joined)
    assert [(m["channel"], m["text"]) for m in messages] == [
        ("whatsapp", "I wrote on WhatsApp first"),
        ("webchat", "Now on your website"),
    ]
    await admin.ok(
        "POST",
        f"/conversations/{earlier['conversation_id']}/reply",
        201,
        json={"text": "Hi Ana, we see both messages.", "inbox_id": chat["id"]},
    )
    await expect(page.get_by_text("Hi Ana, we see both messages.")).to_be_visible(timeout=LIVE)
    # The WhatsApp message belongs to another channel: the widget does not show it.
    assert await page.get_by_text("I wrote on WhatsApp first").count() == 0
