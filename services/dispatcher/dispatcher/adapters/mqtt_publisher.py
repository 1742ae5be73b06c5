"""QoS 1 fan-out over one MQTT 3.1.1 connection, a window of unacknowledged publishes.

Why not a client library here: aiomqtt's `publish()` creates a future, a `wait_for`
task and scans every pending call (O(n) per publish): ~3.5k publishes/s on the 2-core
machine; paho driven from the loop reached ~7k/s, still most of a core for a 10k fan-out
(it builds MQTT v5 property objects and a threading.Condition per message). Publishing
is the dispatcher's hot path, and it needs only PUBLISH and PUBACK: those are written
here on an asyncio stream (dr_runtime.mqtt_wire), at a few microseconds per message. aiomqtt stays
the client everywhere else. TLS (mqtts://) is asyncio's own, with dr_runtime's context.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Sequence

import structlog

from dr_runtime import mqtt_wire as wire
from dr_runtime.mqtt import broker_address, tls_context
from dr_runtime.settings import MqttSettings

log = structlog.get_logger()

#: Packets joined into one socket write.
WRITE_EVERY = 256


class MqttError(ConnectionError):
    """The broker refused or dropped the connection."""


class MqttPublisher:
    """Publishes batches (QoS 1), at most `window` unacknowledged; reconnects by itself."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        window: int = 1000,
        keepalive_s: int = 30,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.host, self.port = broker_address(settings.mqtt_url)
        self.username, self.password = settings.mqtt_username, settings.mqtt_password
        self._tls = tls_context(settings)
        self.client_id, self.keepalive_s = client_id, keepalive_s
        self.window, self.connect_timeout_s = max(1, min(window, 65_000)), connect_timeout_s
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[bool]] = {}
        self._next_id = 0
        self._room = asyncio.Event()
        self._session: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        """Connect (raising if the first attempt fails), then keep the connection up."""
        reader, writer = await self._connect()
        self._session = asyncio.create_task(self._keep_connected(reader, writer))

    async def stop(self) -> None:
        if self._session is not None:
            self._session.cancel()
            await asyncio.gather(self._session, return_exceptions=True)
        self._fail_pending()

    # ---- publishing --------------------------------------------------------------------

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> list[bool]:
        """Publish all; True where the broker acknowledged (PUBACK), False if it did not."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[bool]] = []
        packets: list[bytes] = []
        for topic, payload in messages:
            if len(self._pending) >= self.window or len(packets) >= WRITE_EVERY:
                await self._write(packets)
                while len(self._pending) >= self.window:
                    self._room.clear()
                    await self._room.wait()
            fut: asyncio.Future[bool] = loop.create_future()
            futures.append(fut)
            if self._writer is None:
                fut.set_result(False)
                continue
            packet_id = self._packet_id()
            self._pending[packet_id] = fut
            packets.append(wire.publish_qos1(topic.encode(), packet_id, payload))
        await self._write(packets)
        return list(await asyncio.gather(*futures))

    async def _write(self, packets: list[bytes]) -> None:
        """One write (one syscall) for many packets, then wait if the socket is backed up."""
        writer = self._writer
        if packets and writer is not None:
            writer.write(b"".join(packets))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        packets.clear()

    def _packet_id(self) -> int:
        while True:
            self._next_id = self._next_id % 65535 + 1
            if self._next_id not in self._pending:
                return self._next_id

    # ---- the connection ----------------------------------------------------------------

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with asyncio.timeout(self.connect_timeout_s):
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=self._tls, server_hostname=self.host if self._tls else None
            )
            writer.write(wire.connect(self.client_id, self.keepalive_s, self.username, self.password))
            try:
                header = await reader.readexactly(4)
            except asyncio.IncompleteReadError as err:  # TLS 1.3: a refused certificate shows here
                writer.close()
                raise MqttError(f"MQTT broker {self.host}:{self.port} closed before CONNACK") from err
        if (reason := wire.connack_refusal(header)) is not None:
            writer.close()
            raise MqttError(f"MQTT broker {self.host}:{self.port} refused the connection: {reason}")
        log.info("mqtt.connected", host=self.host, port=self.port, client_id=self.client_id)
        return reader, writer

    async def _keep_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        delay = 0.2
        while True:
            self._writer = writer
            try:
                await self._serve(reader, writer)
            except (OSError, asyncio.IncompleteReadError, MqttError, TimeoutError) as err:
                log.warning("mqtt.disconnected", error=repr(err))
            finally:
                self._writer = None
                self._fail_pending()
                writer.close()
            while True:
                await asyncio.sleep(delay)
                try:
                    reader, writer = await self._connect()
                    delay = 0.2
                    break
                except (OSError, MqttError, TimeoutError) as err:
                    log.warning("mqtt.reconnect_failed", error=repr(err))
                    delay = min(delay * 2, 5.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read PUBACKs (and PINGRESPs) until the connection ends; ping to keep it alive."""
        pinger = asyncio.create_task(self._ping(writer))
        buffer = bytearray()
        try:
            while True:
                async with asyncio.timeout(self.keepalive_s * 1.5):
                    data = await reader.read(65536)
                if not data:
                    raise MqttError("connection closed by the broker")
                buffer += data
                for kind, body in wire.split_packets(buffer):
                    if kind == wire.PUBACK:
                        self._acked(struct.unpack_from("!H", body)[0])
        finally:
            pinger.cancel()

    async def _ping(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s / 2)
            writer.write(wire.PINGREQ)

    def _acked(self, packet_id: int) -> None:
        fut = self._pending.pop(packet_id, None)
        if fut is not None and not fut.done():
            fut.set_result(True)
        self._room.set()

    def _fail_pending(self) -> None:
        """Unacknowledged publishes count as failed; the retry policy re-sends them."""
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_result(False)
        self._room.set()
