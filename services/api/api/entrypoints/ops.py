"""Operations: liveness, readiness (Kafka and Postgres reachable), Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.entrypoints.deps import ServicesDep
from api.ports import Unavailable

router = APIRouter(tags=["ops"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Alive: the process answers."""
    return {"status": "ok"}


async def _probe(check: Any) -> str:
    """Each check bounds its own wait (KAFKA_ANSWER_TIMEOUT_S, PG_TIMEOUT_S): see docs/api.md."""
    try:
        await check()
    except Unavailable as exc:  # says which wait ran out
        return f"unavailable: {exc}"
    except Exception as exc:  # any failure means "not ready", with its name
        return f"unavailable: {type(exc).__name__}"
    return "ok"


@router.get("/ready")
async def ready(svc: ServicesDep) -> JSONResponse:
    """Ready when Kafka and Postgres both answer; 503 otherwise."""
    kafka, postgres = await asyncio.gather(_probe(svc.facts.ping), _probe(svc.registry.ping))
    ok = kafka == postgres == "ok"
    body = {"status": "ready" if ok else "not ready", "kafka": kafka, "postgres": postgres}
    if ok:
        return JSONResponse(body)
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})


@router.get("/metrics", include_in_schema=False)
async def metrics(svc: ServicesDep) -> Response:
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
