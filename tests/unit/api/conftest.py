"""The real app wired to in-memory fakes, driven in-process over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.bootstrap import create_app
from api.settings import Settings
from tests.unit.api.fakes import Fakes


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def settings() -> Settings:
    return Settings(api_tokens="", max_reduction_kw=1000)


@pytest.fixture
async def client(fakes: Fakes, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, fakes.adapters)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http
