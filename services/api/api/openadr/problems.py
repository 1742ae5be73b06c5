"""The facade's errors, in the spec's `problem` shape: `{type, title, status, detail}`.

A mounted FastAPI app keeps its own handlers, so nothing here leaks the REST API's 422
format: a bad body or query is 400 (the spec has no 422), no or a bad token 401 with
`WWW-Authenticate: Bearer`, a missing scope 403, an unknown id 404, a clash 409. Every
refusal is counted in api_rejected_total like the REST API's.
"""

from __future__ import annotations

from http import HTTPStatus

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import OperationalError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException

from api.domain.errors import Conflict, Invalid, NotFound
from api.entrypoints.errors import problem_of
from api.entrypoints.metrics import ApiMetrics
from api.ports import Unavailable

log = structlog.get_logger(__name__)


class OadrError(Exception):
    """A refusal with its status and a reason for people (`error` for OAuth2 answers)."""

    def __init__(self, status: int, detail: str, *, error: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.error = error


def problem(status: int, detail: str, **extra: str) -> dict[str, object]:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    } | extra


def install(app: FastAPI, metrics: ApiMetrics) -> None:
    """Every handler of the facade's sub-application."""

    def answer(status: int, code: str, detail: str, error: str | None = None) -> JSONResponse:
        metrics.rejected.labels(str(status), code).inc()
        headers = {"WWW-Authenticate": 'Bearer realm="openadr3"'} if status == 401 else None
        body = problem(status, detail, **({"error": error} if error else {}))
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(OadrError)
    async def refused(_: Request, exc: OadrError) -> JSONResponse:
        return answer(exc.status, exc.error or f"oadr_{exc.status}", exc.detail, exc.error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [problem_of(e) for e in exc.errors()]
        return answer(400, problems[0].code, "; ".join(f"{p.field}: {p.reason}" for p in problems))

    @app.exception_handler(Invalid)
    async def invalid(_: Request, exc: Invalid) -> JSONResponse:
        return answer(400, exc.problems[0].code, str(exc))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return answer(404, "not_found", str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return answer(409, "conflict", str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return answer(exc.status_code, f"http_{exc.status_code}", str(exc.detail))

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("backend.unavailable", error=repr(exc))
        detail = str(exc) if isinstance(exc, Unavailable) else "the read model (Postgres) is unavailable"
        response = answer(503, "unavailable", detail)
        response.headers["Retry-After"] = "1"
        return response

    for kind in (Unavailable, OperationalError, PoolTimeout):
        app.add_exception_handler(kind, unavailable)
