"""Folding command facts in any order keeps what each fact said (docs/mutation.md)."""

import pytest

from dispatcher.domain.ledger import CommandLedger
from tests.unit.dispatcher.fakes import T0

pytestmark = pytest.mark.unit


def issue(ledger: CommandLedger, attempt: int = 1, partition: int | None = None) -> None:
    ledger.issued(
        "c1",
        "v1",
        "event",
        event_id="e1",
        payload={"k": 1},
        issued_at=T0,
        attempt=attempt,
        partition=partition,
    )


def test_later_facts_update_the_same_record():
    ledger = CommandLedger()
    issue(ledger)
    ledger.acked("c1", "v1", "event", "ok")
    rec = ledger.get("c1")
    assert rec is not None
    assert (rec.attempts, rec.event_id, rec.ack_status) == (1, "e1", "ok")


def test_a_requested_command_keeps_its_op_and_partition_until_issued_says_otherwise():
    ledger = CommandLedger()
    rec = ledger.requested("c1", "v1", "restore", {"k": 1}, partition=3)
    assert (rec.op, rec.partition) == ("restore", 3)
    issue(ledger)
    assert rec.partition == 3
    issue(ledger, attempt=2, partition=5)
    assert rec.partition == 5


@pytest.mark.parametrize("first", ["acked", "timed_out"])
def test_an_answer_read_before_its_command_still_names_the_ven_and_op(first):
    ledger = CommandLedger()
    if first == "acked":
        ledger.acked("c1", "v1", "restore", "ok")
    else:
        ledger.timed_out("c1", "v1", "restore", attempts=3)
    rec = ledger.get("c1")
    assert rec is not None
    assert (rec.ven_id, rec.op) == ("v1", "restore")
