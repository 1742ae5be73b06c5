"""What a batch keeps for each key, not only how many keys (docs/mutation.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dr_contracts.facts import CommandRequested, PayloadRejected, new_fact
from ingest.domain.readings import reading_from
from tests import samples
from tests.unit.ingest.test_batch import T0, ack, batch_of, reading

pytestmark = pytest.mark.unit

RESTORE = {"op": "restore", "status": "success", "ts": samples.TS}
PING = {"op": "ping", "status": "success", "pong": True, "ts": samples.TS}


def test_the_first_copy_of_a_reading_is_kept_and_is_the_newest():
    first = reading("ven-1", samples.TS, T0)
    b = batch_of(first, reading("ven-1", samples.TS, T0, "ven/telemetry/ven-1"))
    kept = b.readings[("ven-1", b.latest["ven-1"].ts)]
    assert kept is b.latest["ven-1"]
    assert kept == reading_from(first.payload, first.factId, T0)


def test_a_reading_added_as_such_is_kept():
    r = reading_from(reading("ven-1", samples.TS, T0).payload, "f1", T0)
    assert batch_of(r).latest["ven-1"] is r


def test_acks_are_kept_by_fact_id_and_the_first_received_answers():
    early = ack(samples.ack_b("c1"), received=T0)
    late = ack(samples.ack_b("c1", note="again"), received=T0 + timedelta(seconds=3))
    same_time = ack(samples.ack_b("c1", note="twin"), received=T0)
    b = batch_of(early, late, same_time)
    assert b.acks[early.factId] is early.payload
    assert b.first_acks["c1"] is early.payload


def test_shed_loads_follow_the_newest_ack_whatever_the_order():
    b = batch_of(ack(RESTORE | {"ts": samples.TS + 60}), ack(samples.ack_b()))
    assert b.shed["ven-1"].load_ids == []
    tie = batch_of(ack(samples.ack_b() | {"ts": samples.TS}), ack(RESTORE))
    assert tie.shed["ven-1"].load_ids == []  # same time: the later in the log wins


def test_an_ack_that_sheds_nothing_records_no_shed():
    assert "ven-1" not in batch_of(ack(PING)).shed


def test_the_first_request_and_every_rejection_are_kept():
    first = CommandRequested(venId="ven-1", correlationId="c1", op="ping", payload={"n": 1})
    again = CommandRequested(venId="ven-1", correlationId="c1", op="ping", payload={"n": 2})
    rejected = PayloadRejected(
        mqttTopic="ven/telemetry/x", code="bad_json", reason="r", receivedAt=T0, sizeBytes=1, rawB64=""
    )
    facts = [new_fact(first), new_fact(again), new_fact(rejected, occurred_at=T0)]
    b = batch_of(*facts)
    assert b.requested == {"c1": first}
    assert b.rejections == {facts[2].factId: (rejected, T0)}
