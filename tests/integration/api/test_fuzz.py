"""Property-based: bodies and query strings generated from the OpenAPI schema (schemathesis),
valid and invalid, thrown at every endpoint: never a 500, never a fact for a refused request.

Hypothesis runs in a worker thread; each request is sent on the test's event loop, where
the app, its Kafka producer, its pool and the projector keep running between examples.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from api.bootstrap import create_app
from api.settings import Settings
from tests.integration.api.conftest import count_records, write_topics
from tests.integration.api.test_events import _event, _fresh

pytestmark = [
    pytest.mark.integration,
    # schemathesis draws with `random` inside its strategies; hypothesis frowns on it
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = 250
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings()).openapi())
WRITES = {"POST", "PATCH", "DELETE", "PUT"}


def _schema_cases(known: dict[str, str]) -> st.SearchStrategy[Any]:
    """Valid and invalid cases for every operation, half of them on ids that exist."""
    strategies = []
    for result in SCHEMA.get_all_operations():
        op = result.ok()
        ids = {name: value for name, value in known.items() if f"{{{name}}}" in op.path}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(op.as_strategy(generation_mode=mode))
            if ids:
                strategies.append(op.as_strategy(generation_mode=mode, path_parameters=ids))
    return st.one_of(strategies).map(_request)


def _valid_event(start_in_s: int, length_s: int, kw: float, active: bool) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(seconds=start_in_s)
    body: dict[str, Any] = {
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(seconds=length_s)).isoformat(),
        "requestedReductionKw": kw,
    }
    if active:
        body["status"] = "active"
    return {"method": "POST", "url": "http://api/api/events", "json": body}


def _valid_ven(name: str) -> dict[str, Any]:
    return {"method": "POST", "url": "http://api/api/vens", "json": {"name": name}}


#: Writes the domain accepts, so that "one fact per accepted write" is tested on many.
_VALID_WRITES = st.one_of(
    st.builds(
        _valid_event,
        st.integers(60, 30 * 86400),
        st.integers(60, 7 * 86400),
        st.floats(0.001, 10_000),
        st.booleans(),
    ),
    st.builds(
        _valid_ven, st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=40)
    ),
)


def _requests(known: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    """One request in ten is a write meant to be accepted; the rest come from the schema."""
    fuzz = _schema_cases(known)
    return st.integers(0, 9).flatmap(lambda n: _VALID_WRITES if n == 0 else fuzz)


def _param(value: Any) -> Any:
    """Query values as a client would send them: scalars, or a list of scalars."""
    scalar = (str, int, float, bool)
    if isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value)):
        return value
    return json.dumps(value)


def _request(case: Any) -> dict[str, Any]:
    """A schemathesis case -> httpx.request keyword arguments (no generated junk headers)."""
    kwargs = case.as_transport_kwargs(base_url="http://api")
    request = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "params": {k: _param(v) for k, v in (kwargs.get("params") or {}).items() if v is not None},
        "headers": {k: v for k, v in kwargs["headers"].items() if k.lower() == "content-type"},
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        request["content"] = data if isinstance(data, bytes) else str(data).encode()
    return request


@dataclass
class Tally:
    accepted_writes: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


async def test_no_500_and_no_fact_for_a_refusal(api: httpx.AsyncClient, api_settings: Settings) -> None:
    ven_id = _fresh(await api.post("/api/vens", json={"name": "Fuzz", "registrationId": "ven-fuzz"}))["id"]
    event_id = _fresh(await api.post("/api/events", json=_event()))["id"]
    loop = asyncio.get_running_loop()
    tally = Tally()
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=_requests({"event_id": event_id, "ven_id": ven_id}))
    def throw(request: dict[str, Any]) -> None:
        response = asyncio.run_coroutine_threadsafe(api.request(**request), loop).result(timeout=120)
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {request} -> {response.text[:300]}")
        elif response.status_code < 300 and request["method"] in WRITES:
            tally.accepted_writes += 1

    await asyncio.to_thread(throw)
    print(f"fuzz: {tally.requests} requests, {tally.accepted_writes} accepted writes, {tally.statuses}")
    assert not failures, "\n".join(failures)
    assert tally.requests >= EXAMPLES
    # the two set-up writes plus one fact per accepted write, none for any refusal
    assert await count_records(api_settings, *write_topics(api_settings)) == 2 + tally.accepted_writes
