"""Property-based round trips: canonical models survive the wire and the log unchanged."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dr_contracts import jsonio
from dr_contracts.acks import Ack, CircuitCurtailed, ack_payload, normalize_ack
from dr_contracts.commands import event_command, parse_command
from dr_contracts.facts import (
    FACT_TYPES,
    AckReceived,
    Allocation,
    EventActivated,
    EventCreated,
    TelemetryReported,
    decode_fact,
    encode_fact,
    new_fact,
)
from dr_contracts.rejection import decode_object
from dr_contracts.telemetry import LoadReading, Telemetry, normalize_telemetry

pytestmark = pytest.mark.unit

ids = st.from_regex(r"[a-z][a-z0-9\-]{0,20}", fullmatch=True)
kw = st.floats(min_value=-1000, max_value=1000, allow_nan=False).map(lambda x: round(x, 3))
pos_kw = st.floats(min_value=0.001, max_value=1000, allow_nan=False).map(lambda x: round(x, 3))
seconds = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)
times = seconds.map(lambda s: datetime.fromtimestamp(s, UTC))

loads = st.builds(
    LoadReading,
    loadId=ids,
    name=st.none() | st.text(max_size=10),
    type=st.none() | ids,
    capacityKw=st.none() | pos_kw,
    currentPowerKw=st.none() | kw,
    shedCapabilityKw=st.none() | pos_kw,
    enabled=st.none() | st.booleans(),
    priority=st.none() | st.integers(0, 10),
)
readings = st.builds(
    Telemetry,
    venId=ids,
    timestamp=times,
    usedPowerKw=kw,
    shedPowerKw=st.none() | kw,
    requestedReductionKw=st.none() | pos_kw,
    eventId=st.none() | ids,
    baselinePowerKw=st.none() | kw,
    batterySoc=st.none() | st.floats(0, 1),
    loads=st.lists(loads, max_size=4),
    extras=st.dictionaries(
        st.sampled_from(["fw", "rssi", "site"]), st.integers(-(2**53), 2**53) | st.text(max_size=5)
    ),
)
circuits = st.builds(
    CircuitCurtailed,
    loadId=ids,
    name=st.none() | st.text(min_size=1, max_size=8),
    curtailedKw=st.none() | pos_kw,
)
acks = st.builds(
    Ack,
    venId=ids,
    correlationId=st.none() | ids,
    op=st.sampled_from(["event", "restore", "ping"]),
    status=st.sampled_from(["accepted", "success", "completed", "rejected", "failed", "error"]),
    ok=st.just(True),
    ts=times,
    eventId=st.none() | ids,
    requestedShedKw=st.none() | pos_kw,
    actualShedKw=st.none() | pos_kw,
    shape=st.sampled_from(["A", "B", "C"]),
    circuitsCurtailed=st.lists(circuits, max_size=3),
).map(lambda a: a.model_copy(update={"ok": a.status in ("accepted", "success", "completed")}))


@given(readings)
def test_telemetry_survives_the_wire_with_legacy_keys(reading: Telemetry) -> None:
    raw = jsonio.dumps(reading.to_wire())
    assert normalize_telemetry(decode_object(raw), reading.venId) == reading


@given(acks)
def test_ack_survives_being_rendered_in_its_field_shape(ack: Ack) -> None:
    if ack.shape == "C":
        # the short circuit form carries only id, name and shed kW
        ack = ack.model_copy(
            update={
                "circuitsCurtailed": [
                    CircuitCurtailed(loadId=c.loadId, name=c.name, curtailedKw=c.curtailedKw)
                    for c in ack.circuitsCurtailed
                ]
            }
        )
        if not (ack.eventId or ack.requestedShedKw or ack.actualShedKw or ack.circuitsCurtailed):
            ack = ack.model_copy(update={"shape": "B"})  # without camelCase fields C is B
    raw = jsonio.dumps(ack_payload(ack))
    back = normalize_ack(decode_object(raw), ack.venId, datetime.now(UTC))
    # shape A carries event fields inside `data`, so `data` may gain them
    assert back.model_copy(update={"data": ack.data}) == ack
    assert back.data.items() >= ack.data.items()


@given(ven=ids, event=ids, shed=pos_kw, start=seconds, minutes=st.integers(1, 24 * 60))
def test_event_command_reads_back_as_sent(
    ven: str, event: str, shed: float, start: int, minutes: int
) -> None:
    begin = datetime.fromtimestamp(start, UTC)
    end = datetime.fromtimestamp(start + minutes * 60, UTC)
    body = event_command(
        ven_id=ven, event_id=event, correlation_id=f"{event}-{ven}-shed", shed_kw=shed, start=begin, end=end
    )
    command = parse_command(decode_object(jsonio.dumps(body)))
    assert (command.venId, command.eventId, command.shedKw, command.durationS) == (
        ven,
        event,
        shed,
        minutes * 60,
    )
    assert (command.startTs, command.endTs) == (begin, end)


@settings(max_examples=50)
@given(
    payload=st.one_of(
        st.builds(
            EventCreated,
            eventId=ids,
            startTime=times,
            endTime=times,
            requestedReductionKw=pos_kw,
            venIds=st.none() | st.lists(ids, max_size=3),
            startNow=st.booleans(),
        ),
        st.builds(
            EventActivated,
            eventId=ids,
            activatedAt=times,
            unallocatedKw=pos_kw,
            allocations=st.lists(st.builds(Allocation, venId=ids, shedKw=pos_kw), max_size=3),
        ),
        st.builds(
            TelemetryReported,
            venId=ids,
            reading=readings,
            mqttTopic=st.just("volttron/metering"),
            receivedAt=times,
            raw=st.just({"a": 1}),
        ),
        st.builds(
            AckReceived,
            venId=ids,
            ack=acks,
            mqttTopic=st.just("ven/ack/x"),
            receivedAt=times,
            raw=st.just({}),
        ),
    )
)
def test_fact_survives_kafka_encoding(payload) -> None:
    fact = new_fact(payload)
    decoded = decode_fact(encode_fact(fact))
    assert decoded == fact
    assert type(decoded.payload) is type(payload)
    assert decoded.key == payload.key()


def test_every_fact_type_names_a_known_topic() -> None:
    from dr_contracts.topics import DEFAULT_PARTITIONS

    assert {cls.TOPIC for cls in FACT_TYPES.values()} == set(DEFAULT_PARTITIONS)
