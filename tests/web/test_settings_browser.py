"""The admin's settings in a real headless Chromium: the knowledge base (upload a
Markdown file, edit, re-index, delete) and the canned responses (add, edit, delete, then
pick one in the composer)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.channels.widget_server import LiveServer
from tests.factories import Api, inbound, inbox
from tests.web import test_app_browser as app_browser
from tests.web.test_app_browser import SCREENSHOTS, Watched, _profile, _sign_in

# The app's fixtures (the live server, one Chromium per module, watched profiles).
settings = app_browser.settings
server = app_browser.server
browser = app_browser.browser
profiles = app_browser.profiles

REFUNDS = """---
title: Refund policy
language: en
---
# Refund policy

## Eligibility

Refunds are granted within 14 days of delivery for unused items.

## How to ask

Write to us with the order number; the refund reaches your card in 5 business days.
"""
BODY_AS_STORED = REFUNDS.split("---\n")[2].strip()


async def _settings_page(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> tuple[Api, Page]:
    admin = await server.workspace("Shop", "ada@shop.example")
    page = await _profile(browser, profiles)
    await _sign_in(page, server, "ada@shop.example")
    await page.get_by_role("link", name="Settings").click()
    await expect(page).to_have_url(server.url + "/app/settings")
    return admin, page


async def test_an_admin_uploads_edits_reindexes_and_deletes_an_article(
    server: LiveServer, browser: Browser, profiles: list[Watched], tmp_path: Path
) -> None:
    admin, page = await _settings_page(server, browser, profiles)
    article_file = tmp_path / "refunds.md"
    article_file.write_text(REFUNDS)

    knowledge = page.locator("#knowledge-section")
    status = page.locator("#knowledge-saved")
    await page.get_by_label("Article files").set_input_files(article_file)
    await knowledge.get_by_role("button", name="Upload").click()
    await expect(status).to_have_text("1 created, 0 updated, 0 unchanged")
    rows = page.locator("#articles tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Refund policy")
    await expect(rows.first).to_contain_text("en")
    stored = (await admin.ok("GET", "/knowledge/articles"))["items"]
    assert [(a["title"], a["source_key"]) for a in stored] == [("Refund policy", "refunds.md")]
    chunks_before = stored[0]["chunk_count"]
    assert chunks_before >= 1

    # the same file again changes nothing
    await knowledge.get_by_role("button", name="Upload").click()
    await expect(status).to_have_text("0 created, 0 updated, 1 unchanged")

    await page.get_by_role("button", name="Edit Refund policy").click()
    editor = page.locator("#article-form")
    await expect(editor).to_be_visible()
    body_box = page.get_by_label("Article body")
    await expect(body_box).to_have_value(BODY_AS_STORED)  # the front matter became fields
    await expect(page.get_by_label("Article title")).to_have_value("Refund policy")
    await page.get_by_label("Article title").fill("Refunds and returns")
    body = BODY_AS_STORED + "\n\n## Returns\n\nReturn labels are free for members.\n"
    await body_box.fill(body)
    await page.get_by_role("button", name="Save article").click()
    await expect(status).to_contain_text("Saved Refunds and returns")
    await expect(editor).to_be_hidden()
    await expect(rows.first).to_contain_text("Refunds and returns")
    detail = await admin.ok("GET", f"/knowledge/articles/{stored[0]['id']}")
    assert detail["title"] == "Refunds and returns"
    assert "Return labels are free" in detail["body"]
    assert detail["revision"] == stored[0]["revision"] + 1

    await page.get_by_role("button", name="Re-index").click()
    chunks = detail["chunk_count"]
    await expect(status).to_have_text(f"Re-indexed 1 articles ({chunks} chunks)")
    await page.screenshot(path=SCREENSHOTS / "knowledge-settings.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.get_by_role("button", name="Delete Refunds and returns").click()
    await expect(rows).to_have_count(1)  # dismissed: kept
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete Refunds and returns").click()
    await expect(status).to_have_text("Deleted Refunds and returns")
    await expect(rows).to_have_count(0)
    assert (await admin.ok("GET", "/knowledge/articles"))["items"] == []


async def test_a_bad_upload_is_refused_on_the_page(
    server: LiveServer, browser: Browser, profiles: list[Watched], tmp_path: Path
) -> None:
    _, page = await _settings_page(server, browser, profiles)
    unknown = tmp_path / "notes.docx"
    unknown.write_bytes(b"PK\x03\x04 not a format the knowledge base reads")
    await page.get_by_label("Article files").set_input_files(unknown)
    await page.locator("#knowledge-section").get_by_role("button", name="Upload").click()
    await expect(page.locator("#settings-error")).to_contain_text("notes.docx")
    await expect(page.locator("#articles tr")).to_have_count(0)


async def test_an_admin_manages_canned_responses_that_the_composer_offers(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    admin, page = await _settings_page(server, browser, profiles)
    canned = page.locator("#canned-section")
    rows = page.locator("#canned tr")

    await page.get_by_label("Canned shortcut").fill("thanks")
    await page.get_by_label("Canned title").fill("Thanks")
    await page.get_by_label("Canned text").fill("Thanks for waiting!")
    await canned.get_by_role("button", name="Add canned response").click()
    await expect(page.locator("#canned-saved")).to_have_text("Saved /thanks")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("/thanks")

    await page.get_by_label("Canned shortcut").fill("thanks")
    await page.get_by_label("Canned title").fill("Duplicate")
    await page.get_by_label("Canned text").fill("Again")
    await canned.get_by_role("button", name="Add canned response").click()
    await expect(page.locator("#settings-error")).to_be_visible()
    await expect(rows).to_have_count(1)

    await page.get_by_role("button", name="Edit /thanks").click()
    await expect(page.get_by_label("Canned text")).to_have_value("Thanks for waiting!")
    await page.get_by_label("Canned text").fill("Thanks for your patience!")
    await canned.get_by_role("button", name="Save canned response").click()
    await expect(page.locator("#canned-saved")).to_have_text("Saved /thanks")
    await expect(rows.first).to_contain_text("Thanks for your patience!")
    await expect(canned.get_by_role("button", name="Add canned response")).to_be_visible()

    await page.get_by_label("Canned shortcut").fill("bye")
    await page.get_by_label("Canned title").fill("Goodbye")
    await page.get_by_label("Canned text").fill("Have a good day!")
    await canned.get_by_role("button", name="Add canned response").click()
    await expect(rows).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete /bye").click()
    await expect(page.locator("#canned-saved")).to_have_text("Deleted /bye")
    await expect(rows).to_have_count(1)
    stored = await admin.ok("GET", "/canned_responses")
    assert [(c["shortcut"], c["text"]) for c in stored] == [("thanks", "Thanks for your patience!")]

    whatsapp = await inbox(admin, "whatsapp")
    await admin.ok("PATCH", f"/inboxes/{whatsapp['id']}", json={"ai_mode": "off"})
    await inbound(admin, whatsapp["id"], "15550000001", "Still waiting", sender_name="Vera")
    await page.get_by_role("link", name="← Inbox").click()
    await page.locator("#conversation-list .row").first.click()
    await expect(page.get_by_label("Canned response")).to_contain_text("/thanks · Thanks")
    await expect(page.get_by_label("Canned response")).not_to_contain_text("/bye")
