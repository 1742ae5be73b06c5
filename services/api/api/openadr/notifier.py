"""The webhook notifier: `python -m api notifier`, its own process, scaled by its Kafka group.

It follows `oadr.objects` and `dr.events` (group OADR_NOTIFIER_GROUP_ID, from the end of the
log when the group is new: a first start does not replay history to subscribers), turns
each fact into a change (notifications.py), matches it against the subscriptions of the
read model, and sends the webhooks (webhooks.py) before its offset is committed: a crash
re-sends, so a subscriber may hear of a change twice (at least once, as the spec allows).
Subscriptions are read from the projection: one created a moment before a change may miss it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream.message import StreamMessage

from api import channels
from api.adapters.pg_pool import read_model_pool
from api.openadr.metrics import READY
from api.openadr.notifications import (
    BY_TARGET,
    Change,
    change_of_event,
    change_of_object,
    created_event,
    deliveries,
)
from api.openadr.store import OadrStore
from api.openadr.webhooks import WebhookSender
from api.settings import Settings
from dr_contracts.facts import EventAmended, EventCancelled, EventStopRequested, Fact, decode_fact
from dr_contracts.rejection import Rejected
from dr_runtime.brokers import kafka_broker
from dr_runtime.topics_admin import ensure_platform_topics

log = structlog.get_logger(__name__)


class Notifier:
    def __init__(self, store: OadrStore, sender: WebhookSender) -> None:
        self.store = store
        self.sender = sender

    async def handle(self, raw: bytes) -> None:
        """Send every webhook one fact calls for (never raises: a bad fact is logged and skipped)."""
        try:
            fact = decode_fact(raw)
        except Rejected as err:
            log.warning("notifier.unreadable_fact", reason=err.reason)
            return
        change = await self._change(fact)
        if change is None:
            return
        subscriptions = await self.store.subscriptions()
        targets = {}
        if change.object_type in BY_TARGET:
            vens = sorted({s["client_id"] for s in subscriptions if not s["reads_all"]})
            targets = await self.store.targets_of(vens)
        sends = [self.sender.send(d) for d in deliveries(change, subscriptions, targets)]
        await asyncio.gather(*sends)

    async def _change(self, fact: Fact) -> Change | None:
        p = fact.payload
        if isinstance(p, EventCancelled | EventStopRequested | EventAmended):
            row = await self.store.event_row(p.eventId)
            if row is None:
                return None
            if isinstance(p, EventAmended):  # the projector may not have applied it yet
                return change_of_event("UPDATE", row | {"openadr": p.openadr, "updated_at": fact.occurredAt})
            return change_of_event("DELETE", row)  # stopped or cancelled: gone from the OpenADR view
        return change_of_object(fact) or created_event(fact)


class _Assigned(ConsumerRebalanceListener):
    """Logs `notifier.assigned` (the readiness marker) and sets `event` once partitions come."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        READY.set(0)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("notifier.assigned", partitions=len(assigned))
        READY.set(1)
        self.event.set()


async def _raw(msg: StreamMessage[Any], original: Any = None) -> Any:
    """The record's bytes: the notifier decodes the fact itself (dr_contracts)."""
    return msg.body


@contextlib.asynccontextmanager
async def running_notifier(settings: Settings) -> AsyncIterator[None]:
    """The notifier consuming for the block; yields once its group gave it partitions."""
    await ensure_platform_topics(settings)
    pool = read_model_pool(settings)
    await pool.open(wait=True, timeout=30)
    sender = WebhookSender(
        settings.callback_guard(),
        attempts=settings.oadr_webhook_attempts,
        timeout_s=settings.oadr_webhook_timeout_s,
        first_wait_s=settings.oadr_webhook_first_wait_s,
        max_wait_s=settings.oadr_webhook_max_wait_s,
    )
    notifier = Notifier(OadrStore(pool), sender)
    broker = kafka_broker(settings, client_id="oadr-notifier")
    assigned = _Assigned()
    subscriber = channels.notifier_subscriber(broker, settings, assigned)

    @subscriber(decoder=_raw)
    async def notify(body: bytes) -> None:
        await notifier.handle(body)

    try:
        await broker.start()
        await asyncio.wait_for(assigned.event.wait(), timeout=60)
        yield
    finally:
        await broker.stop()
        await sender.close()
        await pool.close()


async def serve_notifier(settings: Settings, stop: asyncio.Event) -> None:
    async with running_notifier(settings):
        await stop.wait()
