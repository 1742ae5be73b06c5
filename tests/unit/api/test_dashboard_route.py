"""The API serves the built dashboard at /dashboard/ with headers that keep it same-origin,
its configuration, and a clear answer when it was not built (docs/dashboard.md)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A built dashboard (conftest's `client` serves it)."""
    (tmp_path / "index.html").write_text("<!doctype html><title>dashboard</title>")
    (tmp_path / "app.js").write_text("console.log('dashboard')")
    return Settings(
        dashboard_dir=tmp_path, dashboard_site_page_url="http://sim:9000/site/{venId}", dashboard_refresh_s=3
    )


async def test_the_page_and_its_assets_are_served_same_origin_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/dashboard/")
    assert page.status_code == 200 and "<title>dashboard</title>" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = await client.get("/dashboard/app.js")
    assert script.status_code == 200 and "content-security-policy" in script.headers
    assert (await client.get("/dashboard/missing.js")).status_code == 404


@pytest.mark.parametrize("path", ["/", "/dashboard"])
async def test_the_root_and_the_bare_path_lead_to_the_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert (response.status_code, response.headers["location"]) == (307, "/dashboard/")


async def test_the_page_learns_site_pages_and_refresh_period(
    client: httpx.AsyncClient,
) -> None:
    config = await client.get("/dashboard/config.json")
    assert config.json() == {"sitePageUrl": "http://sim:9000/site/{venId}", "refreshSeconds": 3.0}
    assert config.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("settings", [Settings(dashboard_dir=Path("/nonexistent"))])
async def test_an_unbuilt_dashboard_says_how_to_build_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard/")
    assert response.status_code == 503 and "make dashboard" in response.text
    assert (await client.get("/dashboard/config.json")).status_code == 200
