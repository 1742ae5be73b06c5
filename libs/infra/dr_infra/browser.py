"""Headless Chromium for the dashboard's tests and bench: Debian's `chromium` (Playwright
cannot download its own browsers here), driven by Playwright through `executable_path`."""

from __future__ import annotations

import os
import shutil

from playwright.async_api import Browser, Playwright

from .errors import InfraError

#: Where distributions put the browser (Debian: package `chromium`).
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    raise InfraError("no Chromium: run `apt-get install chromium` (`make test` does, as root)")


async def launch_chromium(playwright: Playwright) -> Browser:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
    return await playwright.chromium.launch(executable_path=chromium_path(), args=args)
