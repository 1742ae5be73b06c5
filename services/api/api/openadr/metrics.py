"""The webhook notifier's Prometheus metrics (its own process: `python -m api notifier`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, start_http_server

WEBHOOKS = Counter(
    "oadr_webhooks_total",
    "Webhooks by outcome: sent, failed (after every retry), refused (host guard), refused_by_receiver (4xx)",
    ["outcome"],
)
#: What the container healthcheck reads: the notifier has its partitions.
READY = Gauge("oadr_notifier_ready", "1 while the notifier has its partitions")


def serve(port: int) -> None:
    """Expose /metrics on `port` (0: not at all)."""
    if port:
        start_http_server(port)
