"""The dispatcher's Kafka channels: the facts it appends and the logs it folds.

`declare` registers them on a FastStream registrator without connecting and without
runtime objects: bootstrap.py calls it on the broker the dispatcher runs, and the
AsyncAPI generator on its own, so the document describes the channels that really run.
Keys are not in the AsyncAPI bindings (FastStream 0.7.8 has no key schema): each
description says what the key is.

The subscribers have no handler: FastStream builds, starts and stops their consumers;
LogReader polls them (see its module for why FastStream's consume loop does not fit).
The group leases (adapters.lease) stay raw aiokafka consumers: see bootstrap.py. The
topics are created by dr_runtime.topics_admin (declare=False: FastStream would create
them with one partition).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.kafka import Topic
from faststream.kafka.broker.registrator import KafkaRegistrator
from faststream.kafka.publisher.usecase import BatchPublisher
from faststream.kafka.subscriber.usecase import LogicSubscriber

from dispatcher.settings import Settings
from dr_contracts.facts import Fact
from dr_contracts.topics import DR_COMMANDS, DR_EVENTS
from dr_runtime.brokers import subscriber_options

#: Base topic -> what the dispatcher appends there (batch publishes, one per partition).
APPENDS: dict[str, str] = {
    DR_EVENTS: "EventActivated (factId {eventId}:activated), EventCompleted; key eventId",
    DR_COMMANDS: (
        "CommandIssued before each publish on ven/cmd/{venId} (write-ahead, factId "
        "{correlationId}:{attempt}), CommandTimedOut; key venId"
    ),
}


@dataclass(frozen=True)
class DispatcherChannels:
    #: Concrete topic -> its batch publisher (dispatcher.adapters.fact_log).
    appends: dict[str, BatchPublisher]
    #: Group-less readers of whole topics (dispatcher.adapters.log_reader).
    events_log: LogicSubscriber[Any]
    ledger_log: LogicSubscriber[Any]


def declare(kafka: KafkaRegistrator, settings: Settings) -> DispatcherChannels:
    """Register every dispatcher channel on `kafka`; nothing connects."""
    topics, names = settings.topics, settings.topics.all()
    appends = {
        names[base]: kafka.publisher(
            names[base], batch=True, title=f"dispatcher -> {base}", description=text, schema=Fact
        )
        for base, text in APPENDS.items()
    }
    reader = subscriber_options(settings, group_id=None, fetch_max_wait_ms=100)
    events_log = kafka.subscriber(
        Topic(topics.dr_events, declare=False),
        title="dispatcher log <- dr.events",
        description="Every partition from the beginning, no group: each replica folds every event fact.",
        **reader,
    )
    ledger_log = kafka.subscriber(
        Topic(topics.dr_commands, declare=False),
        Topic(topics.ven_acks, declare=False),
        title="dispatcher log <- dr.commands, ven.acks",
        description=(
            "Every partition from the beginning, no group: CommandRequested/CommandIssued/"
            "CommandTimedOut and AckReceived folded into the command ledger."
        ),
        **reader,
    )
    return DispatcherChannels(appends, events_log, ledger_log)
