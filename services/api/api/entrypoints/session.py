"""`GET /api/whoami`: who a bearer token is, so a client (the dashboard's login) can check a
token and show only what its role may do, before it tries a write."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.adapters.tokens import Principal
from api.entrypoints.auth import require_identity

router = APIRouter(prefix="/api", tags=["session"])


class WhoAmIOut(BaseModel):
    #: operator, reader or registrar (docs/security.md).
    role: str
    subject: str | None
    #: False when no token is configured: the API is open (a local demo).
    authenticated: bool


@router.get("/whoami")
async def whoami(principal: Annotated[Principal | None, Depends(require_identity)]) -> WhoAmIOut:
    """The token's role and subject (any valid token); with no token configured the API is
    open and everyone is an unauthenticated operator."""
    if principal is None:
        return WhoAmIOut(role="operator", subject=None, authenticated=False)
    return WhoAmIOut(role=principal.role, subject=principal.subject, authenticated=True)
