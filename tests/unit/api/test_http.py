"""The HTTP surface with fakes: error format, quirks, auth, 503, read-your-writes header."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.bootstrap import create_app
from api.domain.errors import Invalid
from api.entrypoints.deps import window
from api.ports import Window
from api.settings import Settings
from tests.unit.api.fakes import Fakes

pytestmark = pytest.mark.unit


def _future(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def _event_body(**extra: object) -> dict[str, object]:
    return {"startTime": _future(1), "endTime": _future(2), "requestedReductionKw": 5} | extra


async def test_create_event_answers_201_and_appends_one_fact(client: httpx.AsyncClient, fakes: Fakes) -> None:
    response = await client.post("/api/events", json=_event_body())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("evt-") and len(body["id"]) == 12
    assert body["status"] == "scheduled" and body["actualReductionKw"] == 0
    assert fakes.facts.types() == ["EventCreated"]
    assert fakes.facts.facts[0].payload.eventId == body["id"]
    assert "X-Read-Model-Behind" not in response.headers


async def test_trailing_slash_and_active_status(client: httpx.AsyncClient, fakes: Fakes) -> None:
    response = await client.post("/api/events/", json=_event_body(status="active"))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    assert fakes.facts.facts[0].payload.startNow


async def test_422_names_each_field_and_why(client: httpx.AsyncClient, fakes: Fakes) -> None:
    body = {"startTime": "2030-01-01T10:00:00", "requestedReductionKw": "lots", "colour": 1}
    response = await client.post("/api/events", json=body)
    assert response.status_code == 422
    problems = {p["field"]: p for p in response.json()["detail"]}
    assert set(problems) == {"startTime", "endTime", "requestedReductionKw", "colour"}
    assert "time zone" in problems["startTime"]["reason"]
    assert problems["endTime"]["reason"] == "is required"
    assert problems["requestedReductionKw"]["reason"] == "must be a number"
    assert problems["colour"]["code"] == "extra_forbidden"
    assert fakes.facts.facts == []


async def test_domain_rules_come_back_as_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/events", json=_event_body(endTime=_future(0.5)))
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"field": "endTime", "reason": "must be after startTime", "code": "end_before_start"}]
    }


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"startTime": ', "is not valid JSON"),
        (b'{"name": "\xc3\x28"}', "is not UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "is required"),
    ],
)
async def test_malformed_bodies_are_422(client: httpx.AsyncClient, content: bytes, reason: str) -> None:
    response = await client.post("/api/events", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["field"] == "body" and problem["reason"].startswith(reason)


async def test_body_without_content_type_is_read_as_json(client: httpx.AsyncClient) -> None:
    import json

    response = await client.post("/api/events", content=json.dumps(_event_body()).encode())
    assert response.status_code == 201, response.text


async def test_too_large_is_413(client: httpx.AsyncClient, fakes: Fakes) -> None:
    response = await client.post("/api/events", json=_event_body(venIds=["v" * 100] * 2000))
    assert response.status_code == 413
    assert fakes.facts.facts == []


async def test_unknown_vens_are_422(client: httpx.AsyncClient, fakes: Fakes) -> None:
    fakes.registry.add_ven("ven-1")
    fakes.registry.add_ven("ven-gone", deleted=True)
    response = await client.post("/api/events", json=_event_body(venIds=["ven-1", "ven-2", "ven-gone"]))
    assert response.status_code == 422
    assert response.json()["detail"][0]["reason"] == "not registered: ven-2, ven-gone"
    assert fakes.facts.facts == []


async def test_stop_and_cancel_transitions(client: httpx.AsyncClient, fakes: Fakes) -> None:
    fakes.registry.add_event("evt-aaaaaaaa", "active")
    fakes.registry.add_event("evt-bbbbbbbb", "scheduled")
    fakes.registry.add_event("evt-cccccccc", "completed")
    assert (await client.delete("/api/events/evt-aaaaaaaa")).status_code == 409
    assert (await client.post("/api/events/evt-bbbbbbbb/stop")).status_code == 409
    assert (await client.post("/api/events/evt-cccccccc/stop")).status_code == 409
    assert (await client.post("/api/events/evt-dddddddd/stop")).status_code == 404
    assert (await client.delete("/api/events/no such id")).status_code == 404
    assert fakes.facts.facts == []
    stopped = await client.post("/api/events/evt-aaaaaaaa/stop")
    assert stopped.status_code == 202
    cancelled = await client.delete("/api/events/evt-bbbbbbbb")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert fakes.facts.types() == ["EventStopRequested", "EventCancelled"]


async def test_register_ven(client: httpx.AsyncClient, fakes: Fakes) -> None:
    body = {"name": "Site", "location": {"lat": 1.5, "lon": 2}, "registrationId": "ven-site"}
    response = await client.post("/api/vens/", json=body)
    assert response.status_code == 201, response.text
    assert fakes.facts.facts[0].payload.venId == "ven-site"
    fakes.registry.add_ven("ven-site")
    again = await client.post("/api/vens", json=body)
    assert again.status_code == 409
    generated = await client.post("/api/vens", json={"name": "Other"})
    assert generated.json()["id"].startswith("ven-") and len(generated.json()["id"]) == 12


async def test_ven_writes_need_a_live_ven(client: httpx.AsyncClient, fakes: Fakes) -> None:
    assert (await client.patch("/api/vens/ven-x", json={"name": "n"})).status_code == 404
    assert (await client.delete("/api/vens/ven-x")).status_code == 404
    assert (await client.post("/api/vens/ven-x/send-event", json={"shedKw": 1})).status_code == 404
    fakes.registry.add_ven("ven-x")
    assert (await client.patch("/api/vens/ven-x", json={"name": "n"})).status_code == 200
    sent = await client.post("/api/vens/ven-x/send-event", json={"shedKw": 1, "durationSec": 60})
    assert sent.status_code == 202 and sent.json()["correlationId"].startswith("cmd-ven-x-")
    assert (await client.delete("/api/vens/ven-x")).json() == {"id": "ven-x", "deleted": True}
    assert fakes.facts.types() == ["VenUpdated", "CommandRequested", "VenDeleted"]


async def test_kafka_down_is_503_and_nothing_written(client: httpx.AsyncClient, fakes: Fakes) -> None:
    fakes.facts.down = True
    response = await client.post("/api/events", json=_event_body())
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert fakes.facts.facts == []
    ready = await client.get("/ready")
    assert ready.status_code == 503 and ready.headers["retry-after"] == "1"
    assert ready.json() == {
        "status": "not ready",
        "kafka": "unavailable: Kafka unreachable",
        "postgres": "ok",
    }


async def test_read_model_behind_is_a_header(client: httpx.AsyncClient, fakes: Fakes) -> None:
    fakes.watch.caught_up = False
    response = await client.post("/api/events", json=_event_body())
    assert response.status_code == 201
    assert response.headers["X-Read-Model-Behind"] == "true"


async def test_ops_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["kafka"] == "ok"
    assert (await client.get("/docs")).status_code == 200
    assert "/api/events" in (await client.get("/openapi.json")).json()["paths"]
    await client.post("/api/events", json={})
    metrics = (await client.get("/metrics")).text
    assert 'api_requests_total{method="POST",route="/api/events",status="422"} 1.0' in metrics
    assert 'api_rejected_requests_total{reason="missing",status="422"}' in metrics


@pytest.fixture
async def secured(fakes: Fakes) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(api_tokens="s3cret, other"), fakes.adapters)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


async def test_writes_need_a_token(secured: httpx.AsyncClient, fakes: Fakes) -> None:
    missing = await secured.post("/api/events", json=_event_body())
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = await secured.post("/api/events", json={}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = await secured.post("/api/events", json=_event_body(), headers={"Authorization": "Bearer other"})
    assert ok.status_code == 201
    assert (await secured.get("/health")).status_code == 200
    assert fakes.facts.types() == ["EventCreated"]


async def test_protected_reads(fakes: Fakes) -> None:
    app = create_app(Settings(api_tokens="s3cret", protect_reads=True), fakes.adapters)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            assert (await http.get("/api/vens/ven-x")).status_code == 401
            fakes.registry.add_ven("ven-x")
            ok = await http.get("/api/vens/ven-x", headers={"Authorization": "Bearer s3cret"})
            assert ok.status_code == 200
            assert (await http.get("/health")).status_code == 200


def test_a_window_with_only_an_end_reaches_back_its_default_span() -> None:
    end = datetime(2020, 5, 1, tzinfo=UTC)
    assert window(None, end, timedelta(days=30)) == Window(end - timedelta(days=30), end)
    with pytest.raises(Invalid) as refused:
        window(end, end, timedelta(days=30))
    assert refused.value.problems[0].code == "end_before_start"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/events", "GET, POST"),  # reads and writes are separate routes of one path
        ("/api/events/", "GET, POST"),
        ("/api/events/evt-1", "DELETE, GET"),
        ("/api/events/current", "GET"),  # the literal path, not /api/events/{event_id}
        ("/api/vens/ven-1", "DELETE, GET, PATCH"),
        ("/health", "GET"),
    ],
)
async def test_an_unserved_method_is_405_allowing_the_documented_ones(
    client: httpx.AsyncClient, path: str, allow: str
) -> None:
    for method in ("OPTIONS", "PUT", "TRACE"):
        response = await client.request(method, path)
        assert response.status_code == 405, (method, response.text)
        assert response.headers["allow"] == allow, method
    documented = (await client.get("/openapi.json")).json()["paths"]
    template = path.rstrip("/").replace("evt-1", "{event_id}").replace("ven-1", "{ven_id}")
    assert sorted(m.upper() for m in documented[template]) == allow.split(", ")


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


@pytest.mark.parametrize(
    ("tokens", "protect_reads", "required"),
    [
        ("", False, set()),
        ("s3cret", False, {"POST", "PATCH", "DELETE"}),
        ("s3cret", True, {"GET", "POST", "PATCH", "DELETE"}),
    ],
)
async def test_the_document_says_where_a_token_is_required(
    fakes: Fakes, tokens: str, protect_reads: bool, required: set[str]
) -> None:
    """Exactly the operations that refuse a request without a token declare the bearer
    scheme required (and a 401); every other /api operation declares it optional."""
    app = create_app(Settings(api_tokens=tokens, protect_reads=protect_reads), fakes.adapters)
    async with app.router.lifespan_context(app):
        # past the token check, the fakes may lack a query: only 401 or not matters here
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            doc = (await http.get("/openapi.json")).json()
            assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
            for method, path, operation in _operations(doc):
                if not path.startswith("/api/"):
                    assert "security" not in operation, path
                    continue
                enforced = (
                    await http.request(method, path.format(event_id="e", ven_id="v"))
                ).status_code == 401
                # /api/whoami says who a token is: it needs one whenever tokens are configured
                expected = method in required or (bool(tokens) and path == "/api/whoami")
                assert enforced == expected, (method, path)
                declared: list[dict[str, list[str]]] = (
                    [{"HTTPBearer": []}] if enforced else [{}, {"HTTPBearer": []}]
                )
                assert operation["security"] == declared, (method, path)
                assert ("401" in operation["responses"]) == enforced, (method, path)


async def test_the_document_states_the_configured_kw_cap(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for schema, field in [
        ("NewEvent", "requestedReductionKw"),
        ("SendCommand", "shedKw"),
        ("SendCommand", "shed_kw"),
    ]:
        kw = schemas[schema]["properties"][field]
        assert (kw["exclusiveMinimum"], kw["maximum"]) == (0, settings.max_reduction_kw), (schema, field)
    patch = schemas["VenPatch"]
    assert patch["minProperties"] == 1
    assert all("null" not in json.dumps(prop) for prop in patch["properties"].values())


async def test_a_unix_time_is_not_an_iso_date_time(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/events/history", params={"end": "3481515953"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "end"
