"""`/api/stats`: network totals and per-load-type totals over the live VENs; how fresh they are."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.entrypoints.auth import require_read
from api.entrypoints.deps import ServicesDep
from api.entrypoints.schemas import ERROR_RESPONSES, FreshnessOut, LoadStatsOut, NetworkStatsOut

router = APIRouter(prefix="/api/stats", tags=["stats"], dependencies=[Depends(require_read)])


@router.get("/network")
async def network_stats(svc: ServicesDep) -> NetworkStatsOut:
    """Totals over online VENs: usage, shed potential, and reduction in active events."""
    return await svc.queries.network_stats()  # type: ignore[return-value]


@router.get("/loads")
async def load_stats(svc: ServicesDep) -> list[LoadStatsOut]:
    """Per load type: capacity and shed capability of every VEN, usage of online ones."""
    return await svc.queries.load_stats()  # type: ignore[return-value]


@router.get("/freshness", responses=ERROR_RESPONSES)
async def freshness(svc: ServicesDep) -> FreshnessOut:
    """How fresh the read model is, for a "read model behind" banner: the newest reading of a
    live VEN and the projector's last write, with the read model's clock to compare them to.

    Stale values mean that nothing is flowing (no VEN reports: the bridge or the broker) or
    that the projector is behind (or stopped): every read shows the state as of then."""
    return await svc.queries.freshness()  # type: ignore[return-value]
