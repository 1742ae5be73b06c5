import pytest

from dispatcher.domain.commands import Outgoing
from dispatcher.service.sender import issued_fact
from dr_contracts.facts import decode_fact, encode_fact
from dr_runtime import mqtt_wire as wire
from tests.unit.dispatcher.fakes import T0

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (2_097_152, b"\x80\x80\x80\x01"),
    ],
)
def test_remaining_length_matches_the_specification(n, encoded):
    assert wire.remaining_length(n) == encoded


def test_publish_qos1_layout():
    packet = wire.publish_qos1(b"a/b", 0x0102, b"{}")
    assert packet == b"\x32\x09\x00\x03a/b\x01\x02{}"


def test_connect_carries_credentials_and_clean_session():
    packet = wire.connect("me", 30, "user", "pw")
    assert packet[0] == 0x10 and packet[2:8] == b"\x00\x04MQTT" and packet[8] == 4
    assert packet[9] == 0x02 | 0x80 | 0x40 and packet[10:12] == b"\x00\x1e"
    assert packet.endswith(b"\x00\x02me\x00\x04user\x00\x02pw")


def test_split_packets_keeps_an_incomplete_tail():
    big = wire.publish_qos1(b"t", 7, b"x" * 300)  # two-byte remaining length
    stream = bytearray(b"\x40\x02\x00\x05" + b"\xd0\x00" + big + b"\x40\x02\x00")
    packets = wire.split_packets(stream)
    assert packets[:2] == [(wire.PUBACK, b"\x00\x05"), (wire.PINGRESP, b"")]
    assert packets[2][0] == 0x30 and len(packets[2][1]) == 2 + 1 + 2 + 300
    assert stream == bytearray(b"\x40\x02\x00")
    stream += b"\x06"
    assert wire.split_packets(stream) == [(wire.PUBACK, b"\x00\x06")] and not stream


def test_take_packets_returns_whole_packets_and_keeps_an_incomplete_tail():
    publish = wire.publish_qos1(b"t", 7, b"x" * 300)
    stream = bytearray(publish + b"\x40\x02\x00\x05" + publish[:5])
    assert wire.take_packets(stream) == [publish, b"\x40\x02\x00\x05"]
    assert stream == bytearray(publish[:5])


@pytest.mark.parametrize(
    ("connack", "refusal"),
    [
        (b"\x20\x02\x00\x00", None),
        (b"\x20\x02\x00\x05", "not authorized"),
        (b"\x20\x02\x00\x09", "CONNACK 20020009"),
        (b"\x40\x02\x00\x00", "CONNACK 40020000"),
    ],
)
def test_connack_refusal_names_the_reason(connack, refusal):
    assert wire.connack_refusal(connack) == refusal


def test_issued_fact_round_trips_with_a_stable_id():
    cmd = Outgoing("evt-1-v1-shed", "v1", "event", "evt-1", {"op": "event", "venId": "v1"})
    fact = issued_fact(cmd, 2, T0)
    assert fact.factId == "evt-1-v1-shed:2" and fact.key == "v1"
    assert decode_fact(encode_fact(fact)) == fact
