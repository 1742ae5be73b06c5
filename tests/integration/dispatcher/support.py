"""Integration helpers: a fact tail, appending facts, seeding `vens`, reading the simulator,
and a proxy that cuts an MQTT publisher off after a number of publishes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import psycopg

from dr_contracts.acks import Ack
from dr_contracts.facts import AckReceived, Fact, FactPayload, TelemetryReported, decode_fact, new_fact
from dr_contracts.ids import correlation_id
from dr_contracts.topics import MqttTopics
from dr_runtime import mqtt_wire
from dr_runtime.kafka import make_consumer, make_producer, send_fact
from dr_runtime.mqtt import broker_address, make_client
from dr_runtime.settings import KafkaSettings, MqttSettings
from tests.fixtures.kafka_facts import send_facts
from tests.fixtures.waiting import in_background
from ven_sim.simulator import Simulator


class FactTail:
    """Every fact of some topics, read from the beginning, as they arrive."""

    def __init__(self, kafka: KafkaSettings, *topics: str) -> None:
        self.consumer = make_consumer(kafka, *topics, group_id=None)
        self.facts: list[Fact] = []

    def of(self, kind: str, event_id: str | None = None) -> list[Any]:
        """Payloads of this fact type (of one event when `event_id` is given), in log order."""
        return [
            f.payload
            for f in self.facts
            if f.type == kind and (event_id is None or getattr(f.payload, "eventId", None) == event_id)
        ]

    def all_acks(self) -> list[Ack]:
        """Every ack that reached `ven.acks` (through the bridge), in log order per VEN."""
        return [f.payload.ack for f in self.facts if isinstance(f.payload, AckReceived)]

    def acks(self, cid: str) -> list[Ack]:
        """The acks of this correlationId."""
        return [ack for ack in self.all_acks() if ack.correlationId == cid]

    def readings(self, ven_id: str) -> list[TelemetryReported]:
        return [f.payload for f in self.facts if isinstance(f.payload, TelemetryReported) and f.key == ven_id]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FactTail]:
        await self.consumer.start()
        try:
            async with in_background(self._read()):
                yield self
        finally:
            await self.consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=200)
            for records in batches.values():
                self.facts.extend(decode_fact(r.value) for r in records)


def answer(tail: FactTail, cid: str) -> Ack:
    """A VEN's answer to a command: the same ack however often the command was re-sent."""
    acks = tail.acks(cid)
    assert acks, f"no ack for {cid}"
    assert all(ack == acks[0] for ack in acks), f"different acks for {cid}: {acks}"
    return acks[0]


async def append(kafka: KafkaSettings, *payloads: FactPayload) -> None:
    """Append facts as the API would."""
    producer = make_producer(kafka)
    await producer.start()
    try:
        if len(payloads) == 1:
            await send_fact(producer, kafka, new_fact(payloads[0]))
        else:
            await send_facts(producer, kafka, [new_fact(p) for p in payloads])
    finally:
        await producer.stop()


async def seed_vens(dsn: str, capabilities: dict[str, float | None], online: bool = True) -> None:
    """Register VENs in the `vens` read model (as the projector would), online or not."""
    from ingest.adapters.migrations import migrate

    await migrate(dsn)
    seen = "now()" if online else "now() - interval '1 day'"
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO vens (ven_id, name, source, created_at, last_seen, report_interval_s,"
                f" shed_availability_kw) VALUES (%s, %s, 'api', now(), {seen}, 3600, %s)",
                [(v, v, kw) for v, kw in capabilities.items()],
            )


async def query(dsn: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        return await (await conn.execute(sql, params or None)).fetchall()


def applied_to(sim: Simulator, event_id: str, op: str, vens: Iterable[str] | None = None) -> set[str]:
    """The simulated VENs that applied this event's `op` command (counted by correlationId)."""
    applied = sim.applied()
    return {v for v in (sim.vens if vens is None else vens) if correlation_id(event_id, v, op) in applied}


def received(sim: Simulator, ven_id: str) -> int:
    """Distinct correlationIds a simulated VEN has received (it remembers each one's ack)."""
    return len(sim.by_id[ven_id].acks)


def capability(reading: TelemetryReported) -> float:
    """What a reading says the VEN can shed: the projector's `shed_availability_kw`."""
    return sum(load.shedCapabilityKw or 0.0 for load in reading.reading.loads if load.enabled is not False)


class AckTap:
    """Counts the acks that went through the MQTT broker (its own, non-shared subscription).

    Once the tap has an ack, the broker has routed it: a subscriber that arrives later
    (the bridge) never gets it.
    """

    def __init__(self, mqtt_url: str, topics: MqttTopics) -> None:
        self.client = make_client(MqttSettings(mqtt_url=mqtt_url), f"ack-tap-{uuid.uuid4().hex[:8]}")
        self.filter = topics.ack("+")
        self.count = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[AckTap]:
        async with self.client:
            await self.client.subscribe(self.filter, qos=1)
            async with in_background(self._read()):
                yield self

    async def _read(self) -> None:
        async for _ in self.client.messages:
            self.count += 1


class PublishCutoff:
    """A TCP proxy in front of the MQTT broker that lets through only `limit` PUBLISH packets.

    Everything else passes both ways. The publishes after the first `limit` are lost, as
    if the network swallowed them: the publisher never gets their PUBACKs, so a fan-out
    through this proxy stops at exactly `limit` VENs and stays stuck there, at a known
    point, until the publisher is killed. (Racing a kill against a running fan-out is no
    test: the broker acknowledges a publish long before a VEN has read it.)
    """

    def __init__(self, broker_url: str, limit: int) -> None:
        self.broker = broker_address(broker_url)
        self.limit = limit
        self.forwarded = 0
        self.cut = asyncio.Event()
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[PublishCutoff]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._relay(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.broker)
        down = asyncio.create_task(self._pipe(up_reader, writer))
        try:
            buffer = bytearray()
            while data := await reader.read(65536):
                buffer += data
                for packet in mqtt_wire.take_packets(buffer):
                    if packet[0] & 0xF0 == mqtt_wire.PUBLISH:
                        if self.forwarded >= self.limit:
                            self.cut.set()
                            continue
                        self.forwarded += 1
                    up_writer.write(packet)
                await up_writer.drain()
        except ConnectionError:
            pass
        finally:
            down.cancel()
            await asyncio.gather(down, return_exceptions=True)
            for w in (up_writer, writer):
                w.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
