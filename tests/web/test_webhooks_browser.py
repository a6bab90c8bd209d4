"""The admin's webhooks page in a real headless Chromium: subscribe a URL, see its secret
once, and watch a signed delivery of a customer's message land in the log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from onethread.settings import Settings
from tests.channels.widget_server import LiveServer
from tests.factories import inbound, inbox
from tests.integrations.receiver import WebhookReceiver
from tests.web import test_app_browser as app_browser
from tests.web.test_app_browser import Watched, _profile, _sign_in

server = app_browser.server
browser = app_browser.browser
profiles = app_browser.profiles


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Plain http on loopback, and a receiver on loopback too.
    return settings.model_copy(
        update={"public_url": "http://127.0.0.1", "webhook_allow_private": True}
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


async def test_an_admin_subscribes_and_sees_a_delivery_in_the_log(
    server: LiveServer, browser: Browser, profiles: list[Watched], receiver: WebhookReceiver
) -> None:
    admin = await server.workspace("Shop", "ada@shop.example")
    box = await inbox(admin, "webchat")
    page = await _profile(browser, profiles)
    await _sign_in(page, server, "ada@shop.example")
    await page.goto(server.url + "/app/settings")
    await page.get_by_role("link", name="Webhooks").click()
    await expect(page).to_have_url(server.url + "/app/settings/webhooks")

    await page.get_by_label("Webhook URL").fill(receiver.url)
    await page.get_by_label("Webhook description").fill("CRM sync")
    await page.get_by_label("message.created").check()
    await page.get_by_role("button", name="Add webhook").click()
    secret_line = page.locator("#webhook-secret")
    await expect(secret_line).to_contain_text("whsec_")
    receiver.secret = (await secret_line.inner_text()).rsplit(" ", 1)[-1]
    await expect(page.locator("#webhooks tr")).to_have_count(1)
    await expect(page.locator("#webhooks tr").first).to_contain_text("message.created")
    [stored] = await admin.ok("GET", "/webhooks")
    assert stored["description"] == "CRM sync"

    await inbound(admin, box["id"], "visitor-1", "Is my parcel on its way?")
    rows = page.locator("#deliveries tr")
    for _ in range(50):  # the in-process worker sends it; the page shows it on refresh
        await page.get_by_role("button", name="Refresh").click()
        if await page.locator('#deliveries tr[data-status="delivered"]').count():
            break
        await asyncio.sleep(0.2)
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("message.created")
    await expect(rows.first.locator(".delivery-status")).to_have_text("delivered")
    await expect(rows.first).to_contain_text("200")
    [received] = receiver.received
    assert received.signed
    assert received.body["data"]["message"]["text"] == "Is my parcel on its way?"

    await page.get_by_role("button", name=f"Redeliver {received.body['id']}").click()
    for _ in range(50):
        if len(receiver.received) == 2:
            break
        await asyncio.sleep(0.1)
    assert [r.body["id"] for r in receiver.received] == [received.body["id"]] * 2
