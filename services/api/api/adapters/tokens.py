"""Bearer tokens -> who is calling, with which role (api.domain.access).

Two kinds, so that OAuth2 client-credentials clients (the OpenADR 3 facade's) and plain
deployments share one check:
- static tokens from API_TOKENS / API_TOKENS_FILE, each `role:token` (a bare token is an
  operator's, as every token was before roles), compared in constant time;
- JWTs signed by the platform (HS256 with API_JWT_SECRET / _FILE, issuer API_JWT_ISSUER),
  carrying `sub`, `role` and `exp`: PyJWT checks signature, expiry and issuer.
Tokens are never logged, and no error names one.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import jwt

from api.domain.access import ROLES, Role

JWT_ALGORITHM = "HS256"


class InvalidToken(ValueError):
    """The token is not one of ours; the message says why without repeating it."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role


def parse_static_tokens(text: str) -> dict[str, Role]:
    """`role:token,token,...` -> token -> role; an unknown role is a configuration error."""
    tokens: dict[str, Role] = {}
    for item in (part.strip() for part in text.replace("\n", ",").split(",")):
        if not item:
            continue
        role, sep, token = item.partition(":")
        if not sep:
            role, token = "operator", item
        if role not in ROLES:
            raise ValueError(f"API_TOKENS: unknown role {role!r} (one of {', '.join(ROLES)})")
        tokens[token] = role  # type: ignore[assignment]  # checked just above
    return tokens


class TokenVerifier:
    """Checks a bearer token against the static tokens, then as a JWT when a secret is set."""

    def __init__(self, static: dict[str, Role], jwt_secret: str | None, issuer: str) -> None:
        self._static = [(token.encode(), role) for token, role in static.items()]
        self._secret = jwt_secret
        self.issuer = issuer

    @property
    def enabled(self) -> bool:
        """Whether any token is configured (else the API is open, as in a local demo)."""
        return bool(self._static or self._secret)

    @property
    def can_issue(self) -> bool:
        """Whether this process can sign tokens (API_JWT_SECRET is set)."""
        return self._secret is not None

    def principal(self, token: str) -> Principal:
        given = token.encode()
        for known, role in self._static:  # every comparison made: no timing hint of which
            if hmac.compare_digest(given, known):
                return Principal("static-token", role)
        if self._secret is None or token.count(".") != 2:
            raise InvalidToken("unknown bearer token")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                issuer=self.issuer,
                options={"require": ["exp", "sub", "role", "iss"]},
            )
        except jwt.ExpiredSignatureError as err:
            raise InvalidToken("the bearer token has expired") from err
        except jwt.InvalidTokenError as err:
            raise InvalidToken(f"invalid bearer token ({type(err).__name__})") from err
        if claims["role"] not in ROLES:
            raise InvalidToken(f"the bearer token's role is not one of {', '.join(ROLES)}")
        return Principal(str(claims["sub"]), claims["role"])

    def issue(self, subject: str, role: Role, ttl_s: int) -> str:
        """A signed token for `subject` (the CLI's `python -m api token`, the OpenADR facade's
        `/auth/token`)."""
        if self._secret is None:
            raise ValueError("API_JWT_SECRET (or API_JWT_SECRET_FILE) is not set")
        now = int(time.time())
        claims = {"sub": subject, "role": role, "iss": self.issuer, "iat": now, "exp": now + ttl_s}
        return jwt.encode(claims, self._secret, algorithm=JWT_ALGORITHM)
