"""One MQTT connection of the simulator: its VENs' command subscriptions and their publishes.

Per-ven mode opens one `Link` per VEN (client id and username = venId, as in the field);
multiplexed mode opens a few, each subscribing to the command topics of its share of the
VENs (exact topics, not `ven/cmd/+`, so that several simulator processes on one broker each
receive only their own VENs' commands).

Received commands are handled as paho reads them: aiomqtt's incoming queue is replaced by
`_Handoff`, whose `put_nowait` calls the handler. With the usual `async for` each message
costs a task and several event-loop turns, and when telemetry is behind a burst of 10k
commands (an event start) then drains at a few per second.

Publishing is fire-and-forget through paho (`aiomqtt.Client._client`): aiomqtt's awaited
`publish` costs two to three times the CPU per message for a confirmation the simulator
does not need, and paho re-sends unacknowledged QoS 1 messages by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial

import aiomqtt
import paho.mqtt.client as paho
import structlog

log = structlog.get_logger()

#: Topic filters per SUBSCRIBE packet in multiplexed mode.
SUBSCRIBE_BATCH = 1000
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 10.0

OnMessage = Callable[[str, bytes], None]
MakeClient = Callable[..., aiomqtt.Client]


class _Handoff(asyncio.Queue[aiomqtt.Message]):
    """aiomqtt's incoming queue, except that every message goes straight to the handler."""

    def __init__(self, deliver: Callable[[aiomqtt.Message], None], maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._deliver = deliver

    def put_nowait(self, item: aiomqtt.Message) -> None:
        self._deliver(item)


class Link:
    """A connection that keeps itself connected and subscribed until cancelled."""

    def __init__(
        self,
        name: str,
        make_client: MakeClient,
        cmd_topics: Sequence[str],
        on_message: OnMessage,
    ) -> None:
        self.name = name
        self._make_client = make_client
        self._cmd_topics = list(cmd_topics)
        self._on_message = on_message
        self._client: aiomqtt.Client | None = None
        self.ready = asyncio.Event()
        self.connects = 0

    async def run(self) -> None:
        """Connect, subscribe, deliver commands; reconnect with backoff when the broker goes."""
        backoff = RECONNECT_MIN_S
        while True:
            try:
                async with self._make_client(queue_type=partial(_Handoff, self._deliver)) as client:
                    self._client = client  # before subscribing: acks for early commands go out
                    await self._subscribe(client)
                    self.connects += 1
                    self.ready.set()
                    backoff = RECONNECT_MIN_S
                    async for _ in client.messages:  # never yields (see _Handoff): ends on disconnect
                        pass
            except aiomqtt.MqttError as err:
                log.warning("mqtt.disconnected", link=self.name, error=str(err), retry_in_s=backoff)
            finally:
                self._client = None
                self.ready.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX_S)

    def _deliver(self, message: aiomqtt.Message) -> None:
        """Called inside paho's read loop: an exception here would drop the connection."""
        try:
            if isinstance(message.payload, bytes | bytearray):
                self._on_message(message.topic.value, bytes(message.payload))
        except Exception:
            log.exception("mqtt.delivery_failed", link=self.name, topic=message.topic.value)

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        for start in range(0, len(self._cmd_topics), SUBSCRIBE_BATCH):
            batch = self._cmd_topics[start : start + SUBSCRIBE_BATCH]
            await client.subscribe([(topic, 1) for topic in batch])

    def publish(self, topic: str, payload: bytes, qos: int) -> bool:
        """Hand a message to the connection; False when it is down or refused it."""
        client = self._client
        if client is None:
            return False
        info = client._client.publish(topic, payload, qos)  # see the module docstring
        return info.rc == paho.MQTT_ERR_SUCCESS
