"""An operator runs an event from the dashboard, in headless Chromium against the real platform
(every service a process, simulated VENs over TLS, tokens on and reads protected): log in,
a refused event shows the API's reason next to its field, an event goes active and its
delivered kW rises above zero, it is stopped and every VEN restores; a scheduled event is
cancelled after a confirmation; the fleet, VEN, network and site pages show the simulated
VENs. Each page is saved as a screenshot (tests/browser/conftest.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from dr_infra.platform import Platform
from tests.browser.conftest import Console
from tests.fixtures.platform import OPERATOR_TOKEN, ven_prefix
from tests.fixtures.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

VENS = 6
#: Generous: a loaded 2-core machine runs five services, three brokers and a browser.
UI_TIMEOUT_MS = 30_000


def kw_of(text: str) -> float:
    """'1,234.5 kW' -> 1234.5"""
    return float(text.replace(",", "").split()[0])


async def online(api: httpx.AsyncClient, count: int) -> bool:
    return (await api.get("/api/stats/network")).json()["onlineVens"] >= count


async def log_in(page: Page, platform: Platform) -> None:
    await page.goto(platform.dashboard_url)
    token = page.get_by_label("API token")
    await token.fill("not-a-token")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("form.login .form-error")).to_contain_text("unknown bearer token")
    await token.fill(OPERATOR_TOKEN)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Demand-response events")).to_be_visible()
    await expect(page.locator("nav .who")).to_contain_text("operator")


async def refused_event_shows_the_reason(page: Page) -> None:
    form = page.get_by_role("form", name="create event")
    await form.locator("input[name=requestedReductionKw]").fill("-5")
    await form.get_by_role("button", name="Create event").click()
    reason = form.locator('[data-field="requestedReductionKw"] .field-error')
    await expect(reason).not_to_be_empty()
    await expect(page.locator(".messages .notice")).to_have_count(0)  # nothing was created


async def create_active_event(page: Page, kw: float) -> str:
    form = page.get_by_role("form", name="create event")
    await form.locator("input[name=requestedReductionKw]").fill(str(kw))
    await form.locator("input[name=startNow]").check()
    await form.get_by_role("button", name="Create event").click()
    await expect(form.locator('[data-field="requestedReductionKw"] .field-error')).to_be_empty()
    created = page.locator(".messages .notice a")
    await expect(created).to_have_text(re.compile(r"^evt-"))
    event_id = await created.inner_text()
    await created.click()
    return event_id


async def delivered_kw(page: Page) -> float:
    figure = page.locator('[data-figure="delivered"]')
    return kw_of(await figure.inner_text()) if await figure.count() else 0.0


async def test_an_operator_runs_an_event_from_the_dashboard(
    platform_factory, api_for, page: Page, console: Console, screenshots: Path, ns: str
) -> None:
    platform: Platform = platform_factory(VENS)
    api = api_for(platform)
    await wait_for(lambda: online(api, VENS), timeout=60, message=f"{VENS} VENs online")
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)

    await log_in(page, platform)
    await refused_event_shows_the_reason(page)
    await page.screenshot(path=screenshots / "01-events-refused.png", full_page=True)

    event_id = await create_active_event(page, kw=4.0)
    await expect(page.get_by_role("heading", name=re.compile(f"Event {event_id}"))).to_be_visible()
    await expect(page.locator(".event-head .badge")).to_have_text("active")
    await wait_for(lambda: delivered_kw(page), timeout=60, message="delivered kW above zero")
    acks = page.get_by_role("table", name="VEN acks")
    await expect(acks.locator("tbody tr")).to_have_count(VENS)
    await expect(acks.locator('td[data-col="status"]').filter(has_text="acked")).to_have_count(VENS)
    await expect(page.locator(".chart-note")).to_contain_text("delivered: sum over VENs")
    await page.screenshot(path=screenshots / "02-event-live.png", full_page=True)

    # The simulated site's own page (served by ven-sim) shows the event from the VEN's side.
    ven = f"{ven_prefix(ns)}001"
    site = await page.context.new_page()
    await site.goto(f"{platform.sim_url}/site/{ven}")
    await expect(site.locator("body")).to_contain_text(event_id)
    await site.screenshot(path=screenshots / "03-site-during-event.png", full_page=True)
    await site.close()

    # The per-VEN table sorts and filters on the server.
    await acks.get_by_role("button", name="VEN").click()  # venId ascending is the default: now descending
    first = acks.locator('tbody tr td[data-col="venId"]').first
    await expect(first).to_have_text(f"{ven_prefix(ns)}{VENS:03d}")
    await page.get_by_label("VEN id or name").fill(f"{ven_prefix(ns)}002")
    await expect(acks.locator("tbody tr")).to_have_count(1)
    await page.get_by_label("VEN acks status filter").select_option("timed_out")
    await expect(acks.locator("tbody tr")).to_have_text(["Nothing matches these filters."])

    await page.get_by_role("button", name="Stop").click()
    await page.get_by_role("button", name="Stop event").click()
    await expect(page.locator(".messages .notice.ok")).to_contain_text("restoring")
    await expect(page.locator(".event-head .badge")).to_have_text("stopped")
    await expect(page.locator('[data-figure="restores"]')).to_have_text(f"{VENS} / {VENS}")
    await page.screenshot(path=screenshots / "04-event-stopped.png", full_page=True)

    # A scheduled event is cancelled from the list, after a confirmation.
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {"startTime": start.isoformat(), "endTime": (start + timedelta(hours=1)).isoformat()}
    scheduled = (await api.post("/api/events", json=body | {"requestedReductionKw": 3})).json()["id"]
    await page.get_by_role("link", name="Events").click()
    row = page.locator(f'tr[data-key="{scheduled}"]')
    await row.get_by_role("button", name="Cancel").click()
    await page.get_by_role("button", name="Keep it").click()
    await expect(row.locator(".badge")).to_have_text("scheduled")
    await row.get_by_role("button", name="Cancel").click()
    await page.get_by_role("button", name="Cancel event").click()
    await expect(row.locator(".badge")).to_have_text("cancelled")
    await expect(page.locator(f'tr[data-key="{event_id}"] .badge')).to_have_text("stopped")
    await page.screenshot(path=screenshots / "05-events.png", full_page=True)

    await page.get_by_role("link", name="Fleet").click()
    await expect(page.get_by_role("table", name="VENs").locator("tbody tr")).to_have_count(VENS)
    await expect(page.locator('[data-figure="online"]')).to_have_text(str(VENS))
    fleet = page.get_by_role("table", name="VENs")
    await page.get_by_label("VEN id or name").fill(f"{ven_prefix(ns)}003")
    await expect(fleet.locator("tbody tr")).to_have_count(1)
    await page.get_by_label("VENs status filter").select_option("offline")
    await expect(fleet.locator("tbody tr")).to_have_text(["Nothing matches these filters."])
    await page.get_by_label("VENs status filter").select_option("")
    await page.get_by_label("VEN id or name").fill("")
    await expect(fleet.locator("tbody tr")).to_have_count(VENS)
    await page.screenshot(path=screenshots / "06-fleet.png", full_page=True)

    await page.get_by_role("link", name=ven, exact=True).click()
    await expect(page.get_by_role("table", name="circuits").locator("tbody tr").first).not_to_contain_text(
        "No circuits"
    )
    await expect(page.get_by_role("table", name="acks").locator("tbody")).to_contain_text(event_id)
    site_link = page.get_by_role("link", name="site's local page")
    await expect(site_link).to_have_attribute("href", f"{platform.sim_url}/site/{ven}")
    await page.screenshot(path=screenshots / "07-ven.png", full_page=True)

    await page.get_by_role("link", name="Network").click()
    await expect(
        page.get_by_role("table", name="loads by type").locator("tbody tr").first
    ).not_to_contain_text("No loads")
    await page.screenshot(path=screenshots / "08-network.png", full_page=True)

    assert console.errors == []
