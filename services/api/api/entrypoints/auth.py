"""Bearer tokens (API_TOKENS): required on writes when set, on reads with PROTECT_READS.

Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(
    auto_error=False,
    description="one of API_TOKENS: required on writes when API_TOKENS is set, on reads too "
    "with PROTECT_READS; each operation's `security` says which holds in this deployment",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
#: The name of the bearer scheme in the OpenAPI document.
SCHEME = _bearer.scheme_name


def _enforced(state: Any, *, write: bool) -> bool:
    """The one rule: with tokens configured, writes need one, reads only with PROTECT_READS."""
    return bool(state.tokens) and (write or bool(state.protect_reads))


def _check(request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
    tokens: frozenset[str] = request.app.state.tokens
    given = credentials.credentials.encode() if credentials else b""
    if not any(hmac.compare_digest(given, token.encode()) for token in tokens):
        raise HTTPException(
            status_code=401,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_write_token(request: Request, credentials: Credentials) -> None:
    if _enforced(request.app.state, write=True):
        _check(request, credentials)


async def require_read_token(request: Request, credentials: Credentials) -> None:
    if _enforced(request.app.state, write=False):
        _check(request, credentials)


def token_required(route: APIRoute, state: Any) -> bool | None:
    """Whether `route` refuses a request without a valid token under this configuration
    (`state` is the app's); None when the route takes no token at all."""
    calls = {dependency.call for dependency in route.dependant.dependencies}
    if require_write_token in calls:
        return _enforced(state, write=True)
    if require_read_token in calls:
        return _enforced(state, write=False)
    return None
