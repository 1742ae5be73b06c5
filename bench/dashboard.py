"""The dashboard in a real browser with a large fleet: how long its pages take to load and to
update themselves, measured by the page itself (`window.__dashboard`, dashboard/src/live.ts).

For each size, a local platform as `make run` wires it (TLS, tokens, every service a process,
the simulator registering its VENs over REST, readings every SIM_INTERVAL_S), an event for every
VEN started now, and, once every VEN has acked, headless Chromium (dr_infra.browser):
- `dashboard_<n>_<page>_load_ms`: a fresh load of the events list, the live event and the
  fleet page: navigation start -> the page's first data drawn;
- `dashboard_<n>_event_update_ms_p50` / `_max`: one live update of the event page (its four
  requests and the redraw), over UPDATES refreshes.
With `--screenshots DIR`, the events list, the live event and the fleet page of the first
size are saved there.

    python -m bench.dashboard [--sizes 1000 10000] [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from playwright.async_api import Page, async_playwright

from bench.results import merge_results, print_table
from dr_infra import LocalStack, ensure_topics
from dr_infra.browser import launch_chromium
from dr_infra.demo import wait_for_vens
from dr_infra.local_tokens import local_tokens
from dr_infra.mosquitto import BrokerTls
from dr_infra.platform import Platform
from dr_runtime.settings import KafkaSettings

LOGS = Path(".bench/logs/dashboard")
#: Slower than the field's 5 s, so 10k VENs' readings leave the 2-core box room for the browser.
SIM_INTERVAL_S = 10
UPDATES = 10
#: Refreshes of the event page before its screenshot, so the chart shows a line.
SHOT_AFTER_REFRESHES = 30
TIMEOUT_S = 600.0
#: The key dashboard/src/api.ts keeps the token under (a logged-in tab).
TOKEN_KEY = "dr.dashboard.token"


async def drawn(page: Page, refreshes: int = 1) -> dict[str, Any]:
    """Wait until the shown page has refreshed `refreshes` times; -> its timings."""
    await page.wait_for_function(
        f"window.__dashboard && window.__dashboard.refreshes >= {refreshes}", timeout=TIMEOUT_S * 1000
    )
    return await page.evaluate("window.__dashboard")


async def measure(
    platform: Platform, token: str, event_id: str, size: int, shots: Path | None
) -> dict[str, float]:
    numbers: dict[str, float] = {}
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        # The page's CSP forbids eval, which Playwright's wait_for_function uses: bypassed here only.
        context = await browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
        await context.add_init_script(
            f"sessionStorage.setItem({orjson.dumps(TOKEN_KEY).decode()}, {orjson.dumps(token).decode()})"
        )
        for name, hash_ in (("events", "#/events"), ("event", f"#/events/{event_id}"), ("fleet", "#/fleet")):
            page = await context.new_page()
            await page.goto(platform.dashboard_url + hash_)
            timings = await drawn(page)
            numbers[f"dashboard_{size}_{name}_load_ms"] = round(timings["loadedAtMs"], 1)
            if name == "event":
                samples = []
                for n in range(2, UPDATES + 2):
                    samples.append((await drawn(page, n))["lastRefreshMs"])
                numbers[f"dashboard_{size}_event_update_ms_p50"] = round(statistics.median(samples), 1)
                numbers[f"dashboard_{size}_event_update_ms_max"] = round(max(samples), 1)
            if shots:
                if name == "event":  # a chart with a line: a minute of settled buckets
                    await page.wait_for_function(
                        f"document.querySelectorAll('.chart .u-over').length && "
                        f"window.__dashboard.refreshes >= {UPDATES + 2 + SHOT_AFTER_REFRESHES}",
                        timeout=TIMEOUT_S * 1000,
                    )
                await page.screenshot(path=shots / f"{size}-{name}.png", full_page=name != "fleet")
            await page.close()
        await browser.close()
    return numbers


def run_size(size: int, shots: Path | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, LocalStack(mqtt_tls=BrokerTls(Path(tmp) / "pki")) as stack:
        asyncio.run(
            ensure_topics(
                stack.kafka_bootstrap,
                KafkaSettings(kafka_bootstrap_servers=stack.kafka_bootstrap).topic_partitions,
            )
        )
        tokens = local_tokens(Path(tmp) / "tokens")
        env = stack.env() | tokens.env()
        sim = ["--interval", str(SIM_INTERVAL_S), "--register-concurrency", "50"]
        with Platform(
            env, log_dir=LOGS, vens=size, sim_args=sim, broker=stack.mosquitto, startup_timeout=300
        ) as platform:
            with httpx.Client(base_url=platform.api_url, headers=tokens.headers(), timeout=30) as api:
                stats = wait_for_vens(api, size, timeout=TIMEOUT_S)
                start = datetime.now(UTC)
                body = {
                    "status": "active",
                    "endTime": (start + timedelta(minutes=5)).isoformat(),
                    "requestedReductionKw": round(0.5 * stats["potentialLoadReductionKw"], 1),
                }
                event = api.post("/api/events", json=body).raise_for_status().json()
                deadline = time.monotonic() + TIMEOUT_S
                while api.get(f"/api/events/{event['id']}/commands").json()["acked"] < size:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"not every one of {size} VENs acked in {TIMEOUT_S:.0f} s")
                    time.sleep(1)
            return asyncio.run(measure(platform, tokens.operator, event["id"], size, shots))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--screenshots", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    numbers: dict[str, float] = {}
    for i, size in enumerate(args.sizes):
        numbers |= run_size(size, args.screenshots if i == 0 else None)
        print_table(numbers)
    merge_results(numbers)


if __name__ == "__main__":
    main()
