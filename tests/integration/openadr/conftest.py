"""The OpenADR facade in-process over ASGI, against the real broker, Postgres and projector.

Every answer of the facade goes through `validate_answer` (the official 3.1.0 document).
Clients: `bl` (operator), `ven-1` and `ven-2` (role ven), provisioned as the CLI does.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.openadr.app import MOUNT
from api.openadr.clients import add_client
from api.settings import Settings
from tests.fixtures.openadr_spec import validate_answer
from tests.integration.api.conftest import api_client, api_settings, projector, publish

__all__ = ["api_settings", "projector", "publish"]  # the REST API's fixtures, used here too

JWT_SECRET = "openadr-test-secret-of-at-least-32-bytes"
CLIENTS = {"bl": "operator", "ven-1": "ven", "ven-2": "ven", "installer": "registrar"}


class Oadr:
    """One client of the facade: its token (or none), every answer checked against the spec."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.request(method, MOUNT + path, headers=headers, **kwargs)
        body = response.json() if response.content else None
        validate_answer(method, path.split("?")[0], response.status_code, body)
        return response

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def secrets_of(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "oadr-clients"
    return {client: add_client(path, client, role) for client, role in CLIENTS.items()}  # type: ignore[arg-type]


@pytest.fixture
def oadr_settings(api_settings: Settings, tmp_path: Path, secrets_of: dict[str, str], ns: str) -> Settings:
    """Tokens on; webhooks may go to this machine over http (the test's receiver), retried fast."""
    return api_settings.model_copy(
        update={
            "api_jwt_secret": JWT_SECRET,
            "oadr_clients_file": tmp_path / "oadr-clients",
            "oadr_webhook_hosts": "127.0.0.1",
            "oadr_webhook_allow_http": True,
            "oadr_notifier_group_id": f"oadr-notifier-{ns}",
            "oadr_webhook_first_wait_s": 0.05,
            "oadr_webhook_max_wait_s": 0.2,
        }
    )


@pytest.fixture
async def http(oadr_settings: Settings, projector: None) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(oadr_settings) as client:
        yield client


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
async def login(http: httpx.AsyncClient, secrets_of: dict[str, str]) -> Callable[..., Any]:
    async def token_of(client_id: str) -> Oadr:
        response = await http.post(
            f"{MOUNT}/auth/token",
            content="grant_type=client_credentials",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **basic(client_id, secrets_of[client_id]),
            },
        )
        assert response.status_code == 200, response.text
        validate_answer("post", "/auth/token", 200, response.json())
        return Oadr(http, response.json()["access_token"])

    return token_of


@pytest.fixture
async def bl(login: Callable[..., Any]) -> Oadr:
    return await login("bl")


@pytest.fixture
async def ven1(login: Callable[..., Any]) -> Oadr:
    return await login("ven-1")


@pytest.fixture
async def ven2(login: Callable[..., Any]) -> Oadr:
    return await login("ven-2")
