"""What route handlers receive: the wired services, and query parameters shared by lists."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response

from api.adapters.pg_queries import PgQueries
from api.domain.errors import Invalid, NotFound, Problem
from api.domain.fields import IsoDatetime, Search
from api.entrypoints.metrics import ApiMetrics
from api.ports import FactLog, Page, Registry, Window
from api.service import Writer, Written
from dr_contracts.base import ID_PATTERN, MAX_TS
from dr_runtime.settings import TelemetryRetention

_ID = re.compile(ID_PATTERN)
T = TypeVar("T")
_NO_END = datetime.fromtimestamp(MAX_TS, UTC)


@dataclass
class Services:
    """Everything a request may use; built once per process by the lifespan."""

    writer: Writer
    registry: Registry
    queries: PgQueries
    facts: FactLog
    metrics: ApiMetrics
    default_page: int
    max_page: int
    #: How long each telemetry resolution is kept (the `auto` resolution needs it).
    retention: TelemetryRetention


async def _services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(_services)]


def existing_id(kind: str, ident: str) -> str:
    """An id that cannot exist (bad shape) is simply not found; it never reaches SQL."""
    if not _ID.match(ident):
        raise NotFound(kind, ident[:140])
    return ident


async def lookup(kind: str, ident: str, query: Callable[[str], Awaitable[T | None]]) -> T:
    """What the read model holds for one id, else 404 (`query` answers None for an unknown id)."""
    found = await query(existing_id(kind, ident))
    if found is None:
        raise NotFound(kind, ident)
    return found


async def _page(
    svc: ServicesDep,
    limit: Annotated[int | None, Query(ge=1, description="page size; capped by MAX_PAGE_SIZE")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page:
    return Page(min(limit or svc.default_page, svc.max_page), offset)


PageDep = Annotated[Page, Depends(_page)]

#: `q` of the lists of VENs: a case-insensitive substring of the venId or the VEN's name.
VenSearch = Annotated[
    Search | None, Query(description="only VENs whose venId or name contains this (any case)")
]
Start = Annotated[IsoDatetime | None, Query(description="ISO 8601 with zone; inclusive")]
End = Annotated[
    IsoDatetime | None,
    Query(description="ISO 8601 with zone; exclusive; must be after `start` (else 422)"),
]


def window(
    start: datetime | None, end: datetime | None, default_span: timedelta, now: datetime | None = None
) -> Window:
    """[start, end): start defaults to `default_span` before `end` (before `now` when `end` is
    open); end to no bound (device clocks run ahead of ours, and their readings must still show)."""
    if start is None:
        start = (end if end is not None else now or datetime.now(UTC)) - default_span
    end = end or _NO_END
    if end <= start:
        raise Invalid([Problem("end", "must be after start", "end_before_start")])
    return Window(start, end)


def next_page(response: Response, rows: list[Any], page: Page) -> list[Any]:
    """Rows were fetched with limit+1: trim and say where the next page starts."""
    counted_page(response, page.offset + len(rows), page)
    return rows[: page.limit]


def counted_page(response: Response, total: int, page: Page) -> None:
    """Say where the next page starts when `total` rows go past this one."""
    if total > page.offset + page.limit:
        response.headers["X-Next-Offset"] = str(page.offset + page.limit)


def behind_header(response: Response, written: Written, metrics: ApiMetrics) -> None:
    """Tell the client its write is acknowledged but not yet readable."""
    metrics.facts.labels(written.payload.TYPE).inc()
    if written.behind:
        metrics.behind.inc()
        response.headers["X-Read-Model-Behind"] = "true"
