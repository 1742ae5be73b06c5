"""Bearer tokens with roles (api.domain.access; tokens: api.adapters.tokens).

With tokens configured (API_TOKENS and/or API_JWT_SECRET), every write needs a token whose
role allows it, and reads too with PROTECT_READS. No token or a bad one: 401; a valid token
whose role does not allow the route: 403 with the reason. Without any token configured the
API is open (a local demo).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.adapters.tokens import InvalidToken, Principal, TokenVerifier
from api.domain.access import Access, refusal

_bearer = HTTPBearer(
    auto_error=False,
    description="a static token of API_TOKENS or a JWT signed with API_JWT_SECRET; its role "
    "(operator, reader, registrar) decides what it may do; each operation's `security` says "
    "whether this deployment requires one",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
#: The name of the bearer scheme in the OpenAPI document.
SCHEME = _bearer.scheme_name


def _enforced(state: Any, access: Access) -> bool:
    """The one rule: with tokens configured, everything but reads needs one; reads only with
    PROTECT_READS."""
    verifier: TokenVerifier = state.tokens
    return verifier.enabled and (access is not Access.READ or bool(state.protect_reads))


def _requirement(access: Access) -> Callable[[Request, Credentials], Awaitable[Principal | None]]:
    async def require(request: Request, credentials: Credentials) -> Principal | None:
        """The caller, once allowed; None where this configuration asks no token."""
        state = request.app.state
        if not _enforced(state, access):
            return None
        principal = authenticate(state.tokens, credentials)
        if (why := refusal(principal.role, access)) is not None:
            raise HTTPException(status_code=403, detail=why)
        return principal

    require.__name__ = f"require_{access.name.lower()}"
    return require


def authenticate(verifier: TokenVerifier, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """Who the bearer is; 401 with the reason when there is none or it is not one of ours."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    try:
        return verifier.principal(credentials.credentials)
    except InvalidToken as err:
        raise _unauthorized(str(err)) from None


def _unauthorized(why: str) -> HTTPException:
    return HTTPException(status_code=401, detail=why, headers={"WWW-Authenticate": "Bearer"})


require_identity = _requirement(Access.IDENTIFY)
require_read = _requirement(Access.READ)
require_register = _requirement(Access.REGISTER)
require_operate = _requirement(Access.OPERATE)
_ACCESS = {
    require_identity: Access.IDENTIFY,
    require_read: Access.READ,
    require_register: Access.REGISTER,
    require_operate: Access.OPERATE,
}


def _route_access(route: APIRoute) -> Access | None:
    """What `route` does, as far as roles go; None when it takes no token at all (/health)."""
    for dependency in route.dependant.dependencies:
        if dependency.call in _ACCESS:
            return _ACCESS[dependency.call]  # type: ignore[index]
    return None


def token_required(route: APIRoute, state: Any) -> bool | None:
    """Whether `route` refuses a request without a valid token under this configuration
    (`state` is the app's); None when the route takes no token at all."""
    access = _route_access(route)
    return None if access is None else _enforced(state, access)
