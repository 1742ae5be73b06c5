"""Ingest's Kafka channels: what the projector consumes and what the bridge and projector append.

`projector_channels` and `bridge_channels` register them on a FastStream registrator without
connecting and without runtime objects: bootstrap.py calls `projector_channels` on the broker
the projector runs (binding the Projector at start-up), and the AsyncAPI generator calls
`declare` on its own. The bridge's publishers are declared for the document only: the bridge
produces with aiokafka's `send` (see ingest/bootstrap.py `bridge` for why). Keys are not in the AsyncAPI
bindings (FastStream 0.7.8 has no key schema): each description says what the key is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.kafka import Topic
from faststream.kafka.broker.registrator import KafkaRegistrator
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage

from dr_contracts.facts import Fact
from dr_contracts.topics import INGEST_REJECTED, VEN_ACKS, VEN_TELEMETRY, KafkaTopics
from dr_runtime.brokers import subscriber_options
from ingest.service.projector import SeekToStored
from ingest.settings import Settings

#: Base topic -> what the bridge appends there (one fact per MQTT message).
BRIDGE_APPENDS: dict[str, str] = {
    VEN_ACKS: "AckReceived from MQTT ven/ack/{venId}; key venId",
    VEN_TELEMETRY: "TelemetryReported from MQTT ven/telemetry and metering; key venId",
    INGEST_REJECTED: "PayloadRejected for an MQTT payload dr_contracts refused; key the MQTT topic",
}


@dataclass(frozen=True)
class ProjectorChannels:
    """The projector's subscriber (over every fact topic) and its dead-letter publisher."""

    facts: BatchSubscriber
    dead_letters: DefaultPublisher
    #: Seeks each assigned partition to its stored offset; bound to the Projector at start-up.
    listener: SeekToStored


def projected_topics(topics: KafkaTopics) -> list[str]:
    """Every topic the projector group consumes."""
    return [
        topics.dr_events,
        topics.ven_registry,
        topics.dr_commands,
        topics.ven_acks,
        topics.ven_telemetry,
        topics.ingest_rejected,
        topics.oadr_objects,
    ]


def projector_channels(kafka: KafkaRegistrator, settings: Settings) -> ProjectorChannels:
    """One batch subscriber for the projector group (positions in Postgres, never committed to Kafka).

    The topics are created by dr_runtime.topics_admin (declare=False: FastStream would create
    them with one partition). The handler reaches the Projector through the listener it is
    bound to, and takes the records undecoded: a `Context()` parameter or a typed body would
    cost a thread-pool hop or a pydantic cast per batch (~370 vs ~80 us CPU per batch of 4,
    measured), so the document shows this channel's payload untyped.
    """
    listener = SeekToStored()
    facts = kafka.subscriber(
        *(Topic(name, declare=False) for name in projected_topics(settings.topics)),
        batch=True,
        max_records=settings.projector_max_batch,
        batch_timeout_ms=settings.projector_poll_ms,
        listener=listener,
        fetch_max_wait_ms=settings.projector_fetch_wait_ms,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        title="projector <- facts",
        description=(
            "Every fact topic, applied to the Postgres projections exactly once; one transaction "
            "per batch stores the offsets with the rows (Kafka commits are not used)."
        ),
        **subscriber_options(settings, group_id=settings.projector_group_id),
    )

    @facts(decoder=_records)
    async def project(batch: Any) -> None:
        await listener.projector.project(batch)

    dead_letters = kafka.publisher(
        settings.topics.ingest_rejected,
        title="projector -> ingest.rejected",
        description=(
            "PayloadRejected for a Kafka record that is no fact this code knows; "
            "key kafka:<topic>/<partition>:<offset>"
        ),
        schema=Fact,
    )
    return ProjectorChannels(facts, dead_letters, listener)


async def _records(msg: StreamMessage[Any], original: Any = None) -> Any:
    """The batch as aiokafka returned it (the projector decodes each value itself)."""
    return msg.raw_message


def bridge_channels(kafka: KafkaRegistrator, topics: KafkaTopics) -> dict[str, DefaultPublisher]:
    """One publisher per topic the bridge appends to, by base topic name."""
    names = topics.all()
    return {
        base: kafka.publisher(names[base], title=f"bridge -> {base}", description=text, schema=Fact)
        for base, text in BRIDGE_APPENDS.items()
    }


def declare(kafka: KafkaRegistrator, settings: Settings) -> None:
    """Every ingest channel, for the AsyncAPI document."""
    projector_channels(kafka, settings)
    bridge_channels(kafka, settings.topics)
