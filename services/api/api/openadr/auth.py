"""OAuth2 client credentials (`POST /auth/token`) and the bearer check of every other route.

The token is the platform's own JWT (api.adapters.tokens): its subject is the clientID and
its role maps onto the spec's scopes (api.openadr.scopes). Credentials come as HTTP Basic
or in the form body (RFC 6749 §2.3.1), not both. Errors carry both the spec's `problem`
members and OAuth2's `error`, so either kind of client understands them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.adapters.tokens import TokenVerifier
from api.entrypoints.auth import authenticate
from api.openadr.clients import ClientRegistry
from api.openadr.problems import OadrError
from api.openadr.scopes import Caller, caller, ungranted

_bearer = HTTPBearer(auto_error=False, description="a token from POST /auth/token")


async def current_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """The authenticated client (401 otherwise); with no tokens configured, an open demo's BL."""
    verifier: TokenVerifier = request.app.state.tokens
    if not verifier.enabled:
        return caller("anonymous", "operator")
    principal = authenticate(verifier, credentials)
    return caller(principal.subject, principal.role)


CallerDep = Annotated[Caller, Depends(current_caller)]


def _basic(header: str | None) -> tuple[str, str] | None:
    if header is None or not header.lower().startswith("basic "):
        return None
    try:
        client_id, sep, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OadrError(401, "malformed HTTP Basic credentials", error="invalid_client") from None
    if not sep:
        raise OadrError(401, "malformed HTTP Basic credentials", error="invalid_client")
    return client_id, secret


async def issue_token(request: Request, clients: ClientRegistry, ttl_s: int) -> dict[str, object]:
    """The answer to a client-credentials token request, or OadrError with the OAuth2 error."""
    verifier: TokenVerifier = request.app.state.tokens
    if not clients.enabled or not verifier.can_issue:
        raise OadrError(
            501, "this VTN issues no tokens: OADR_CLIENTS_FILE and API_JWT_SECRET are not both set"
        )
    try:
        form = dict(parse_qsl((await request.body()).decode(), strict_parsing=False))
    except UnicodeDecodeError:
        raise OadrError(400, "the body is not a UTF-8 form", error="invalid_request") from None
    if form.get("grant_type") != "client_credentials":
        raise OadrError(400, "grant_type must be client_credentials", error="unsupported_grant_type")
    basic = _basic(request.headers.get("authorization"))
    in_body = (form.get("client_id"), form.get("client_secret"))
    if basic is not None and any(in_body):
        raise OadrError(
            400, "credentials in both the Authorization header and the body", error="invalid_request"
        )
    client_id, secret = basic or in_body
    if not client_id or not secret:
        raise OadrError(
            401, "no client credentials (HTTP Basic or client_id/client_secret)", error="invalid_client"
        )
    client = await asyncio.to_thread(clients.authenticate, client_id, secret)
    if client is None:
        raise OadrError(401, "unknown client or wrong secret", error="invalid_client")
    if bad := ungranted(client.role, form.get("scope", "").split()):
        raise OadrError(400, f"scope not granted to this client: {' '.join(bad)}", error="invalid_scope")
    token = verifier.issue(client.client_id, client.role, ttl_s)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl_s}
