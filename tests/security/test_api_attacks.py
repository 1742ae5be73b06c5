"""Attacks on the REST API, against the real api and projector processes (docs/security.md).

Each refused write is followed by one legitimate write; once that one is in the read model,
the event log holds it alone: nothing refused reached Kafka or Postgres.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from dr_contracts.topics import KafkaTopics
from dr_infra.platform import Platform
from tests.fixtures.waiting import wait_for
from tests.security.conftest import kafka_records_until, keys

pytestmark = pytest.mark.security

SECRET = "the-security-suite-signing-key-32-bytes+"
OPERATOR, READER = "operator-token", "reader-token"
READ_TIMEOUT_S = 1.0
API_ENV = {
    "API_TOKENS": f"operator:{OPERATOR},reader:{READER}",
    "API_JWT_SECRET": SECRET,
    "PROTECT_READS": "true",
    "API_REQUEST_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
    "MAX_BODY_BYTES": "4096",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def event_body() -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(hours=1)
    end = start + timedelta(hours=1)
    return {"startTime": start.isoformat(), "endTime": end.isoformat(), "requestedReductionKw": 5}


@pytest.fixture
def api_platform(platform_factory: Any) -> Platform:
    platform: Platform = platform_factory(0, env=API_ENV, services=("projector", "api"))
    return platform


async def test_refused_writes_reach_neither_kafka_nor_postgres(
    api_platform: Platform, kafka_bootstrap: str, kafka_topics: KafkaTopics
) -> None:
    now = int(time.time())
    expired = jwt.encode(
        {"sub": "x", "role": "operator", "iss": "dr-platform", "iat": now - 60, "exp": now - 30}, SECRET
    )
    forged = jwt.encode(
        {"sub": "x", "role": "operator", "iss": "dr-platform", "exp": now + 60},
        "another-key-of-32-bytes-or-more!!",
    )
    async with httpx.AsyncClient(base_url=api_platform.api_url, timeout=10) as http:
        for headers, status, reason in [
            ({}, 401, "missing bearer token"),
            (bearer("guessed"), 401, "unknown bearer token"),
            (bearer("not.a.jwt"), 401, "invalid bearer token"),
            (bearer(expired), 401, "expired"),
            (bearer(forged), 401, "InvalidSignatureError"),
            (bearer(READER), 403, "role 'reader' may not run events"),
        ]:
            refused = await http.post("/api/events", json=event_body(), headers=headers)
            assert (refused.status_code, reason in refused.text) == (status, True), refused.text
        oversized = await http.post(
            "/api/events",
            content=b'{"pad": "' + b"x" * 8192 + b'"}',
            headers=bearer(OPERATOR) | {"content-type": "application/json"},
        )
        assert oversized.status_code == 413, oversized.text
        assert (await http.get("/api/events")).status_code == 401  # reads are protected too

        created = await http.post("/api/events", json=event_body(), headers=bearer(OPERATOR))
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]

        async def listed() -> list[str]:
            page = await http.get("/api/events", headers=bearer(READER))
            return [event["id"] for event in page.json()] if page.status_code == 200 else []

        await wait_for(listed, 30, message="the legitimate event in the read model")
        assert await listed() == [event_id]
    records = await kafka_records_until(
        kafka_bootstrap, [kafka_topics.dr_events], lambda got: event_id in keys(got)
    )
    assert keys(records) == [event_id]


async def test_a_slow_loris_request_is_cut_off_and_counted(api_platform: Platform) -> None:
    """Two clients trickle a request (one never ends its headers, one its body): each gets 408
    and a closed connection after API_REQUEST_READ_TIMEOUT_S, while others are served."""
    host, port = "127.0.0.1", int(api_platform.api_url.rpartition(":")[2])
    partial_head = b"POST /api/events HTTP/1.1\r\nHost: api\r\nX-Slow: 1"
    partial_body = b"POST /api/events HTTP/1.1\r\nHost: api\r\nContent-Length: 100\r\n\r\n{"
    slow = [await asyncio.open_connection(host, port) for _ in range(2)]
    for (_, writer), data in zip(slow, (partial_head, partial_body), strict=True):
        writer.write(data)
        await writer.drain()
    async with httpx.AsyncClient(base_url=api_platform.api_url, timeout=10) as http:
        assert (await http.get("/health")).status_code == 200  # not blocked meanwhile
        for reader, writer in slow:
            answer = await asyncio.wait_for(reader.read(), timeout=READ_TIMEOUT_S + 10)  # until closed
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer
            assert b"not received in full within 1 s" in answer
            writer.close()
        metrics = (await http.get("/metrics")).text
    assert 'api_rejected_requests_total{reason="request_read_timeout",status="408"} 2.0' in metrics
