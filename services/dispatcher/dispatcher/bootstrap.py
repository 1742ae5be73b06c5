"""The one place the dispatcher's clients are built, wired, started and stopped; nothing
connects at import.

Kafka goes through one FastStream broker (dr_runtime.brokers) carrying the channels of
dispatcher.channels; MQTT through the dispatcher's own writer (adapters.mqtt_publisher:
FastStream's MQTT publisher has no in-flight window and returns no PubAck), Postgres
through psycopg. `Runtime.lifespan` starts them in dependency order and stops them in
reverse; `Runtime.run` runs the loops inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

import structlog

from dispatcher.adapters.fact_log import KafkaFactLog
from dispatcher.adapters.lease import PartitionLease
from dispatcher.adapters.log_reader import LogReader
from dispatcher.adapters.mqtt_publisher import MqttPublisher
from dispatcher.adapters.records import route_events, route_ledger
from dispatcher.adapters.vens import PostgresVenDirectory
from dispatcher.channels import declare
from dispatcher.domain.retry import RetryPolicy
from dispatcher.service import metrics
from dispatcher.service.dispatcher import Dispatcher
from dispatcher.settings import Settings
from dr_runtime.brokers import kafka_broker
from dr_runtime.kafka import make_consumer
from dr_runtime.topics_admin import ensure_platform_topics

log = structlog.get_logger()

#: An EventActivated lists every allocated VEN (~60 bytes each): allow big records.
MAX_RECORD_BYTES = 16 * 1024 * 1024
#: How long a takeover waits for the commands/acks log to go quiet.
LEDGER_SYNC_S = 2.0


class Runtime:
    """A dispatcher wired to Kafka, MQTT and Postgres (connections open in `run`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = s = settings
        topics = s.topics
        self.broker = broker = kafka_broker(
            s, client_id=f"dispatcher-{s.dispatcher_instance_id}", max_request_size=MAX_RECORD_BYTES
        )
        channels = declare(broker, s)
        self.facts = KafkaFactLog(channels.appends, lambda: broker.config.admin_client, s)
        self.publisher = MqttPublisher(
            s, f"dispatcher-{s.dispatcher_instance_id}", window=s.mqtt_max_inflight
        )
        self.vens = PostgresVenDirectory(s.database_url, s.ven_online_missed_intervals)
        policy = RetryPolicy(
            s.dispatcher_ack_timeout_s,
            s.dispatcher_max_attempts,
            s.dispatcher_backoff,
            s.dispatcher_max_ack_wait_s,
        )
        self.dispatcher = d = Dispatcher(
            facts=self.facts,
            sink=self.publisher,
            vens=self.vens,
            policy=policy,
            mqtt_topics=s.mqtt_topics,
            revoke_grace_s=s.dispatcher_revoke_grace_s,
            prepare_lead_s=s.dispatcher_prepare_lead_s,
        )
        self.events_log = LogReader(
            channels.events_log,
            [topics.dr_events],
            partial(route_events, d),
            "events",
        )
        self.ledger_log = LogReader(
            channels.ledger_log,
            [topics.dr_commands, topics.ven_acks],
            partial(route_ledger, d, topics.ven_acks),
            "ledger",
        )
        # Raw aiokafka, not FastStream subscribers: FastStream subscribes before it starts a
        # consumer, so broker.start() waits for each group join in turn (~1 s each) before
        # any log reader runs, and a replica joining a running group took over its events
        # seconds late (test_two_replicas_dispatch_every_event_once failed on it).
        self.events_lease = PartitionLease(
            make_consumer(s, group_id=s.dispatcher_group_id),
            topics.dr_events,
            self._take_events,
            self._drop_events,
        )
        self.direct_lease = PartitionLease(
            make_consumer(s, group_id=s.dispatcher_direct_group_id),
            topics.dr_commands,
            self._take_direct,
            d.direct_revoked,
        )
        self.events_ready, self.direct_ready = asyncio.Event(), asyncio.Event()

    async def _take_events(self, partitions: set[int]) -> None:
        """Own these events once every fact appended before the rebalance is folded."""
        await self.ledger_log.caught_up_once.wait()
        await self.events_log.sync()
        # Commands issued just before the rebalance: knowing them saves duplicate sends
        # (harmless: same correlationIds), so wait for them, but briefly on a busy log.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LEDGER_SYNC_S):
                await self.ledger_log.sync(strict=False)
        self.dispatcher.events_assigned(partitions)
        self.events_ready.set()
        metrics.READY.set(1)

    async def _drop_events(self, partitions: set[int]) -> None:
        """A rebalance took the events: not ready (healthcheck) until they are handed out again."""
        metrics.READY.set(0)
        await self.dispatcher.events_revoked(partitions)

    async def _take_direct(self, partitions: set[int]) -> None:
        await self.ledger_log.caught_up_once.wait()
        self.dispatcher.direct_assigned(partitions)
        self.direct_ready.set()

    async def wait_ready(self) -> None:
        """Until both groups have handed this replica its (possibly empty) share."""
        await self.events_ready.wait()
        await self.direct_ready.wait()

    async def _announce_ready(self) -> None:
        """Log once this replica owns its share (what `make run` and operators wait for)."""
        await self.wait_ready()
        log.info("dispatcher.ready", instance=self.settings.dispatcher_instance_id)

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Connect MQTT, Postgres, the broker, then the leases; on exit stop the leases first
        (their revoke callbacks let running sends finish, through everything else)."""
        await ensure_platform_topics(self.settings)
        async with contextlib.AsyncExitStack() as stack:
            for part in (self.publisher, self.vens):
                await part.start()
                stack.push_async_callback(_quietly, part.stop)
            await self.broker.start()
            stack.push_async_callback(_quietly, self.broker.stop)
            for lease in (self.events_lease, self.direct_lease):
                await lease.start()
                stack.push_async_callback(_quietly, lease.stop)
            log.info("dispatcher.started", instance=self.settings.dispatcher_instance_id)
            yield

    async def run(self) -> None:
        """Connect everything, run until cancelled, then disconnect in reverse order."""
        async with self.lifespan():
            await asyncio.gather(
                *(
                    p.run()
                    for p in (
                        self.events_log,
                        self.ledger_log,
                        self.dispatcher,
                        self.events_lease,
                        self.direct_lease,
                    )
                ),
                self._announce_ready(),
            )


async def _quietly(stop: Callable[[], Awaitable[None]]) -> None:
    """Shutting down: a client that fails to close must not keep the others open."""
    with contextlib.suppress(Exception):
        await stop()


@contextlib.asynccontextmanager
async def running_dispatcher(settings: Settings, ready_timeout_s: float = 30.0) -> AsyncIterator[Runtime]:
    """Run a dispatcher as a task; yield once it owns its partitions; stop it on exit."""
    runtime = Runtime(settings)
    task = asyncio.create_task(runtime.run(), name="dispatcher")
    try:
        ready = asyncio.ensure_future(runtime.wait_ready())
        done, _ = await asyncio.wait(
            {ready, task}, timeout=ready_timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        if task in done:
            await task  # raises its error
        if ready not in done:
            raise TimeoutError(f"dispatcher not ready within {ready_timeout_s}s")
        yield runtime
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
