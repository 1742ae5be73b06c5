"""The bridge: MQTT acks and telemetry -> Kafka facts, acknowledged to MQTT only once stored.

Messages flow through a pipeline: the reader takes what the broker delivered, turns each
message into a fact and hands it to the producer (which batches by linger); the acker
awaits the produce of each batch in arrival order and only then sends the PUBACKs. If the
bridge dies, what it had not acknowledged stays in its persistent session at the broker
and is delivered again on reconnect; the content-derived fact ids absorb the duplicates.
When it is asked to stop, it leaves the shared subscription gracefully instead (see
adapters/mqtt_source.py): forward what was dealt to it, then end its session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import aiomqtt
import structlog
from aiokafka import AIOKafkaProducer

from dr_contracts.facts import PayloadRejected, encode_fact
from dr_runtime.kafka import fact_topic
from dr_runtime.outage import Outage
from ingest import metrics
from ingest.adapters.gateways import GatewayOwners
from ingest.adapters.mqtt_source import Subscription
from ingest.domain.intake import intake
from ingest.service.retry import Stopping, pause
from ingest.settings import Settings

log = structlog.get_logger(__name__)

#: Messages read, converted and produced in one go at most.
READ_BATCH = 500

Pending = tuple[list["asyncio.Future[object]"], list[aiomqtt.Message]]


class Bridge:
    """One bridge replica (one member of the shared subscription)."""

    def __init__(
        self,
        settings: Settings,
        producer: AIOKafkaProducer,
        subscription: Callable[[], Subscription],
        stop: asyncio.Event | None = None,
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.subscription = subscription
        self.stop = stop or asyncio.Event()
        self.subscribed = asyncio.Event()
        #: Messages handed to Kafka by this replica (accepted or rejected).
        self.forwarded = 0
        #: Each dependency's outage, logged when it starts and ends; its attempts set the backoff.
        self.mqtt_outage = Outage("mqtt", "bridge")
        self.kafka_outage = Outage("kafka", "bridge")

    async def run(self) -> None:
        """Keep a session open until stopped; reconnect (same id, same session) on failure."""
        while not self.stop.is_set():
            step = 0
            try:
                async with self.subscription() as session:
                    self.mqtt_outage.recovered()
                    await self._session(session)
            except (aiomqtt.MqttError, OSError) as exc:
                step = self.mqtt_outage.failed(exc)
            except _KafkaFailed as exc:
                step = self.kafka_outage.failed(exc.__cause__ or exc)
            self.subscribed.clear()
            metrics.READY.set(0)
            try:
                await pause(step, self.stop)
            except Stopping:
                return

    async def _session(self, session: Subscription) -> None:
        client_id = self.settings.bridge_client_id
        self.subscribed.set()
        metrics.READY.set(1)
        log.info("bridge.subscribed", client_id=client_id)
        pending: asyncio.Queue[Pending] = asyncio.Queue()
        reader = asyncio.create_task(self._read(session, pending))
        acker = asyncio.create_task(self._ack(session, pending))
        stopping = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait({reader, acker, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not (reader.done() or acker.done()):
                await self._leave(session, reader, acker)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader  # re-raises an MQTT failure of the reader
            if acker.done() and acker.exception() is not None:
                raise acker.exception()  # type: ignore[misc]
        finally:
            for task in (reader, acker, stopping):
                task.cancel()

    async def _leave(
        self, session: Subscription, reader: asyncio.Task[None], acker: asyncio.Task[None]
    ) -> None:
        """Stop taking shares, forward and PUBACK what was dealt to us, so the session can end.

        Bounded by BRIDGE_DRAIN_TIMEOUT_S; a drain that times out or fails keeps the session
        (as a crash does), so what is left is redelivered when this client id comes back.
        """
        client_id, before = self.settings.bridge_client_id, self.forwarded
        drained = asyncio.create_task(session.drained.wait())
        try:
            async with asyncio.timeout(self.settings.bridge_drain_timeout_s):
                await session.leave()
                await asyncio.wait({drained, reader, acker}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            pass
        finally:
            drained.cancel()
        counts = {"drained": self.forwarded - before, "forwarded": self.forwarded}
        if session.drained.is_set():
            log.info("bridge.left", client_id=client_id, **counts)
        else:  # the session stays: what is left comes back when this client id does
            log.warning("bridge.drain_incomplete", client_id=client_id, **counts)

    async def _read(self, session: Subscription, pending: asyncio.Queue[Pending]) -> None:
        topics, max_bytes = self.settings.mqtt_topics, self.settings.bridge_max_payload_bytes
        gateways = GatewayOwners(self.settings.bridge_gateways_file)
        while True:
            messages = await session.batch(READ_BATCH)
            received_at = datetime.now(UTC)
            owners = gateways.current()
            futures = []
            kinds: Counter[str] = Counter()
            for message in messages:
                if not session.forwards(message):
                    continue  # a leave marker: acknowledged in order with the others, not forwarded
                raw = message.payload if isinstance(message.payload, bytes) else bytes(message.payload)
                fact = intake(message.topic.value, raw, received_at, topics, max_bytes, owners)
                if (kind := _accepted_kind(fact.payload)) is not None:
                    kinds[kind] += 1
                try:  # `send` only queues (the linger batches records); it raises when it cannot
                    queued = await self.producer.send(
                        fact_topic(self.settings, fact), encode_fact(fact), key=fact.key.encode()
                    )
                except Exception as exc:  # closing, no metadata: nothing of this read is acknowledged
                    raise _KafkaFailed from exc
                futures.append(queued)
            for kind, n in kinds.items():
                metrics.BRIDGE_MESSAGES.labels(kind).inc(n)
            pending.put_nowait((futures, messages))
            self.forwarded += len(futures)

    async def _ack(self, session: Subscription, pending: asyncio.Queue[Pending]) -> None:
        """PUBACK in arrival order, each only after Kafka acknowledged its fact (acks=all)."""
        while True:
            futures, messages = await pending.get()
            try:
                for future in futures:
                    await future
            except Exception as exc:
                raise _KafkaFailed from exc
            self.kafka_outage.recovered()
            for message in messages:
                session.ack(message)
            pending.task_done()


class _KafkaFailed(Exception):
    """A produce failed: end the session without acknowledging, so the broker redelivers."""


def _accepted_kind(payload: object) -> str | None:
    """An accepted fact's kind, counted per read; a refusal is counted and logged here (None)."""
    if isinstance(payload, PayloadRejected):
        metrics.REJECTED.labels(payload.code).inc()
        log.info(
            "payload.rejected",
            mqtt_topic=payload.mqttTopic,
            code=payload.code,
            field=payload.field,
            size_bytes=payload.sizeBytes,
        )
        return None
    return type(payload).__name__
