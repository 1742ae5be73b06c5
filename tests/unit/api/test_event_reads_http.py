"""The event read endpoints' refusals over HTTP (fakes): the API's usual 422 shape, before any query."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("path", "params", "field", "code"),
    [
        ("acks", {"sort": "ackedAt"}, "sort", "invalid_value"),
        ("acks", {"sort": "--venId"}, "sort", "invalid_value"),
        ("acks", {"status": "online"}, "status", "literal_error"),
        ("acks", {"q": "x" * 101}, "q", "too_long"),
        ("acks", {"q": "a\x00b"}, "q", "value_error"),
        ("delivery", {"step_s": 4}, "step_s", "greater_than_equal"),
        ("delivery", {"step_s": 3601}, "step_s", "less_than_equal"),
        ("delivery", {"start": "2030-01-01T10:00:00"}, "start", "timezone_aware"),
    ],
)
async def test_bad_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, path: str, params: dict[str, object], field: str, code: str
) -> None:
    response = await client.get(f"/api/events/evt-00000001/{path}", params=params)
    assert response.status_code == 422, response.text
    assert [(p["field"], p["code"]) for p in response.json()["detail"]] == [(field, code)]


async def test_the_sort_refusal_lists_the_columns(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/events/evt-00000001/acks", params={"sort": "bogus"})
    assert response.json() == {
        "detail": [
            {
                "field": "sort",
                "reason": "must be one of venId, venName, shedKw, actualShedKw, responseMs, status, "
                "optionally prefixed by `-` for descending",
                "code": "invalid_value",
            }
        ]
    }
