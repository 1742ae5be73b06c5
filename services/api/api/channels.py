"""The API's Kafka channels: the facts it appends, declared once.

`declare` registers them on a FastStream registrator without connecting: bootstrap.py calls it
on the broker the API runs, and the AsyncAPI generator (dr_infra.asyncapi) on its own, so the
document describes the publishers that really run.
"""

from __future__ import annotations

from faststream.kafka.broker.registrator import KafkaRegistrator
from faststream.kafka.publisher.usecase import DefaultPublisher

from dr_contracts.facts import Fact
from dr_contracts.topics import DR_COMMANDS, DR_EVENTS, OADR_OBJECTS, VEN_REGISTRY, KafkaTopics

#: Base topic -> what the API appends there.
APPENDS: dict[str, str] = {
    DR_EVENTS: "EventCreated, EventCancelled, EventStopRequested from REST and OpenADR; key eventId",
    VEN_REGISTRY: "VenRegistered, VenUpdated, VenDeleted from REST; key venId",
    DR_COMMANDS: "CommandRequested (POST /api/vens/{venId}/send-event); key venId",
    OADR_OBJECTS: "OadrObjectWritten, OadrObjectDeleted from the OpenADR 3 facade; key objectId",
}


def declare(kafka: KafkaRegistrator, topics: KafkaTopics) -> dict[str, DefaultPublisher]:
    """One publisher per topic the API appends to, by base topic name."""
    names = topics.all()
    return {
        base: kafka.publisher(names[base], title=f"api -> {base}", description=text, schema=Fact)
        for base, text in APPENDS.items()
    }
