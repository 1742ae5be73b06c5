"""The few MQTT 3.1.1 packets a QoS 1 publisher needs, encoded and decoded by hand.

CONNECT/CONNACK, PUBLISH (QoS 1)/PUBACK, PINGREQ/PINGRESP and DISCONNECT, exactly as
in the MQTT 3.1.1 specification (OASIS, sections 2 and 3). The dispatcher's publisher
runs on it (a client library costs too much per message on its hot path), and so do
the ingest bench's load generator and the integration tests' cutting proxy.
"""

from __future__ import annotations

import struct

CONNACK, PUBLISH, PUBACK, PINGRESP = 0x20, 0x30, 0x40, 0xD0
PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"

#: CONNACK return codes (3.2.2.3).
CONNACK_ERRORS = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


def connack_refusal(connack: bytes) -> str | None:
    """Why the broker refused the connection, or None when this 4-byte CONNACK accepts it."""
    if connack[0] == CONNACK and connack[3] == 0:
        return None
    return CONNACK_ERRORS.get(connack[3], f"CONNACK {connack.hex()}")


def remaining_length(n: int) -> bytes:
    """The variable-length 'remaining length' of a fixed header (2.2.3)."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(value: str) -> bytes:
    raw = value.encode()
    return struct.pack("!H", len(raw)) + raw


def connect(client_id: str, keepalive_s: int, username: str | None, password: str | None) -> bytes:
    """CONNECT with a clean session (3.1)."""
    flags = 0x02 | (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    body = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive_s) + _string(client_id)
    if username is not None:
        body += _string(username)
    if password is not None:
        body += _string(password)
    return b"\x10" + remaining_length(len(body)) + body


def publish_qos1(topic: bytes, packet_id: int, payload: bytes) -> bytes:
    """PUBLISH with QoS 1, not retained (3.3); `topic` is already UTF-8."""
    size = 2 + len(topic) + 2 + len(payload)
    return b"".join(
        (
            b"\x32",
            remaining_length(size),
            struct.pack("!H", len(topic)),
            topic,
            struct.pack("!H", packet_id),
            payload,
        )
    )


def split_packets(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Take every complete packet off the front of `buffer`: [(packet type, body)]."""
    return [(packet[0] & 0xF0, packet[body:]) for packet, body in _take(buffer)]


def take_packets(buffer: bytearray) -> list[bytes]:
    """Take every complete packet off the front of `buffer`, fixed header included."""
    return [packet for packet, _ in _take(buffer)]


def _take(buffer: bytearray) -> list[tuple[bytes, int]]:
    """[(whole packet, where its body starts)] off the front of `buffer`; a partial tail stays."""
    packets: list[tuple[bytes, int]] = []
    pos = 0
    while pos + 2 <= len(buffer):
        length, shift, i = 0, 0, pos + 1
        while True:
            if i >= len(buffer):
                del buffer[:pos]
                return packets
            byte = buffer[i]
            length |= (byte & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if not byte & 0x80:
                break
        if i + length > len(buffer):
            break
        packets.append((bytes(buffer[pos : i + length]), i - pos))
        pos = i + length
    del buffer[:pos]
    return packets
