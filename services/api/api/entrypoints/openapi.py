"""The OpenAPI document as this process runs: who needs a token, and configured bounds.

FastAPI derives the document from the code alone; this adds what configuration decides:
- security: a bearer token is required where `auth` enforces one (API_TOKENS, PROTECT_READS)
  and optional elsewhere (`[{}, bearer]`: a token may be sent and is ignored);
- bounds a setting decides, named in field schemas by `MAXIMUM_FROM` (e.g. the kW cap), and
  the 413 of a body larger than MAX_BODY_BYTES.
The document also answers which methods a path has (the `Allow` header of a 405).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from re import Pattern
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from api.domain.fields import MAXIMUM_FROM
from api.entrypoints.auth import SCHEME, token_required
from api.entrypoints.schemas import ErrorOut


def install(
    app: FastAPI, routers: Iterable[APIRouter], maximums: dict[str, float], max_body_bytes: int
) -> None:
    """Serve the document of this configuration for `routers` (those included in `app`);
    `maximums` maps a setting's name to its value."""
    generate = app.openapi
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            _declare_security(doc, routes, app.state)
            _fill_maximums(doc, maximums)
            _declare_body_limit(doc, max_body_bytes)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def documented_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the document lists for a request path; a literal path wins over a
    template that also matches it (`/api/events/current` over `/api/events/{event_id}`)."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    if path in paths:
        return sorted(method.upper() for method in paths[path])
    for template, operations in paths.items():
        if _regex(template).match(path):
            return sorted(method.upper() for method in operations)
    return []


@cache
def _regex(template: str) -> Pattern[str]:
    return compile_path(template)[0]


_ERROR_BODY = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}}
_UNAUTHORIZED = {"description": "missing, unknown or expired bearer token", "content": _ERROR_BODY}
_FORBIDDEN = {"description": "the token's role may not do this (the reason says which role may)"}


def _declare_security(doc: dict[str, Any], routes: list[APIRoute], state: Any) -> None:
    bearer: dict[str, list[str]] = {SCHEME: []}
    for route in routes:
        if not route.include_in_schema:
            continue
        required = token_required(route, state)
        for method in route.methods or ():
            operation = doc["paths"][route.path_format][method.lower()]
            if required is None:  # no token dependency (e.g. /health)
                continue
            if required:
                operation["security"] = [bearer]
                operation["responses"]["401"] = _UNAUTHORIZED
                operation["responses"]["403"] = _FORBIDDEN | {"content": _ERROR_BODY}
            else:
                operation["security"] = [{}, bearer]


def _declare_body_limit(doc: dict[str, Any], max_body_bytes: int) -> None:
    """A size in bytes is beyond JSON Schema: each operation with a body documents its 413."""
    too_large = {"description": f"the body is larger than {max_body_bytes} bytes (MAX_BODY_BYTES)"}
    for operations in doc["paths"].values():
        for operation in operations.values():
            if "requestBody" in operation:
                operation["responses"]["413"] = too_large


def _fill_maximums(node: Any, maximums: dict[str, float]) -> None:
    """Every schema that names a setting in `MAXIMUM_FROM` gets its value as `maximum`."""
    if isinstance(node, dict):
        if MAXIMUM_FROM in node:
            node["maximum"] = maximums[node[MAXIMUM_FROM]]
        for value in node.values():
            _fill_maximums(value, maximums)
    elif isinstance(node, list):
        for value in node:
            _fill_maximums(value, maximums)
