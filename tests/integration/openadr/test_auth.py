"""`/auth/server`, `/auth/token` and the bearer check of the facade."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from api.openadr.app import MOUNT
from tests.fixtures.openadr_spec import validate_answer
from tests.integration.openadr.conftest import JWT_SECRET, Oadr, basic

pytestmark = pytest.mark.integration
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _token(http: httpx.AsyncClient, body: str, headers: dict[str, str]) -> httpx.Response:
    response = await http.post(f"{MOUNT}/auth/token", content=body, headers=FORM | headers)
    validate_answer("post", "/auth/token", response.status_code, response.json())
    return response


async def test_auth_server_names_the_token_url(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{MOUNT}/auth/server")
    assert response.status_code == 200
    validate_answer("get", "/auth/server", 200, response.json())
    assert response.json() == {"tokenURL": f"http://api{MOUNT}/auth/token"}


async def test_a_token_carries_the_client_and_its_role(
    http: httpx.AsyncClient, secrets_of: dict[str, str]
) -> None:
    basic_auth = await _token(http, "grant_type=client_credentials", basic("ven-1", secrets_of["ven-1"]))
    in_body = await _token(
        http,
        f"grant_type=client_credentials&client_id=bl&client_secret={secrets_of['bl']}&scope=read_all",
        {},
    )
    for response, sub, role in ((basic_auth, "ven-1", "ven"), (in_body, "bl", "operator")):
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
        claims = jwt.decode(answer["access_token"], JWT_SECRET, algorithms=["HS256"], issuer="dr-platform")
        assert (claims["sub"], claims["role"]) == (sub, role)


@pytest.mark.parametrize(
    ("body", "credentials", "status", "error"),
    [
        ("grant_type=client_credentials", "wrong", 401, "invalid_client"),
        ("grant_type=client_credentials", None, 401, "invalid_client"),
        ("grant_type=password", "right", 400, "unsupported_grant_type"),
        ("grant_type=client_credentials&scope=write_events", "right", 400, "invalid_scope"),
        ("grant_type=client_credentials&scope=nonsense", "right", 400, "invalid_scope"),
        ("grant_type=client_credentials&client_id=ven-1&client_secret=x", "right", 400, "invalid_request"),
    ],
)
async def test_token_requests_refused_with_the_oauth2_error(
    http: httpx.AsyncClient,
    secrets_of: dict[str, str],
    body: str,
    credentials: str | None,
    status: int,
    error: str,
) -> None:
    headers = {}
    if credentials is not None:
        headers = basic("ven-1", secrets_of["ven-1"] if credentials == "right" else "not-the-secret")
    response = await _token(http, body, headers)
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert response.json()["status"] == status
    assert "access_token" not in response.json()


@pytest.mark.parametrize("token", [None, "not-a-jwt", "expired"])
async def test_no_valid_bearer_is_401(http: httpx.AsyncClient, token: str | None) -> None:
    if token == "expired":
        token = jwt.encode({"sub": "bl", "role": "operator", "iss": "dr-platform", "exp": 1}, JWT_SECRET)
    response = await Oadr(http, token).call("GET", "/programs")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["title"] == "Unauthorized"


async def test_a_role_without_the_scope_is_403(login: Callable[..., Any]) -> None:
    installer, ven = await login("installer"), await login("ven-1")
    assert (await installer.call("GET", "/programs")).status_code == 403
    refused = await ven.call("POST", "/programs", json={"programName": "mine"})
    assert refused.status_code == 403
    assert "write_programs" in refused.json()["detail"]
