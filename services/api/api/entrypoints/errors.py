"""One error format: 422 `{"detail": [{field, reason, code}]}`; 404/409/503 `{"detail": str}`.

No client mistake reaches the generic 500 handler: every refusal is mapped here and counted.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException

from api.domain.errors import Conflict, Invalid, NotFound, Problem
from api.entrypoints.metrics import ApiMetrics
from api.entrypoints.openapi import documented_methods
from api.ports import Unavailable

log = structlog.get_logger(__name__)

#: Reasons in plain words for pydantic error types whose default message is unclear.
_REASONS = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request (it would be ignored, so it is refused)",
    "json_invalid": "is not valid JSON",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "timezone_aware": "must carry a time zone (e.g. `Z` or `+02:00`)",
    "datetime_type": "must be an ISO 8601 date-time with a time zone",
    "datetime_parsing": "must be an ISO 8601 date-time with a time zone",
    "datetime_from_date_parsing": "must be an ISO 8601 date-time with a time zone",
    "string_pattern_mismatch": "may hold only letters, digits and `_.:-` (1-128, no spaces)",
}
#: The 400 FastAPI raises when the body cannot even be decoded (e.g. not UTF-8).
_UNPARSABLE = "There was an error parsing the body"


def _field(loc: tuple[Any, ...]) -> str:
    """`("body", "location", "lat")` -> `location.lat`; `("query", "limit")` -> `limit`."""
    source, *path = loc or ("body",)
    if source == "body" and len(path) == 1 and isinstance(path[0], int):
        path = []  # the position of a JSON syntax error, not a field
    return ".".join(str(p) for p in path) or str(source)


def problem_of(error: dict[str, Any]) -> Problem:
    """One pydantic error as a Problem with a plain-words reason (the facade's too)."""
    kind = str(error["type"])
    reason = _REASONS.get(kind)
    if kind == "json_invalid":
        reason = f"is not valid JSON: {error.get('ctx', {}).get('error', '')}".rstrip(": ")
    if reason is None:
        reason = str(error["msg"]).removeprefix("Value error, ").replace("Input should", "should")
    return Problem(_field(tuple(error["loc"])), reason, kind)


def _problems_response(metrics: ApiMetrics, problems: list[Problem]) -> JSONResponse:
    for problem in problems:
        metrics.rejected.labels("422", problem.code).inc()
    body = {"detail": [{"field": p.field, "reason": p.reason, "code": p.code} for p in problems]}
    return JSONResponse(body, status_code=422)


def _detail(metrics: ApiMetrics, status: int, code: str, detail: str, **headers: str) -> JSONResponse:
    metrics.rejected.labels(str(status), code).inc()
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def install(app: FastAPI, metrics: ApiMetrics) -> None:
    """Register every handler on `app`."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _problems_response(metrics, [problem_of(e) for e in exc.errors()])

    @app.exception_handler(Invalid)
    async def invalid(_: Request, exc: Invalid) -> JSONResponse:
        return _problems_response(metrics, exc.problems)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _detail(metrics, 404, "not_found", str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return _detail(metrics, 409, "conflict", str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSABLE:
            return _problems_response(metrics, [Problem("body", "is not UTF-8 JSON", "json_invalid")])
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (methods := documented_methods(request.app, request.scope["path"])):
            # Starlette names the methods of the first route on the path only; reads and
            # writes of one path are separate routes here.
            headers["Allow"] = ", ".join(methods)
        return _detail(metrics, exc.status_code, f"http_{exc.status_code}", str(exc.detail), **headers)

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("backend.unavailable", error=repr(exc))
        detail = str(exc) if isinstance(exc, Unavailable) else "the read model (Postgres) is unavailable"
        return _detail(metrics, 503, "unavailable", detail, **{"Retry-After": "1"})

    for kind in (Unavailable, OperationalError, PoolTimeout):
        app.add_exception_handler(kind, unavailable)
