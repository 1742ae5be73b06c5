"""The dashboard in a real browser (dr_infra.browser: Debian's Chromium, driven by Playwright).
`make test` installs `chromium`.

Screenshots go to `$DR_TEST_OUTPUT/<test name>/` (default `.test-output/`), kept after the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from dr_infra.browser import launch_chromium


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        yield browser
        await browser.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    out = Path(os.environ.get("DR_TEST_OUTPUT", ".test-output")) / request.node.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


class Console:
    """Everything the page logged as an error, or threw: a CSP refusal or a bug shows here.

    Chromium also logs each 4xx answer ("Failed to load resource"): those are the refusals
    the tests provoke on purpose (a bad token, a bad event), checked on the page instead."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Console:
        page.on("console", self._message)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        return self

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        ):
            self.errors.append(message.text)


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    yield await context.new_page()
    await context.close()


@pytest.fixture
def console(page: Page) -> Console:
    return Console().watch(page)
