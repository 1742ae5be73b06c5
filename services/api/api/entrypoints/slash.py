"""Old clients POST to `/api/events/`: serve every `/api/` path with or without a trailing slash.

Only under `/api/`: the dashboard's `/dashboard/` must keep its slash, or its relative asset
URLs would resolve against `/`."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class StripTrailingSlash:
    """Rewrite `/x/` to `/x` before routing (no redirect: old clients do not follow 307)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/api/") and path.endswith("/"):
            stripped = path.rstrip("/") or "/"
            scope = dict(scope, path=stripped, raw_path=stripped.encode())
        await self.app(scope, receive, send)
