"""Counters an operator can scrape (DISPATCHER_METRICS_PORT) or read in the logs."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

COMMANDS_PUBLISHED = Counter(
    "dispatcher_commands_published_total", "Commands acknowledged by the MQTT broker", ["op"]
)
PUBLISH_FAILED = Counter(
    "dispatcher_publish_failed_total", "Command publishes the MQTT broker did not acknowledge", ["op"]
)
COMMANDS_TIMED_OUT = Counter(
    "dispatcher_commands_timed_out_total", "Commands given up after the last attempt", ["op"]
)
FACTS_REJECTED = Counter(
    "dispatcher_facts_rejected_total",
    "Kafka records that are not facts the dispatcher reads",
    ["topic", "code"],
)
EVENT_TRANSITIONS = Counter(
    "dispatcher_event_transitions_total", "Events activated or ended by this replica", ["to"]
)
#: What the container healthcheck reads: both groups gave this replica its share.
READY = Gauge("dispatcher_ready", "1 once this replica owns its partitions and acts on them")
