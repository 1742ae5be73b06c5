"""The bridge's MQTT side: a persistent session whose messages are acknowledged by hand.

aiomqtt 2.5 has no public manual-ack API, but it runs on paho-mqtt, which does
(`manual_ack_set`, `ack(mid, qos)`). aiomqtt exposes its paho client only as
`Client._client`; we reach it there, in this one module, to switch manual acks on
before connecting, to send each PUBACK once Kafka has the message, and to give the
DISCONNECT of a graceful leave its Session Expiry Interval 0 (aiomqtt's `__aexit__`
calls paho's `disconnect()` without arguments).

aiomqtt's message iterator makes a task per message; under load the bridge instead
takes everything already waiting in the client's queue at once. The queue is ours
through aiomqtt's public `queue_type` parameter.

Graceful leave (`leave`): Mosquitto 2.0 keeps dealing shares of `$share/...` messages to
an offline persistent session, where they wait for a client id that may never return.
So a replica that stops UNSUBSCRIBEs its shared filters first, then publishes a marker to
its own private topic: Mosquitto keeps one ordered queue per client, so once the marker
comes back (and is acknowledged) everything dealt to this session before the UNSUBACK has
been delivered and acknowledged; only then does it DISCONNECT with Session Expiry 0.
"""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from types import TracebackType

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from dr_runtime.mqtt import make_client
from ingest.settings import Settings

#: MQTT v5 limits Receive Maximum to 65535 un-acknowledged QoS 1 messages per session.
_MAX_RECEIVE = 65_535


class Subscription:
    """One bridge replica's session: fixed client id, kept by the broker, manual PUBACKs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.inbox: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = settings.bridge_session_expiry_s
        props.ReceiveMaximum = min(_MAX_RECEIVE, settings.bridge_max_pending)
        self.client = make_client(
            settings,
            settings.bridge_client_id,
            clean_start=False,
            properties=props,
            queue_type=lambda maxsize=0: self.inbox,
        )
        self._paho: paho.Client = self.client._client
        self._paho.manual_ack_set(True)
        self.drain_topic = drain_topic(settings)
        self._marker: bytes | None = None
        #: Set once our leave marker is acknowledged: nothing dealt to us is left unforwarded.
        self.drained = asyncio.Event()

    async def __aenter__(self) -> Subscription:
        await self.client.__aenter__()
        await self.client.subscribe(shared_filters(self.settings))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.drained.is_set():  # left gracefully: end the session, or shares keep coming to it
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
            self._paho.disconnect = functools.partial(self._paho.disconnect, None, props)  # type: ignore[method-assign]
        await self.client.__aexit__(kind, exc, tb)

    async def leave(self) -> None:
        """Take no more shares, then send the marker that comes back after all that was dealt to us."""
        await self.client.unsubscribe([topic for topic, _ in shared_filters(self.settings)])
        await self.client.subscribe(self.drain_topic, qos=1)
        self._marker = uuid.uuid4().hex.encode()
        await self.client.publish(self.drain_topic, self._marker, qos=1)

    def forwards(self, message: aiomqtt.Message) -> bool:
        """Whether the message is a VEN's (not a leave marker on our private topic, ours or stale)."""
        return message.topic.value != self.drain_topic

    async def batch(self, limit: int) -> list[aiomqtt.Message]:
        """The next message (MqttError once disconnected) and whatever else is waiting."""
        messages = [await anext(self.client.messages)]
        while len(messages) < limit and not self.inbox.empty():
            messages.append(self.inbox.get_nowait())
        return messages

    def ack(self, message: aiomqtt.Message) -> None:
        """PUBACK one message (QoS 0 messages need none); acknowledging our marker ends the drain."""
        if message.qos:
            self._paho.ack(message.mid, message.qos)
        if self._marker is not None and not self.forwards(message) and message.payload == self._marker:
            self.drained.set()


def shared_filters(settings: Settings) -> list[tuple[str, SubscribeOptions]]:
    """Every ingest topic filter in the shared subscription group, QoS 1."""
    group = settings.bridge_share_group
    return [
        (f"$share/{group}/{topic}", SubscribeOptions(qos=1))
        for topic in settings.mqtt_topics.ingest_filters()
    ]


def drain_topic(settings: Settings) -> str:
    """This replica's private topic for its leave marker (no wildcard characters in it)."""
    return settings.mqtt_topics.bridge_drain(re.sub(r"[+#/]", "_", settings.bridge_client_id))
