"""Old clients POST to `/api/events/`: serve every path with or without a trailing slash."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class StripTrailingSlash:
    """Rewrite `/x/` to `/x` before routing (no redirect: old clients do not follow 307)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            stripped = path.rstrip("/") or "/"
            scope = dict(scope, path=stripped, raw_path=stripped.encode())
        await self.app(scope, receive, send)
