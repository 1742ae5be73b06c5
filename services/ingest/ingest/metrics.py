"""Counters for operators (Prometheus): what came in, what was refused and why."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, start_http_server

BRIDGE_MESSAGES = Counter("ingest_bridge_messages_total", "MQTT messages forwarded to Kafka", ["kind"])
REJECTED = Counter("ingest_rejected_total", "MQTT payloads refused, sent to ingest.rejected", ["code"])
PROJECTED = Counter("ingest_projected_facts_total", "Facts applied to Postgres", ["topic"])
UNREADABLE = Counter(
    "ingest_unreadable_facts_total",
    "Kafka records that are no fact the projector knows, dead-lettered to ingest.rejected",
    ["topic", "code"],
)
POISON = Counter("ingest_poison_facts_total", "Facts skipped because Postgres refused them alone", ["topic"])
LAG = Gauge(
    "ingest_projection_lag_records",
    "Records in the log past the offsets stored with the projections, over this member's partitions",
    ["topic"],
)
#: What the container healthcheck reads: the worker is connected and doing its job.
READY = Gauge("ingest_ready", "1 while the bridge is subscribed / the projector has its partitions")


def serve(port: int) -> None:
    """Expose /metrics on `port` (0: not at all)."""
    if port:
        start_http_server(port)
