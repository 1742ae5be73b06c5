"""Bearer tokens (API_TOKENS): required on writes when set, on reads with PROTECT_READS.

Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="one of API_TOKENS")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _check(request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
    tokens: frozenset[str] = request.app.state.tokens
    if not tokens:
        return
    given = credentials.credentials.encode() if credentials else b""
    if not any(hmac.compare_digest(given, token.encode()) for token in tokens):
        raise HTTPException(
            status_code=401,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_write_token(request: Request, credentials: Credentials) -> None:
    _check(request, credentials)


async def require_read_token(request: Request, credentials: Credentials) -> None:
    if request.app.state.protect_reads:
        _check(request, credentials)
