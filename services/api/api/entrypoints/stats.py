"""`/api/stats`: network totals and per-load-type totals over the live VENs."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.entrypoints.auth import require_read
from api.entrypoints.deps import ServicesDep
from api.entrypoints.schemas import LoadStatsOut, NetworkStatsOut

router = APIRouter(prefix="/api/stats", tags=["stats"], dependencies=[Depends(require_read)])


@router.get("/network")
async def network_stats(svc: ServicesDep) -> NetworkStatsOut:
    """Totals over online VENs: usage, shed potential, and reduction in active events."""
    return await svc.queries.network_stats()  # type: ignore[return-value]


@router.get("/loads")
async def load_stats(svc: ServicesDep) -> list[LoadStatsOut]:
    """Per load type: capacity and shed capability of every VEN, usage of online ones."""
    return await svc.queries.load_stats()  # type: ignore[return-value]
