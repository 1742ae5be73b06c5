"""The bridge's MQTT side: a persistent session whose messages are acknowledged by hand.

aiomqtt 2.5 has no public manual-ack API, but it runs on paho-mqtt, which does
(`manual_ack_set`, `ack(mid, qos)`). aiomqtt exposes its paho client only as
`Client._client`; we reach it there, in this one module, to switch manual acks on
before connecting and to send each PUBACK once Kafka has the message.

aiomqtt's message iterator makes a task per message; under load the bridge instead
takes everything already waiting in the client's queue at once. The queue is ours
through aiomqtt's public `queue_type` parameter.
"""

from __future__ import annotations

import asyncio
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

    async def __aenter__(self) -> Subscription:
        await self.client.__aenter__()
        await self.client.subscribe(shared_filters(self.settings))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.client.__aexit__(kind, exc, tb)

    async def batch(self, limit: int) -> list[aiomqtt.Message]:
        """The next message (MqttError once disconnected) and whatever else is waiting."""
        messages = [await anext(self.client.messages)]
        while len(messages) < limit and not self.inbox.empty():
            messages.append(self.inbox.get_nowait())
        return messages

    def ack(self, message: aiomqtt.Message) -> None:
        """PUBACK one message (QoS 0 messages need none)."""
        if message.qos:
            self._paho.ack(message.mid, message.qos)


def shared_filters(settings: Settings) -> list[tuple[str, SubscribeOptions]]:
    """Every ingest topic filter in the shared subscription group, QoS 1."""
    group = settings.bridge_share_group
    return [
        (f"$share/{group}/{topic}", SubscribeOptions(qos=1))
        for topic in settings.mqtt_topics.ingest_filters()
    ]
