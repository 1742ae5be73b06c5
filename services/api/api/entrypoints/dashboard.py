"""The operator dashboard (services/api/dashboard, built by `make dashboard`) at /dashboard/.

Static files only: the page talks to the platform through the same public REST API as any
client, with the operator's token, so it proves the API is enough for a real client. Every
asset comes from this origin (no CDN), and the headers say so to the browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

#: Where `make dashboard` puts the built page, inside the package (so images carry it).
BUILT = Path(__file__).resolve().parent.parent / "static" / "dashboard"

#: Only this origin's scripts, styles and API; no framing (clickjacking), no foreign forms.
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class _Guarded:
    """Adds the security headers to every answer of the dashboard's files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_guarded(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_guarded)


def install(app: FastAPI, directory: Path, site_page_url: str | None, refresh_s: float) -> None:
    """Serve the built page from `directory`, or say how to build it when it is missing."""
    config = {"sitePageUrl": site_page_url, "refreshSeconds": refresh_s}

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard_root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    @app.get("/dashboard/config.json", include_in_schema=False)
    async def dashboard_config() -> JSONResponse:
        """What the page cannot know by itself: where each simulated site's local page is."""
        return JSONResponse(config, headers={"Cache-Control": "no-store"})

    if (directory / "index.html").is_file():
        app.mount("/dashboard", _Guarded(StaticFiles(directory=directory, html=True)), name="dashboard")
        return

    @app.get("/dashboard/{rest:path}", include_in_schema=False)
    async def not_built(rest: str) -> PlainTextResponse:
        return PlainTextResponse(
            f"The dashboard is not built in this installation ({directory} has no index.html): "
            "run `make dashboard` (or any `make` target) and restart the API.",
            status_code=503,
        )
