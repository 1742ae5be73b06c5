"""The API's Kafka channels: the facts it appends, declared once.

`declare` registers them (and `notifier_subscriber` the webhook notifier's) on a FastStream
registrator without connecting: bootstrap.py calls it
on the broker the API runs, and the AsyncAPI generator (dr_infra.asyncapi) on its own, so the
document describes the publishers that really run.
"""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRebalanceListener
from faststream import AckPolicy
from faststream.kafka import Topic
from faststream.kafka.broker.registrator import KafkaRegistrator
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.kafka.subscriber.usecase import LogicSubscriber

from api.settings import Settings
from dr_contracts.facts import Fact
from dr_contracts.topics import DR_COMMANDS, DR_EVENTS, OADR_OBJECTS, VEN_REGISTRY, KafkaTopics
from dr_runtime.brokers import subscriber_options

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


def notifier_subscriber(
    kafka: KafkaRegistrator, settings: Settings, listener: ConsumerRebalanceListener | None = None
) -> LogicSubscriber[Any]:
    """The OpenADR notifier's subscriber (api.openadr.notifier): a group from the end of the log
    (a new group does not replay history to subscribers), each offset committed once its
    webhooks are done; a handler that failed (the read model down) sees the fact again."""
    topics = settings.topics
    return kafka.subscriber(
        Topic(topics.oadr_objects, declare=False),
        Topic(topics.dr_events, declare=False),
        listener=listener,
        title="notifier <- oadr.objects, dr.events",
        description="OpenADR object changes, sent as webhooks to the subscriptions that match them.",
        **subscriber_options(
            settings,
            group_id=settings.oadr_notifier_group_id,
            auto_offset_reset="latest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
        ),
    )
