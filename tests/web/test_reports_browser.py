"""The dashboard and the weekly review pages in a real headless Chromium, on a hand-built
week (tests/review/test_weekly.py) whose figures are known."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from onethread.db.database import Database
from tests.channels.widget_server import LiveServer
from tests.reports.history import History
from tests.review.test_weekly import SOC2, WEEK, a_week
from tests.web import test_app_browser as app_browser
from tests.web.test_app_browser import SCREENSHOTS, Watched, _profile, _sign_in

settings = app_browser.settings
server = app_browser.server
browser = app_browser.browser
profiles = app_browser.profiles


async def _seeded(server: LiveServer) -> None:
    admin = await server.workspace("Shop", "ada@shop.example")
    db = Database(server.settings.resolved_database_url)
    try:
        await a_week(History(db, admin.workspace_id))
    finally:
        await db.dispose()


async def test_the_dashboard_shows_both_sides_and_warns(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    await _seeded(server)
    page = await _profile(browser, profiles)
    await _sign_in(page, server, "ada@shop.example")
    await page.get_by_role("link", name="Reports").click()
    await expect(page).to_have_url(server.url + "/app/reports")
    await page.get_by_label("From", exact=True).fill("2026-03-02")
    await page.get_by_label("To", exact=True).fill("2026-03-08")
    await expect(page.get_by_label("Period")).to_have_value("custom")

    volume = page.locator("[data-key=volume]")
    await expect(volume).to_contain_text("5")
    await expect(volume).to_contain_text("previous: 1")
    csat = page.locator("#side-service [data-key=csat_average]")
    await expect(csat).to_contain_text("2")
    await expect(csat).to_have_class("metric worse")
    await expect(page.locator("#side-support [data-key=first_response_median]")).to_have_class(
        "metric better"
    )
    warning = page.locator("#warnings .warning").first
    await expect(warning).to_contain_text("First response time (median) improved")
    await expect(warning).to_contain_text("CSAT")
    await expect(page.locator("#handoff-reasons")).to_contain_text("customer_requested_human")
    await expect(page.locator("#trends .chart")).to_have_count(6)
    await page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    await page.get_by_label("Handler").select_option("human")
    await expect(page.locator("[data-key=volume]")).to_contain_text("previous: 1")
    csv_url = await page.locator("#csv-export").get_attribute("href")
    assert csv_url is not None
    assert "handler=human" in csv_url
    exported = await page.request.get(server.url + csv_url)
    assert exported.ok
    assert (await exported.text()).startswith("key,label,side,unit,value,previous,verdict")


async def test_the_weekly_review_page_shows_the_file_for_a_week(
    server: LiveServer, browser: Browser, profiles: list[Watched]
) -> None:
    await _seeded(server)
    page = await _profile(browser, profiles)
    await _sign_in(page, server, "ada@shop.example")
    await page.goto(server.url + "/app/reports/weekly")
    await page.get_by_label("Week").fill(WEEK)
    review = page.frame_locator("#review-frame")
    await expect(review.get_by_role("heading", name="Knowledge gaps")).to_be_visible()
    await expect(review.locator("body")).to_contain_text(SOC2[0].removesuffix("?"))
    await expect(review.locator("body")).to_contain_text("transferred more than once")
    await expect(review.locator("body")).to_contain_text("I was passed around")
    await expect(review.locator("svg").first).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "weekly-review.png", full_page=True)
    download = await page.locator("#review-download").get_attribute("href")
    assert download == f"{server.url}/api/v1/reports/weekly.html?week={WEEK}"
