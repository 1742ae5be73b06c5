"""Roles on every route: static `role:token`s and the platform's JWTs (docs/security.md#api-roles)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from api.__main__ import main as api_main
from api.adapters.tokens import TokenVerifier, parse_static_tokens
from api.bootstrap import create_app
from api.settings import Settings
from tests.unit.api.fakes import Fakes

pytestmark = pytest.mark.unit

SECRET = "a-test-signing-key-of-at-least-32-bytes"
TOKENS = "operator:op-token,reader:read-token,registrar:reg-token"


def _body() -> dict[str, object]:
    start = datetime.now(UTC) + timedelta(hours=1)
    return {
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(hours=1)).isoformat(),
        "requestedReductionKw": 5,
    }


@pytest.fixture
async def api(fakes: Fakes) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(api_tokens=TOKENS, api_jwt_secret=SECRET, protect_reads=True)
    app = create_app(settings, fakes.adapters)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(role: str, *, exp_in_s: int = 60, key: str = SECRET, issuer: str = "dr-platform") -> str:
    now = int(time.time())
    claims = {"sub": "client-1", "role": role, "iss": issuer, "iat": now, "exp": now + exp_in_s}
    return jwt.encode(claims, key, algorithm="HS256")


#: Tokens are made when a test runs, not when it is collected: a JWT must not expire in between.
Token = Callable[[], str]


@pytest.mark.parametrize(
    ("make_token", "create_event", "register_ven", "read", "change_ven"),
    [
        (lambda: "op-token", 201, 201, 200, 200),
        (lambda: "read-token", 403, 403, 200, 403),
        (lambda: "reg-token", 403, 201, 403, 403),
        (lambda: signed("operator"), 201, 201, 200, 200),
        (lambda: signed("reader"), 403, 403, 200, 403),
        (lambda: signed("registrar"), 403, 201, 403, 403),
    ],
    ids=["operator", "reader", "registrar", "jwt-operator", "jwt-reader", "jwt-registrar"],
)
async def test_each_role_may_do_what_its_role_allows(
    api: httpx.AsyncClient,
    fakes: Fakes,
    make_token: Token,
    create_event: int,
    register_ven: int,
    read: int,
    change_ven: int,
) -> None:
    token = make_token()
    fakes.registry.add_ven("ven-x")
    created = await api.post("/api/events", json=_body(), headers=bearer(token))
    assert created.status_code == create_event, created.text
    registered = await api.post(
        "/api/vens", json={"registrationId": "ven-new", "name": "N"}, headers=bearer(token)
    )
    assert registered.status_code == register_ven, registered.text
    assert (await api.get("/api/vens/ven-x", headers=bearer(token))).status_code == read
    changed = await api.patch("/api/vens/ven-x", json={"name": "M"}, headers=bearer(token))
    assert changed.status_code == change_ven, changed.text


async def test_a_wrong_role_is_403_with_the_reason_and_nothing_is_written(
    api: httpx.AsyncClient, fakes: Fakes
) -> None:
    refused = await api.post("/api/events", json=_body(), headers=bearer("read-token"))
    assert refused.status_code == 403
    assert "role 'reader' may not run events and change VENs: this needs operator" in refused.text
    assert "read-token" not in refused.text
    assert fakes.facts.types() == []


@pytest.mark.parametrize(
    ("make_headers", "reason"),
    [
        (dict, "missing bearer token"),
        (lambda: bearer("not-a-token"), "unknown bearer token"),
        (lambda: bearer("a.b.c"), "invalid bearer token (DecodeError)"),
        (lambda: bearer(signed("operator", exp_in_s=-10)), "the bearer token has expired"),
        (
            lambda: bearer(signed("operator", key="another-key-also-32-bytes-long-xx")),
            "InvalidSignatureError",
        ),
        (lambda: bearer(signed("operator", issuer="someone-else")), "InvalidIssuerError"),
        (lambda: bearer(signed("admin")), "role is not one of operator, reader, registrar"),
        (lambda: {"Authorization": "Basic b3A6dG9rZW4="}, "missing bearer token"),
    ],
    ids=["none", "unknown", "malformed", "expired", "forged", "issuer", "role", "basic"],
)
async def test_no_token_or_a_bad_one_is_401_and_the_body_never_echoes_it(
    api: httpx.AsyncClient, fakes: Fakes, make_headers: Callable[[], dict[str, str]], reason: str
) -> None:
    headers = make_headers()
    refused = await api.post("/api/events", json=_body(), headers=headers)
    assert refused.status_code == 401, refused.text
    assert refused.headers["www-authenticate"] == "Bearer"
    assert reason in refused.text
    given = headers.get("Authorization", "").removeprefix("Bearer ")
    assert not given or given not in refused.text
    assert fakes.facts.types() == []


def test_static_tokens_take_a_role_and_a_bare_token_is_an_operators() -> None:
    assert parse_static_tokens("legacy, reader:r1,\nregistrar:g1") == {
        "legacy": "operator",
        "r1": "reader",
        "g1": "registrar",
    }
    with pytest.raises(ValueError, match="unknown role 'admin'"):
        parse_static_tokens("admin:x")


def test_tokens_and_the_signing_key_can_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "tokens").write_text("reader:from-file\n")
    (tmp_path / "key").write_text(SECRET + "\n")
    settings = Settings(api_tokens_file=tmp_path / "tokens", api_jwt_secret_file=tmp_path / "key")
    verifier = settings.token_verifier()
    assert verifier.principal("from-file").role == "reader"
    assert verifier.principal(verifier.issue("dash", "reader", 60)).subject == "dash"
    assert "from-file" not in repr(settings) and SECRET not in repr(settings)


def test_a_short_signing_key_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings(api_jwt_secret="short")
    (tmp_path / "key").write_text("short")
    with pytest.raises(ValueError, match="at least 32"):
        Settings(api_jwt_secret_file=tmp_path / "key").token_verifier()


def test_the_cli_prints_a_token_the_api_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("API_JWT_SECRET", SECRET)
    assert api_main(["token", "--role", "registrar", "--subject", "sim", "--ttl-s", "30"]) == 0
    token = capsys.readouterr().out.strip()
    principal = TokenVerifier({}, SECRET, "dr-platform").principal(token)
    assert (principal.subject, principal.role) == ("sim", "registrar")
    monkeypatch.delenv("API_JWT_SECRET")
    assert api_main(["token", "--role", "reader", "--subject", "x"]) == 2
    assert "API_JWT_SECRET" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make_token", "answer"),
    [
        (lambda: "op-token", {"role": "operator", "subject": "static-token", "authenticated": True}),
        (lambda: "read-token", {"role": "reader", "subject": "static-token", "authenticated": True}),
        (lambda: "reg-token", {"role": "registrar", "subject": "static-token", "authenticated": True}),
        (lambda: signed("reader"), {"role": "reader", "subject": "client-1", "authenticated": True}),
    ],
)
async def test_whoami_names_any_valid_token(
    api: httpx.AsyncClient, make_token: Token, answer: dict[str, object]
) -> None:
    response = await api.get("/api/whoami", headers=bearer(make_token()))
    assert (response.status_code, response.json()) == (200, answer)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "missing bearer token"), (bearer("nope"), "unknown bearer token")],
)
async def test_whoami_refuses_no_token_or_an_unknown_one(
    api: httpx.AsyncClient, headers: dict[str, str], reason: str
) -> None:
    response = await api.get("/api/whoami", headers=headers)
    assert (response.status_code, response.json()) == (401, {"detail": reason})


async def test_whoami_on_an_open_api_is_an_unauthenticated_operator(client: httpx.AsyncClient) -> None:
    answer = (await client.get("/api/whoami", headers=bearer("anything"))).json()
    assert answer == {"role": "operator", "subject": None, "authenticated": False}
