"""A deadline on reading each request, against slow-loris clients: uvicorn has none.

uvicorn (0.55) closes idle keep-alive connections, but not one whose request trickles in: a
client sending a header byte every few seconds holds its connection, and a file descriptor,
for ever (measured: a partial request line was still open after 10 s with a 2 s keep-alive),
and a few thousand such clients exhaust the process. `uvicorn.run(http=...)` takes a protocol
class; this one is uvicorn's own httptools protocol with a deadline: a request not read in full
(headers and body) within API_REQUEST_READ_TIMEOUT_S of the connection or of its first byte is
answered 408 and the connection closed, counted as
`api_rejected_requests_total{status="408",reason="request_read_timeout"}`.
"""

from __future__ import annotations

import asyncio

import orjson
import structlog
from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = structlog.get_logger()

REASON = "request_read_timeout"


class RequestDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline from a request's first byte to its last."""

    read_timeout_s: float = 10.0
    rejected: Counter | None = None
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.read_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.rejected is not None:
            self.rejected.labels("408", REASON).inc()
        log.warning("api.request_read_timeout", client=self.client, timeout_s=self.read_timeout_s)
        if self.cycle is None or not self.cycle.response_started:
            body = orjson.dumps(
                {"detail": f"the request was not received in full within {self.read_timeout_s:g} s"}
            )
            head = (
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
        self.transport.close()


def request_deadline_protocol(read_timeout_s: float, rejected: Counter | None) -> type[HttpToolsProtocol]:
    """The protocol class for `uvicorn.run(http=...)`, with this deadline and counter."""
    return type(
        "RequestDeadlineProtocol",
        (RequestDeadlineProtocol,),
        {"read_timeout_s": read_timeout_s, "rejected": rejected},
    )
