"""Integration helpers: a test VEN responder, a fact tail, seeding the `vens` read model."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiomqtt
import psycopg
from aiokafka import AIOKafkaProducer

from dr_contracts import jsonio
from dr_contracts.acks import Ack
from dr_contracts.facts import AckReceived, Fact, FactPayload, decode_fact, encode_fact, new_fact
from dr_contracts.topics import MqttTopics
from dr_runtime.kafka import make_consumer, make_producer, send_fact, send_facts
from dr_runtime.mqtt import broker_address
from dr_runtime.settings import KafkaSettings


class TestVens:
    """Many VENs behind one MQTT subscription: apply each correlationId once, ack every copy.

    Acks go straight into `ven.acks` as AckReceived facts (what the ingest bridge would
    write), so these tests need no other service. `silent` VENs never answer; `rejecting`
    VENs answer `rejected`.
    """

    __test__ = False

    def __init__(self, mqtt_url: str, topics: MqttTopics, kafka: KafkaSettings) -> None:
        self.mqtt_url, self.topics, self.kafka = mqtt_url, topics, kafka
        self.silent: set[str] = set()
        self.rejecting: set[str] = set()
        self.deliveries: Counter[str] = Counter()  # correlationId -> times received
        self.applied: dict[str, dict[str, dict]] = defaultdict(dict)  # venId -> cid -> command
        self.received_at: dict[str, datetime] = {}  # correlationId -> first delivery

    def applied_ops(self, ven_id: str, op: str) -> list[dict]:
        return [c for c in self.applied[ven_id].values() if c["op"] == op]

    def vens_with(self, op: str, event_id: str | None = None) -> set[str]:
        return {
            v
            for v, cmds in self.applied.items()
            for c in cmds.values()
            if c["op"] == op and (event_id is None or c.get("eventId") == event_id)
        }

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TestVens]:
        host, port = broker_address(self.mqtt_url)
        producer = make_producer(self.kafka)
        await producer.start()
        client = aiomqtt.Client(
            host, port, protocol=aiomqtt.ProtocolVersion.V5, max_queued_incoming_messages=0
        )
        async with client:
            await client.subscribe(self.topics.all_cmds, qos=1)
            task = asyncio.create_task(self._serve(client, producer))
            try:
                yield self
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await producer.stop()

    async def _serve(self, client: aiomqtt.Client, producer: AIOKafkaProducer) -> None:
        async for message in client.messages:
            cmd = jsonio.loads(message.payload)
            ven, cid = cmd["venId"], cmd["correlationId"]
            self.deliveries[cid] += 1
            self.received_at.setdefault(cid, datetime.now(UTC))
            self.applied[ven].setdefault(cid, cmd)
            if ven not in self.silent:
                fact = new_fact(self._ack(cmd, str(message.topic)))
                await producer.send(self.kafka.topics.ven_acks, encode_fact(fact), key=ven.encode())

    def _ack(self, cmd: dict, topic: str) -> AckReceived:
        ven = cmd["venId"]
        ok = ven not in self.rejecting
        status = ("accepted" if cmd["op"] == "event" else "success") if ok else "rejected"
        now = datetime.now(UTC)
        ack = Ack(
            venId=ven,
            correlationId=cmd["correlationId"],
            op=cmd["op"],
            ok=ok,
            status=status,
            ts=now,
            eventId=cmd.get("eventId"),
            shape="A",
        )
        return AckReceived(venId=ven, ack=ack, mqttTopic=topic, receivedAt=now, raw=cmd)


class FactTail:
    """Every fact of some topics, read from the beginning, as they arrive."""

    def __init__(self, kafka: KafkaSettings, *topics: str) -> None:
        self.consumer = make_consumer(kafka, *topics, group_id=None)
        self.facts: list[Fact] = []

    def of(self, kind: str, event_id: str | None = None) -> list[FactPayload]:
        return [
            f.payload
            for f in self.facts
            if f.type == kind and (event_id is None or getattr(f.payload, "eventId", None) == event_id)
        ]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FactTail]:
        await self.consumer.start()
        task = asyncio.create_task(self._read())
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self.consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=200)
            for records in batches.values():
                self.facts.extend(decode_fact(r.value) for r in records)


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


def ven_ids(n: int, prefix: str = "ven") -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(n)]
