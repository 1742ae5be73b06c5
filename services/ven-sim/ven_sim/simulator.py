"""The running simulator: commands from the links to the VENs, acks and telemetry back out.

Everything runs on one event loop: command handling is synchronous (domain calls), so a
VEN's state is never touched by two things at once; the telemetry loop hands readings to
the links in batches and yields between batches so commands are never starved.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import structlog

from dr_contracts import jsonio
from dr_contracts.topics import MqttTopics
from ven_sim.domain import SimVen
from ven_sim.faults import Faults
from ven_sim.fleet import VenNode
from ven_sim.handling import Outcome, handle_command
from ven_sim.readings import render_reading
from ven_sim.schedule import Schedule, next_due
from ven_sim.site_state import site_state
from ven_sim.stats import BOUNDS, Stats

log = structlog.get_logger()

#: Readings handed to the links between two yields to the event loop (~5 ms of work), so
#: commands read meanwhile are handled promptly even when telemetry is behind.
BATCH = 32
#: Longest idle sleep of the telemetry loop, so an earlier due time (setConfig) is seen soon.
IDLE_S = 0.2
#: The fields of a VEN's latest reading that `reports` shows (`GET /status/reports`).
REPORTED = ("timestamp", "eventId", "shedPowerKw", "usedPowerKw", "baselinePowerKw")


class Publisher(Protocol):
    """What the simulator needs from a connection (the MQTT `Link`, or a fake in tests)."""

    def publish(self, topic: str, payload: bytes, qos: int) -> bool: ...


class Connection(Publisher, Protocol):
    """A publisher that knows whether it is connected (the MQTT `Link`)."""

    ready: asyncio.Event


class Simulator:
    """The VENs of one process and the loops that make them behave like field devices."""

    def __init__(
        self,
        nodes: Sequence[VenNode],
        *,
        topics: MqttTopics,
        faults: Faults,
        interval_s: float,
        telemetry_qos: int = 1,
        per_ven_topics: str = "none",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.nodes = list(nodes)
        self.by_id = {node.ven_id: node for node in self.nodes}
        self.vens: dict[str, SimVen] = {node.ven_id: node.sim for node in self.nodes}
        self.topics = topics
        self.faults = faults
        self.interval_s = interval_s
        self.telemetry_qos = telemetry_qos
        self.per_ven_topics = per_ven_topics
        self.clock = clock
        """Wall clock (Unix seconds) of readings, acks and expiry; scheduling uses the loop's."""
        self.stats = Stats()
        self.links: Sequence[Connection] = ()
        self._publisher_of: list[Publisher | None] = [None] * len(self.nodes)
        self.schedule = Schedule(self.nodes)
        self.running = False
        """True once telemetry runs (every link connected and subscribed)."""

    def attach(self, node: VenNode, publisher: Publisher) -> None:
        """Route this VEN's acks and telemetry through `publisher`."""
        self._publisher_of[node.index] = publisher

    # ---- commands ------------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes) -> None:
        """A message from a link: a command for one of our online VENs, or ignored."""
        kind, ven_id = self.topics.classify(topic)
        node = self.by_id.get(ven_id) if kind == "cmd" and ven_id else None
        if node is None or not node.online:
            self.stats.commands_ignored += 1
            return
        try:
            self.handle(node, payload)
        except Exception:  # a bug must not take the VEN (or the link) down
            self._internal_error("command.failed", node)

    def handle(self, node: VenNode, payload: bytes) -> Outcome:
        """Apply one command to `node` and send its ack (subject to the ack faults)."""
        interval = node.sim.report_interval_seconds
        outcome = handle_command(node, payload, self.clock(), refuse=self.faults.reject)
        self._count(node, outcome)
        if node.sim.report_interval_seconds != interval:
            self._reschedule(node)
        self._send_ack(node, outcome.ack)
        return outcome

    def _count(self, node: VenNode, outcome: Outcome) -> None:
        stats = self.stats
        stats.commands_received += 1
        stats.received_by_op[outcome.op] += 1
        if outcome.replayed:
            stats.duplicates_answered += 1
        elif outcome.applied:
            stats.commands_applied += 1
            stats.applied_by_correlation[outcome.correlation_id or ""] += 1
        else:
            stats.commands_rejected += 1
            stats.commands_malformed += outcome.malformed
            log.debug(
                "command.rejected",
                ven_id=node.ven_id,
                correlation_id=outcome.correlation_id,
                reason=outcome.ack.get("reason"),
            )

    def _send_ack(self, node: VenNode, ack: dict[str, Any]) -> None:
        if self.faults.drop_ack():
            self.stats.acks_dropped += 1
            return
        payload = jsonio.dumps(ack)
        delay = self.faults.ack_delay_s()
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._publish_ack, node, payload)
        else:
            self._publish_ack(node, payload)

    def _publish_ack(self, node: VenNode, payload: bytes) -> None:
        if self._publish(node, self.topics.ack(node.ven_id), payload, 1):
            self.stats.acks_sent += 1

    def _publish(self, node: VenNode, topic: str, payload: bytes, qos: int) -> bool:
        publisher = self._publisher_of[node.index]
        if publisher is not None and publisher.publish(topic, payload, qos):
            return True
        self.stats.publish_errors += 1
        return False

    # ---- telemetry -----------------------------------------------------------------------

    def _reschedule(self, node: VenNode) -> None:
        """A new report interval applies at once when it brings the next reading forward."""
        if node.online:
            soon = asyncio.get_running_loop().time() + node.sim.report_interval_seconds
            self.schedule.set(node, min(node.due, soon))

    async def run_telemetry(self) -> None:
        """Publish every online VEN's reading at its phase in each of its intervals, forever."""
        loop = asyncio.get_running_loop()
        schedule, lateness = self.schedule, self.stats.lateness
        schedule.start(loop.time(), self.interval_s)
        self.running = True
        while True:
            now = loop.time()
            batch = schedule.pop_due(now, BATCH)
            if not batch:
                upcoming = schedule.next_time()
                await asyncio.sleep(IDLE_S if upcoming is None else min(IDLE_S, upcoming - now))
                continue
            for due, node in batch:
                try:
                    self.report(node, self.clock())
                except Exception:  # one VEN's bad reading must not stop the others
                    self._internal_error("telemetry.failed", node)
                sent = loop.time()
                lateness.add(sent - due)
                nxt, missed = next_due(due, node.sim.report_interval_seconds, sent)
                self.stats.telemetry_skipped += missed
                schedule.set(node, nxt)
            await asyncio.sleep(0)

    def report(self, node: VenNode, now: float) -> None:
        """Publish one reading of `node` (or, by fault injection, a malformed payload)."""
        self.expire(node, now)
        reading = node.sim.reading(now)
        bad = self.faults.malformed(node.ven_id, reading["timestamp"])
        if bad is not None:
            if self._publish(node, self.topics.metering, bad, self.telemetry_qos):
                self.stats.telemetry_malformed += 1
            return
        payload = render_reading(reading)
        if self._publish(node, self.topics.metering, payload, self.telemetry_qos):
            self.stats.telemetry_sent += 1
            node.last_report = reading
        for topic in self._duplicate_topics(node.ven_id):
            self._publish(node, topic, payload, self.telemetry_qos)

    def _duplicate_topics(self, ven_id: str) -> tuple[str, ...]:
        per_ven = self.per_ven_topics
        if per_ven == "none":
            return ()
        oadr, telemetry = self.topics.oadr_meter(ven_id), self.topics.telemetry(ven_id)
        return {"oadr": (oadr,), "telemetry": (telemetry,), "both": (oadr, telemetry)}[per_ven]

    def _internal_error(self, event: str, node: VenNode) -> None:
        """Count a bug; log the first few and then every thousandth, not every message."""
        self.stats.internal_errors += 1
        count = self.stats.internal_errors
        if count <= 10 or count % 1000 == 0:
            log.exception(event, ven_id=node.ven_id, internal_errors=count)

    def expire(self, node: VenNode, now: float) -> None:
        """Let the VEN end an event whose time is up (no restore command needed)."""
        expired = node.sim.tick(now)
        if expired is not None:
            self.stats.events_expired += 1
            log.debug("event.expired", ven_id=node.ven_id, event_id=expired)

    # ---- status --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Totals, current shed and link state: what /status and the status file show."""
        now = self.clock()
        online = [node for node in self.nodes if node.online]
        events: Counter[str] = Counter()
        shed = 0.0
        for node in online:
            self.expire(node, now)
            event = node.sim.event
            if event is not None:
                events[event.event_id] += 1
                shed += event.result.actual_shed_kw
        return {
            "running": self.running,
            "vens": len(self.nodes),
            "online": len(online),
            "links": len(self.links),
            "links_connected": sum(1 for link in self.links if link.ready.is_set()),
            "vens_in_event": sum(events.values()),
            "current_shed_kw": round(shed, 3),
            "events": dict(events),
            **self.stats.totals(),
        }

    def site_state(self, ven_id: str) -> dict[str, Any] | None:
        """One VEN as its local page shows it (`site_state`); None for a venId not simulated here."""
        node = self.by_id.get(ven_id)
        if node is None:
            return None
        now = self.clock()
        self.expire(node, now)  # through the simulator, so an expiry the page sees is counted
        return site_state(node.sim, now, online=node.online)

    def reports(self) -> dict[str, dict[str, Any]]:
        """venId -> what its latest published reading said (time, event, shed, power, baseline).

        The field side of the platform's "delivered now": what the platform should show is the
        sum of these, whatever the loads did since the event's baseline was frozen.
        """
        return {
            node.ven_id: {key: node.last_report[key] for key in REPORTED}
            for node in self.nodes
            if node.last_report is not None
        }

    def applied(self) -> dict[str, int]:
        """correlationId -> times applied (1 for every command, whatever the retries)."""
        return dict(self.stats.applied_by_correlation)

    def telemetry(self) -> dict[str, Any]:
        """Telemetry counters and the raw lateness histogram at one instant (`at`, loop clock).

        Two of these, diffed, describe a window exactly (the bench does so).
        """
        stats = self.stats
        return {
            "at": asyncio.get_running_loop().time(),
            "sent": stats.telemetry_sent,
            "skipped": stats.telemetry_skipped,
            "lateness_bounds_s": list(BOUNDS),
            "lateness_counts": stats.lateness.snapshot(),
        }
