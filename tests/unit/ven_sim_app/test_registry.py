"""`--register`: POST /api/vens per VEN, 409 is fine, 5xx retried, 4xx reported."""

from __future__ import annotations

import httpx
import pytest

from dr_contracts import jsonio
from ven_sim.adapters import registry
from ven_sim.adapters.registry import register_vens, registration_body

pytestmark = pytest.mark.unit


def test_body_carries_the_ven_id_as_registration_id() -> None:
    body = registration_body("ven-001", seed=7)
    assert body["registrationId"] == "ven-001" and body["name"]
    assert 37.2 <= body["location"]["lat"] <= 38.0 and -122.6 <= body["location"]["lon"] <= -121.7
    assert body == registration_body("ven-001", seed=7)


async def test_registration_outcomes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "RETRY_BASE_S", 0.0)
    seen: list[tuple[str, str | None]] = []
    flaky = {"ven-003": 1}

    def answer(request: httpx.Request) -> httpx.Response:
        ven_id = jsonio.loads(request.content)["registrationId"]
        seen.append((ven_id, request.headers.get("authorization")))
        assert request.url.path == "/api/vens"
        if ven_id == "ven-002":
            return httpx.Response(409, json={"detail": "exists"})
        if flaky.get(ven_id):
            flaky[ven_id] -= 1
            return httpx.Response(503)
        if ven_id == "ven-004":
            return httpx.Response(422, json={"detail": "bad"})
        return httpx.Response(201, json={"id": ven_id})

    ids = ["ven-001", "ven-002", "ven-003", "ven-004"]
    done, failed = await register_vens(
        "http://api", ids, seed=7, token="tok", transport=httpx.MockTransport(answer)
    )
    assert (done, failed) == (3, 1)
    assert sorted(v for v, _ in seen) == ["ven-001", "ven-002", "ven-003", "ven-003", "ven-004"]
    assert {auth for _, auth in seen} == {"Bearer tok"}
