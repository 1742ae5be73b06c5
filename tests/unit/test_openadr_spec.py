"""tests/fixtures/openadr_spec.py: passes valid OpenADR 3.1.0 answers, refuses invalid ones, readably."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.openadr_spec import validate_answer

pytestmark = pytest.mark.unit

METADATA = {
    "id": "object-999",
    "createdDateTime": "2026-03-16T09:11:13Z",
    "modificationDateTime": "2026-03-16T09:11:13Z",
}
PROGRAM = {**METADATA, "objectType": "PROGRAM", "programName": "ResTOU"}
EVENT = {**METADATA, "objectType": "EVENT", "programID": "object-999"}
PROBLEM = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no program object-1"}


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/programs/object-999", 200, PROGRAM),
        ("GET", "/events", 200, [EVENT, EVENT]),
        ("GET", "/events", 200, []),
        ("GET", "/programs/object-1", 404, PROBLEM),
        ("POST", "/auth/token", 200, {"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 3600}),
        # the in-code patch: the document's `ven` / `resource` demand two objectType values at once
        ("GET", "/vens/ven-1", 200, {**METADATA, "objectType": "VEN", "clientID": "c-1", "venName": "VEN-1"}),
        (
            "GET",
            "/resources/r-1",
            200,
            {**METADATA, "objectType": "RESOURCE", "clientID": "c-1", "resourceName": "R-1", "venID": "v-1"},
        ),
        # the in-code patch: the payloadDescriptors discriminator names no existing schema
        (
            "GET",
            "/programs",
            200,
            [
                {
                    **PROGRAM,
                    "payloadDescriptors": [
                        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE"}
                    ],
                }
            ],
        ),
    ],
)
def test_a_valid_answer_passes(method: str, path: str, status: int, body: Any) -> None:
    validate_answer(method, path, status, body)


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "expected"),
    [
        (
            "GET",
            "/programs/object-999",
            200,
            {k: v for k, v in PROGRAM.items() if k != "id"},
            "at #: 'id' is a required property",
        ),
        ("GET", "/events", 200, EVENT, "at #: {"),
        (
            "GET",
            "/events",
            200,
            [EVENT, {**EVENT, "createdDateTime": "2026-03-16 09:11"}],
            "at #/1/createdDateTime: '2026-03-16 09:11' is not a 'date-time'",
        ),
        (
            "GET",
            "/vens/ven-1",
            200,
            {**METADATA, "objectType": "PROGRAM", "clientID": "c-1", "venName": "VEN-1"},
            "at #/objectType: 'PROGRAM' is not one of ['VEN']",
        ),
        (
            "POST",
            "/auth/token",
            200,
            {"access_token": "a.b.c", "token_type": "bearer"},
            "at #/token_type: 'bearer' is not one of ['Bearer']",
        ),
    ],
)
def test_an_invalid_answer_fails_with_the_place_and_the_reason(
    method: str, path: str, status: int, body: Any, expected: str
) -> None:
    with pytest.raises(AssertionError) as failure:
        validate_answer(method, path, status, body)
    assert "not a valid OpenADR 3.1.0 answer" in str(failure.value)
    assert expected in str(failure.value)


@pytest.mark.parametrize(
    ("method", "path", "status", "expected"),
    [
        ("GET", "/nowhere", 200, "'/nowhere' matches no path"),
        ("PATCH", "/programs/object-999", 200, "has no PATCH /programs/{programID}"),
        ("GET", "/notifiers", 401, "GET /notifiers documents no status 401"),
    ],
)
def test_what_the_document_does_not_describe_fails(
    method: str, path: str, status: int, expected: str
) -> None:
    with pytest.raises(AssertionError) as failure:
        validate_answer(method, path, status, {})
    assert expected in str(failure.value)
