"""Where webhooks may go: the guard every subscription's callbackUrl passes, on write and on send.

A VTN that POSTs wherever a client asks is a server-side request forgery tool (the spec's
Security section asks VTNs to refuse private and loopback addresses). This one sends only to
the hosts an operator lists in OADR_WEBHOOK_HOSTS (exact names, or `*.example.com` for its
subdomains), over https unless OADR_WEBHOOK_ALLOW_HTTP; the default list is empty: no
webhook goes anywhere until someone decides where. Redirects are never followed (webhooks.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class CallbackGuard:
    hosts: tuple[str, ...] = ()
    allow_http: bool = False

    @classmethod
    def of(cls, hosts: str, allow_http: bool) -> CallbackGuard:
        return cls(tuple(h.strip().lower() for h in hosts.split(",") if h.strip()), allow_http)

    def refusal(self, url: str) -> str | None:
        """Why a webhook may not go to `url` (None: it may)."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            return "callbackUrl is not a URL"
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parsed.scheme not in schemes:
            return f"callbackUrl must be {' or '.join(schemes)}"
        if parsed.userinfo:
            return "callbackUrl may not carry credentials (use bearerToken)"
        host = parsed.host.lower()
        if not any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in self.hosts):
            return f"callbackUrl host {host!r} is not one this VTN sends webhooks to (OADR_WEBHOOK_HOSTS)"
        return None
